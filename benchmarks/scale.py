"""Benchmark: a national fieldwork through the service. Loads N valid citizen responses over the 63 provinces
into PostgreSQL by COPY, then, through the service under gunicorn, times the fieldwork dashboard, the review
of flagged responses, each export (CSV, SPSS, Stata, Excel), a weighting run, a scoring run of the round that
reads it, and reading the weighting run; beside them, in
the same run on the same server, the baselines: PostgreSQL's ``COPY (SELECT …) TO STDOUT`` of the exported
columns and a bare SQL ``GROUP BY`` of the dashboard's counts.

    bash scripts/with-postgres.sh .venv/bin/python benchmarks/scale.py [--n 1000000] [--workers 2]
        [--formats csv,sav,dta,xlsx]

(with-postgres.sh starts a throw-away PostgreSQL and sets TEST_DATABASE_URL; DATABASE_URL works too.)
Prints, for each action (each on freshly started workers, so that memory one export kept does not count
against the next), its seconds, the bytes sent, the seconds to the first byte and the peak resident memory
of the workers (Linux: VmHWM, reset before each request), then every target of issue 22 as met or NOT met.
An export of more than EXPORT_INLINE_MAX_ROWS responses is timed as staff get it: from the link, through the
form that asks for its job and the job's page, to the stored file's last byte (the job runs in a worker's
thread without JOBS_BROKER_URL, so the workers' peak counts it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from submit import ROOT, _free_port, _serve, database_url  # noqa: E402

FIELDWORK = "scale"
ROUND = "scale-2023"
ANALYST = ("analyst@scale.bench", "scale-bench-analyst-2023")
#: distinct answer sets drawn from; each row picks one, so that making a million rows costs little
TEMPLATES = 4096
#: the targets of issue 22 at 1,000,000 responses
PAGE_SECONDS = 1.0
CSV_SHARE_OF_COPY = 0.5
WORKER_PEAK_MB = 400
WEIGHTING_SECONDS = 10
#: the longest any request may take at 1M (the rest runs as jobs)
REQUEST_SECONDS = 2.0


def prepare(url: str) -> dict:
    """Migrate, publish the demo's citizen questionnaire and open a fieldwork over the 63 provinces; an analyst
    to log in as. Returns the ids the loader needs."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "FLASK_APP": "wsgi"}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    sys.path.insert(0, str(ROOT))
    from questionnaires import RespondentGroup, read_bank, read_yaml
    from survey_app.accounts import operations as accounts
    from survey_app.accounts.models import Role
    from survey_app.core.app import create_app
    from survey_app.core.demo import demo_bank_path, demo_framework_path
    from survey_app.core.extensions import db
    from survey_app.frameworks import operations as frameworks
    from survey_app.rounds import operations as rounds
    from survey_app.survey import operations as collection
    from survey_app.survey.models import FieldworkMode
    from survey_app.units import operations as units

    app = create_app()
    with app.app_context():
        provinces = units.load_shipped_unit_lists()["provinces-2019"].units
        framework, _ = frameworks.store_framework(read_yaml(demo_framework_path()), actor=None)
        published, _ = collection.publish_questionnaire(
            framework,
            RespondentGroup.CITIZENS,
            read_bank(demo_bank_path()),
            code="scale-citizens",
            name_vi="Phiếu người dân",
            name_en="Citizens",
            actor=None,
        )
        unit_list = units.load_shipped_unit_lists()["provinces-2019"]
        # the round the fieldwork feeds: the scoring run reads its weighting run's estimates
        evaluation = rounds.create_round(
            ROUND, 2023, "Quy mô quốc gia", "National scale", framework, unit_list, actor=None
        )
        fieldwork = collection.create_fieldwork(
            FIELDWORK,
            published,
            FieldworkMode.OPEN_LINK,
            list(provinces),
            name_vi="Quy mô quốc gia",
            evaluation_round=evaluation,
            actor=None,
        )
        accounts.create_user(ANALYST[0], "Analyst", Role.SCORING_OFFICER, ANALYST[1])
        db.session.commit()
        return {
            "fieldwork": fieldwork.id,
            "questionnaire": published.id,
            "units": [(unit.id, unit.code) for unit in provinces],
            "parsed": published.questionnaire,
        }


def _templates(questionnaire, rng) -> list[tuple[str, str, str, str]]:
    """Answer sets like the demo's (an attention check failed now and then): (answers, flags, stratum, sex)
    as stored, the flags found by the service's own rule."""
    from questionnaires import quality_flags

    made = []
    for _ in range(TEMPLATES):
        p = rng.uniform(0.3, 0.9)
        used = bool(rng.random() < p)
        urban, sex = ("urban", "rural")[rng.integers(2)], ("female", "male")[rng.integers(2)]
        answers = {
            "q_aw3": "yes" if rng.random() < p else "no",
            "q_infra2": "yes" if rng.random() < p else "no",
            "q_hr2": [c for c in ("email", "search", "payment") if rng.random() < p] or ["none"],
            "q_dg3": "yes" if used else "no",
            "q_ds1": "yes" if rng.random() < p else "no",
            "q_ds2": "yes" if rng.random() < p else "no",
            "attention": "agree" if rng.random() < 0.97 else "disagree",
            "urban": urban,
            "sex": sex,
            "age": ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")[rng.integers(6)],
        }
        if used:
            answers["q_dg4"] = str(int(rng.integers(1, 6)))
        flags = [str(flag) for flag in quality_flags(questionnaire, answers, None, None)]
        made.append((json.dumps(answers), json.dumps(flags), f"{urban} | {sex}", sex))
    return made


def load(url: str, ids: dict, n: int) -> float:
    """N responses by COPY, spread over the provinces; returns the seconds taken (with VACUUM ANALYZE, as
    autovacuum would leave the table)."""
    import psycopg

    rng = np.random.default_rng(22)
    templates = _templates(ids["parsed"], rng)
    units = ids["units"]
    started = time.perf_counter()
    unit_of = rng.integers(len(units), size=n)
    template_of = rng.integers(len(templates), size=n)
    durations = np.maximum(rng.lognormal(np.log(420), 0.45, size=n), 30).round(1)
    # a submission every 3 seconds from the first of June: every response its own time, as in the field
    submitted = np.datetime64("2023-06-01T08:00:00") + np.arange(n) * np.timedelta64(3, "s")
    submitted_at = submitted.astype(str)
    started_at = (submitted - durations.astype("timedelta64[s]")).astype(str)
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection:
        with connection.cursor() as cursor:
            with cursor.copy(
                "COPY responses (fieldwork_id, questionnaire_id, unit_id, submission_id, payload_hash, answers, "
                "stratum, source, started_at, submitted_at, duration_seconds, flags, excluded) FROM STDIN"
            ) as copy:
                buffer = io.StringIO()
                for row in range(n):
                    answers, flags, stratum, _ = templates[template_of[row]]
                    unit_id = units[unit_of[row]][0]
                    buffer.write(
                        f"{ids['fieldwork']}\t{ids['questionnaire']}\t{unit_id}\tscale-{row}\t{row:064x}\t"
                        f"{answers}\t{stratum}\tweb\t{started_at[row]}+00\t{submitted_at[row]}+00\t"
                        f"{durations[row]}\t{flags}\tf\n"
                    )
                    if row % 20000 == 19999:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE responses")
    return time.perf_counter() - started


def baselines(url: str, fieldwork_id: int) -> dict:
    """The database's own speed on the same data: COPY of the exported columns, and the dashboard's counts."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    found = {}
    with psycopg.connect(plain) as connection:
        started, size, rows = time.perf_counter(), 0, 0
        with connection.cursor().copy(
            "COPY (SELECT r.id, u.code, r.submitted_at, r.duration_seconds, r.source, r.flags, r.excluded, r.answers "
            f"FROM responses r JOIN units u ON u.id = r.unit_id WHERE r.fieldwork_id = {fieldwork_id} ORDER BY r.id) "
            "TO STDOUT WITH (FORMAT csv, HEADER)"
        ) as copy:
            for block in copy:
                size += len(block)
                rows += bytes(block).count(b"\n")
        found["copy"] = (time.perf_counter() - started, size, rows - 1)
        started = time.perf_counter()
        connection.execute(
            "SELECT unit_id, count(*), count(*) FILTER (WHERE excluded), "
            "count(*) FILTER (WHERE jsonb_array_length(flags) > 0), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_seconds) "
            f"FROM responses WHERE fieldwork_id = {fieldwork_id} GROUP BY unit_id"
        ).fetchall()
        found["group_by"] = time.perf_counter() - started
    return found


def _workers(master: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


def _status(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) * 1024 if match else 0


class Peak:
    """The highest resident memory of any worker during a request: VmHWM after resetting it (Linux's
    clear_refs), and, should that be refused, the highest VmRSS seen every 20 ms."""

    def __init__(self, master: int):
        self.workers = _workers(master)
        self.seen = 0
        self._stop = threading.Event()

    def __enter__(self):
        self.start = max([0] + [_status(pid, "VmRSS") for pid in self.workers])
        for pid in self.workers:
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                pass
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.02):
            self.seen = max([self.seen] + [_status(pid, "VmRSS") for pid in self.workers])

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max([self.seen] + [_status(pid, "VmHWM") for pid in self.workers])


def login(base: str):
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/login",
        data={"csrf_token": token, "email": ANALYST[0], "password": ANALYST[1]},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login refused: {answer.status_code}")
    return session


def timed(session, master: int, method: str, url: str, **options) -> dict:
    """One request, its body read as it comes."""
    with Peak(master) as peak:
        started = time.perf_counter()
        answer = session.request(method, url, stream=True, allow_redirects=False, **options)
        first, size = None, 0
        for block in answer.iter_content(1 << 16):
            if first is None:
                first = time.perf_counter() - started
            size += len(block)
        seconds = time.perf_counter() - started
    return {
        "status": answer.status_code,
        "seconds": seconds,
        "first_byte": first if first is not None else seconds,
        "bytes": size,
        "peak_mb": peak.peak / 2**20,
        "start_mb": peak.start / 2**20,
        "location": answer.headers.get("Location", ""),
    }


def timed_job(session, master: int, base: str, results: dict, what: str, url: str, **options) -> str:
    """Ask for a job (a POST to ``url``) and time it from the request to the job's end, as the job's page shows
    it: ``results["<what> run"]`` is the request, ``results["<what> job"]`` the whole. The address of what the
    job made."""
    started = time.perf_counter()
    results[f"{what} run"] = timed(session, master, "POST", url, timeout=3600, **options)
    _print(f"{what} run (request)", results[f"{what} run"])
    location = job_result(session, base, results[f"{what} run"]["location"], f"the {what} run")
    results[f"{what} job"] = {**results[f"{what} run"], "seconds": time.perf_counter() - started}
    _print(f"{what} run (job)", results[f"{what} job"])
    return location


def job_result(session, base: str, job: str, what: str) -> str:
    """Follow a job's page (as staff do) until the job ends; the address of what it made."""
    job = base + job if job.startswith("/") else job
    while True:
        page = session.get(job, timeout=600).text
        state = re.search(r'data-state="(\w+)"', page).group(1)
        if state in ("done", "failed", "cancelled"):
            break
        time.sleep(0.2)
    link = re.search(r'id="job-result" href="([^"]+)"', page)
    if link is None:
        raise RuntimeError(f"{what}'s job ended {state}")
    return link.group(1)


def exported(session, master: int, base: str, fmt: str) -> dict:
    """An export as staff get it: the link; past EXPORT_INLINE_MAX_ROWS responses its page's form asks for a
    job, whose page is followed until it links to the file, which is then downloaded. The seconds run from the
    link to the file's last byte; ``ready`` is when the job's page linked to the file."""
    with Peak(master) as peak:
        started = time.perf_counter()
        answer = session.get(f"{base}/fieldwork/{FIELDWORK}/responses.{fmt}", stream=True, timeout=3600)
        ready = None
        if answer.headers.get("Content-Type", "").startswith("text/html"):
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', answer.text).group(1)
            asked = session.post(
                f"{base}/fieldwork/{FIELDWORK}/exports",
                data={"csrf_token": token, "fmt": fmt},
                allow_redirects=False,
                timeout=600,
            )
            link = job_result(session, base, asked.headers["Location"], f"the {fmt} export")
            ready = time.perf_counter() - started
            answer = session.get(base + link, stream=True, timeout=3600)
        first, size = None, 0
        for block in answer.iter_content(1 << 16):
            if first is None:
                first = time.perf_counter() - started
            size += len(block)
        seconds = time.perf_counter() - started
    return {
        "status": answer.status_code,
        "seconds": seconds,
        "first_byte": first if first is not None else seconds,
        "bytes": size,
        "peak_mb": peak.peak / 2**20,
        "start_mb": peak.start / 2**20,
        "location": "",
        "ready": ready,
    }


@contextmanager
def serving(env: dict, workers: int):
    """The service under gunicorn on a free port, and a session logged in as the analyst."""
    port = _free_port()
    server = _serve("wsgi:app", port, workers, 1, env)
    base = f"http://127.0.0.1:{port}"
    try:
        yield server, base, login(base)
    finally:
        server.terminate()
        server.wait()


def population(units: list[tuple[int, str]]) -> bytes:
    """Adults of every province by sex, for the weighting run."""
    rng = np.random.default_rng(63)
    lines = ["unit,sex,population"]
    for _, code in units:
        total = int(rng.integers(400_000, 6_000_000))
        lines += [f"{code},female,{total // 2 + 1000}", f"{code},male,{total // 2 - 1000}"]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="responses to load")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--formats", default="csv,sav,dta,xlsx", help="the exports to time (comma-separated)")
    options = parser.parse_args()
    url = database_url()
    ids = prepare(url)
    loaded = load(url, ids, options.n)
    print(f"loaded {options.n:,} responses over {len(ids['units'])} provinces by COPY in {loaded:.1f} s")
    base_figures = baselines(url, ids["fieldwork"])
    copy_seconds, copy_bytes, copy_rows = base_figures["copy"]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "SESSION_COOKIE_SECURE": "0",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "PYTHONPATH": str(ROOT),
    }
    results = {}
    actions = [
        ("dashboard", "GET", f"/fieldwork/{FIELDWORK}", {}),
        ("review", "GET", f"/fieldwork/{FIELDWORK}/review", {}),
        ("review, page 50", "GET", f"/fieldwork/{FIELDWORK}/review?page=50", {}),
    ]
    for name, method, path, extra in actions:
        with serving(env, options.workers) as (server, base, session):
            # a page as staff see it day to day: the workers' first requests (templates compiled, the
            # questionnaire parsed, connections opened) are shown apart
            cold = timed(session, server.pid, method, base + path, timeout=600)
            _print(f"{name} (cold)", cold)
            for _ in range(2 * options.workers):
                timed(session, server.pid, method, base + path, timeout=600)
            results[name] = timed(session, server.pid, method, base + path, timeout=3600, **extra)
        _print(name, results[name])
    for fmt in options.formats.split(","):
        # fresh workers for every export: memory one export kept does not count against the next
        with serving(env, options.workers) as (server, base, session):
            results[f"export {fmt}"] = exported(session, server.pid, base, fmt)
        _print(f"export {fmt}", results[f"export {fmt}"])
    with serving(env, options.workers) as (server, base, session):
        form = session.get(f"{base}/fieldwork/{FIELDWORK}/weighting").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        location = timed_job(
            session,
            server.pid,
            base,
            results,
            "weighting",
            f"{base}/fieldwork/{FIELDWORK}/weighting",
            data={"csrf_token": token, "margins": ["sex"], "method": "rake", "count": "population"},
            files={"file": ("population.csv", population(ids["units"]), "text/csv")},
        )
        # a scoring run on the round, which reads the weighting run's estimates: every criterion proposed for
        # exclusion kept (units without data score 0 on it), asked for as an officer does and timed to its end
        page = session.get(f"{base}/scoring/{ROUND}").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        kept = re.findall(r'name="kept"[^>]*value="([^"]+)"', page)
        timed_job(
            session,
            server.pid,
            base,
            results,
            "scoring",
            f"{base}/scoring/{ROUND}/runs",
            data={"csrf_token": token, "kept": kept, "normalisation": "none", "exclusion": "redistribute"},
        )
    if location:
        with serving(env, options.workers) as (server, base, session):
            results["reading the run"] = timed(
                session, server.pid, "GET", base + location if location.startswith("/") else location, timeout=600
            )
        _print("reading the run", results["reading the run"])
    copy_mb = copy_bytes / 2**20
    print(
        f"baseline  COPY (SELECT …) TO STDOUT  {copy_seconds:8.2f} s  {copy_mb:9.1f} MB  "
        f"{copy_rows / copy_seconds:12,.0f} rows/s"
    )
    print(f"baseline  SQL GROUP BY of the counts {base_figures['group_by']:8.2f} s")
    scale = f" (targets are set at 1,000,000 responses; this run has {options.n:,})" if options.n != 1_000_000 else ""
    print(f"targets{scale}:")
    copy_rate = copy_rows / copy_seconds
    targets = [
        (
            f"dashboard < {PAGE_SECONDS} s",
            results["dashboard"]["seconds"] < PAGE_SECONDS and results["dashboard"]["status"] == 200,
        ),
        (
            f"review < {PAGE_SECONDS} s",
            results["review"]["seconds"] < PAGE_SECONDS and results["review"]["status"] == 200,
        ),
    ]
    if "export csv" in results:
        # from the link to the file's last byte: a large export's job, its file stored and downloaded
        csv_rate = options.n / results["export csv"]["seconds"]
        targets.append(
            (
                f"CSV export ≥ {CSV_SHARE_OF_COPY}× COPY's rows per second ({csv_rate:,.0f} against {copy_rate:,.0f})",
                csv_rate >= CSV_SHARE_OF_COPY * copy_rate,
            )
        )
    for fmt in options.formats.split(","):
        figures = results[f"export {fmt}"]
        targets.append(
            (
                f"{fmt} export's worker peak < {WORKER_PEAK_MB} MB ({figures['peak_mb']:.0f} MB)",
                figures["peak_mb"] < WORKER_PEAK_MB,
            )
        )
    if "export xlsx" in results:
        figures = results["export xlsx"]
        targets.append(("Excel export completes", figures["status"] == 200 and figures["bytes"] > 0))
    if "weighting job" in results:
        seconds = results["weighting job"]["seconds"]
        targets.append((f"weighting job < {WEIGHTING_SECONDS} s ({seconds:.1f} s)", seconds < WEIGHTING_SECONDS))
        request = max(results["weighting run"]["seconds"], results.get("scoring run", {}).get("seconds", 0))
        targets.append(
            (f"nothing over {REQUEST_SECONDS} s inside a request (asking for the weighting or the scoring run: "
             f"{request:.2f} s at most)", request < REQUEST_SECONDS)
        )  # fmt: skip
    if "scoring job" in results:
        targets.append(
            (f"the scoring run on the weighting completes ({results['scoring job']['seconds']:.1f} s)",
             results["scoring job"]["status"] == 302)
        )  # fmt: skip
    for name, met in targets:
        print(f"  {'met    ' if met else 'NOT met'}  {name}")


def _print(name: str, figures: dict) -> None:
    ready = f"  file ready {figures['ready']:7.2f} s" if figures.get("ready") is not None else ""
    print(
        f"{name:25} {figures['status']}  {figures['seconds']:8.2f} s  first byte {figures['first_byte']:7.2f} s  "
        f"{figures['bytes'] / 2**20:9.1f} MB  worker peak {figures['peak_mb']:7.0f} MB "
        f"(at start {figures['start_mb']:.0f} MB){ready}",
        flush=True,
    )


if __name__ == "__main__":
    main()
