"""Benchmark: complete 40-question responses posted by concurrent clients to the service under gunicorn on
PostgreSQL, against a bare baseline (a minimal WSGI app that only inserts the same answers with psycopg) in
the same run, on the same server and the same number of gunicorn workers.

    PG_DURABLE=1 bash scripts/with-postgres.sh .venv/bin/python benchmarks/submit.py [--clients 32] [--seconds 30]

(with-postgres.sh starts a throw-away PostgreSQL and sets TEST_DATABASE_URL; DATABASE_URL works too.
PG_DURABLE=1 gives it production's durability, fsync and synchronous commit, which the test suite's server
turns off: a benchmark of acknowledged writes means nothing without them.)
The two servers take turns (``--rounds``, who goes first alternating) so that the database's work after
a phase and the machine's drift fall on both alike; the ratio judged is the median of the rounds' (each round's
pair, one server after the other). Prints, for each: sustained submissions per second, p50
and p99 latency, errors, whether every acknowledged response is in the database exactly once, and the CPU
the gunicorn workers spent per submission (on Linux), a figure the other work on a shared machine disturbs
less than throughput.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _questionnaire():
    from questionnaires import Choice, Question, Questionnaire, QuestionType, RespondentGroup, Section, Text

    scale = tuple(Choice(str(v), Text(str(v), str(v))) for v in range(1, 6))
    questions = []
    for index in range(QUESTIONS):
        kind = (QuestionType.YES_NO, QuestionType.LIKERT, QuestionType.NUMBER, QuestionType.SINGLE)[index % 4]
        questions.append(
            Question(
                code=f"q{index:02d}",
                text=Text(f"Câu hỏi {index}", f"Question {index}"),
                type=kind,
                groups=(RespondentGroup.CITIZENS,),
                criterion=f"C.{index}",
                choices=scale if kind in (QuestionType.LIKERT, QuestionType.SINGLE) else (),
                minimum=0 if kind is QuestionType.NUMBER else None,
                maximum=1000 if kind is QuestionType.NUMBER else None,
            )
        )
    sections = tuple(
        Section(f"S{s}", Text(f"Phần {s}", f"Part {s}"), tuple(questions[s * 10 : (s + 1) * 10])) for s in range(4)
    )
    return Questionnaire("bench", 2023, 1, RespondentGroup.CITIZENS, sections)


def _answers(rng_seed: int) -> dict:
    import random

    rng = random.Random(rng_seed)
    answers = {}
    for index in range(QUESTIONS):
        kind = index % 4
        answers[f"q{index:02d}"] = (
            rng.choice(["yes", "no"])
            if kind == 0
            else str(rng.randint(1, 5))
            if kind in (1, 3)
            else rng.randint(0, 1000)
        )
    return answers


def prepare(database_url: str) -> str:
    """Migrate, publish the 40-question questionnaire, open fieldwork in one unit; return an API key."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench", "FLASK_APP": "wsgi"}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update({"DATABASE_URL": database_url, "SECRET_KEY": "bench"})
    sys.path.insert(0, str(ROOT))
    from questionnaires import document_hash, questionnaire_to_dict
    from survey_app.core.app import create_app
    from survey_app.core.extensions import db
    from survey_app.frameworks import operations as frameworks
    from survey_app.survey import operations as collection
    from survey_app.survey.models import FieldworkMode, PublishedQuestionnaire
    from survey_app.units import operations as units

    app = create_app()
    with app.app_context():
        unit_list = units.load_shipped_unit_lists()["provinces-2019"]
        framework = frameworks.load_shipped_frameworks()[0][0]
        document = questionnaire_to_dict(_questionnaire())
        snapshot = PublishedQuestionnaire(
            code="bench",
            version=1,
            group="citizens",
            name_vi="bench",
            name_en="bench",
            framework=framework,
            document=document,
            content_hash=document_hash(document),
        )
        db.session.add(snapshot)
        fieldwork = collection.create_fieldwork(
            "bench", snapshot, FieldworkMode.INVITATION, unit_list.units[:1], name_vi="bench", actor=None
        )
        _, key = collection.create_api_key("bench", [fieldwork], actor=None)
        db.session.execute(
            db.text(
                "CREATE TABLE IF NOT EXISTS baseline_responses (id bigserial PRIMARY KEY, "
                "submission_id text UNIQUE NOT NULL, unit text NOT NULL, answers jsonb NOT NULL, "
                "submitted_at timestamptz NOT NULL DEFAULT now())"
            )
        )
        db.session.commit()
    return key


def _client(port: int, path: str, headers: dict, deadline: float, seed: int, out: list, acknowledged: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    while time.perf_counter() < deadline:
        submission_id = f"{seed}-{n}-{uuid.uuid4().hex[:8]}"
        body = json.dumps({"submission_id": submission_id, "unit": "01", "answers": _answers(seed * 100000 + n)})
        started = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        out.append((time.perf_counter() - started, status))
        if status == 201:
            acknowledged.append(submission_id)
        n += 1
    connection.close()


def _process(port, path, headers, deadline, threads, seed, queue):
    out, acknowledged = [], []
    workers = [
        threading.Thread(target=_client, args=(port, path, headers, deadline, seed * 1000 + i, out, acknowledged))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put((out, acknowledged))


def drive(port: int, path: str, headers: dict, clients: int, seconds: float) -> tuple[list, list, float]:
    """Post for ``seconds`` from ``clients`` connections spread over processes (the load must not be the
    bottleneck); return the (latency, status) samples, acknowledged identifiers and the elapsed time."""
    processes = max(1, min(clients, 4))
    queue = multiprocessing.Queue()
    started = time.perf_counter()
    deadline = started + seconds
    children = [
        multiprocessing.Process(
            target=_process,
            args=(port, path, headers, deadline, clients // processes + (i < clients % processes), i, queue),
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()
    samples, acknowledged = [], []
    for _ in children:
        out, ack = queue.get()
        samples += out
        acknowledged += ack
    for child in children:
        child.join()
    return samples, acknowledged, time.perf_counter() - started


def _serve(app: str, port: int, workers: int, threads: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )  # the access log, written, not shown
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{app} did not start")


def workers_cpu_seconds(master: int) -> float:
    """The user and system CPU seconds used so far by the worker processes of a gunicorn master (Linux's
    /proc; 0 elsewhere)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # after the command's closing parenthesis: state, ppid, ... utime and stime are the 12th and 13th
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that has just ended
        if int(fields[1]) == master:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster(url: str) -> int | None:
    """The process id of the PostgreSQL server at ``url`` when it runs on this machine and says where its data
    is (a superuser's connection, as with-postgres.sh gives), else None."""
    import psycopg

    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
            folder = connection.execute("SHOW data_directory").fetchone()[0]
        pid = int((Path(folder) / "postmaster.pid").read_text().split()[0])
    except (psycopg.Error, OSError, ValueError, IndexError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def database_cpu_seconds(server: int | None) -> float:
    """The CPU seconds the PostgreSQL server ``server`` (its postmaster's process id) has used so far: its live
    processes', and those that ended (the postmaster adds them to its children's time as it reaps them). The
    other half of a submission's cost (Linux's /proc; 0 when the server is elsewhere)."""
    if server is None:
        return 0.0
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            command, fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        pid, fields = int(command.split(" (", 1)[0]), fields.split()
        # after the command: state, ppid, ...; utime and stime are the 12th and 13th, the children's the next two
        if pid == server:
            ticks += sum(int(value) for value in fields[11:15])
        elif int(fields[1]) == server:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def report(
    name: str,
    samples: list,
    acknowledged: list,
    elapsed: float,
    stored: int,
    distinct: int,
    cpu_seconds: float,
    database_cpu_seconds: float,
) -> dict:
    latencies = sorted(latency for latency, _ in samples)
    errors = sum(1 for _, status in samples if status != 201)
    figures = {
        "submissions_per_second": round(len(acknowledged) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1),
        "errors": errors,
        "acknowledged": len(acknowledged),
        "stored": stored,
        "acknowledged_missing": len(acknowledged) - distinct,
        "cpu_ms_per_submission": round(1000 * cpu_seconds / max(len(acknowledged), 1), 3),
        "database_cpu_ms_per_submission": round(1000 * database_cpu_seconds / max(len(acknowledged), 1), 3),
    }
    print(
        f"{name:9s} {figures['submissions_per_second']:8.1f}/s  p50 {figures['p50_ms']:6.1f} ms  "
        f"p99 {figures['p99_ms']:6.1f} ms  errors {errors}  acknowledged {len(acknowledged)}  stored {stored}  "
        f"missing {figures['acknowledged_missing']}  workers' CPU {figures['cpu_ms_per_submission']:.3f} ms each, "
        f"the database's {figures['database_cpu_ms_per_submission']:.3f} ms"
    )
    return figures


def database_url() -> str:
    """The benchmark's PostgreSQL: scripts/with-postgres.sh's throw-away server, or DATABASE_URL."""
    url = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url:
        sys.exit("Run under scripts/with-postgres.sh or set DATABASE_URL")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30, help="each server's total, over the rounds")
    # gunicorn.conf.py's production settings: a process per core and one more, one thread each
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) + 1)
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--rounds", type=int, default=6, help="turns each server takes, alternating who goes first")
    options = parser.parse_args()
    url = database_url()
    key = prepare(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "API_RATE_LIMIT": "1000000 per minute",
        "PYTHONPATH": str(ROOT),
    }
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    targets = {
        "baseline": ("benchmarks.baseline_app:app", "/responses", {"Content-Type": "application/json"}),
        "service": (
            "wsgi:app",
            "/api/v1/fieldworks/bench/responses",
            {"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        ),
    }
    # both servers run through the whole measurement and take turns in rounds (baseline first, then service
    # first, ...): what the database does after a phase (autovacuum of the rows just written, a checkpoint) and
    # the machine's drift fall on both alike instead of on whichever ran second
    database = postmaster(url)
    ports = {name: _free_port() for name in targets}
    servers = {
        name: _serve(app, ports[name], options.workers, options.threads, env) for name, (app, *_) in targets.items()
    }
    totals = {
        name: {"samples": [], "acknowledged": [], "elapsed": 0.0, "cpu": 0.0, "database_cpu": 0.0} for name in targets
    }
    try:
        for name, (_, path, headers) in targets.items():
            drive(ports[name], path, headers, min(options.clients, 4), 2)  # warm-up
        for turn in range(options.rounds):
            for name in sorted(targets, reverse=bool(turn % 2)):
                _, path, headers = targets[name]
                cpu, database_cpu = workers_cpu_seconds(servers[name].pid), database_cpu_seconds(database)
                samples, acknowledged, elapsed = drive(
                    ports[name], path, headers, options.clients, options.seconds / options.rounds
                )
                totals[name]["cpu"] += workers_cpu_seconds(servers[name].pid) - cpu
                totals[name]["database_cpu"] += database_cpu_seconds(database) - database_cpu
                totals[name]["samples"] += samples
                totals[name]["acknowledged"] += acknowledged
                totals[name]["elapsed"] += elapsed
                totals[name].setdefault("rounds", []).append(len(acknowledged) / elapsed)
    finally:
        for server in servers.values():
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    results = {}
    for name, total in totals.items():
        table = "baseline_responses" if name == "baseline" else "responses"
        with psycopg.connect(plain) as connection:
            stored = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            distinct = connection.execute(
                f"SELECT count(DISTINCT submission_id) FROM {table} WHERE submission_id = ANY(%s)",
                (total["acknowledged"],),
            ).fetchone()[0]
        results[name] = report(
            name,
            total["samples"],
            total["acknowledged"],
            total["elapsed"],
            stored,
            distinct,
            total["cpu"],
            total["database_cpu"],
        )
    overall = results["service"]["submissions_per_second"] / max(results["baseline"]["submissions_per_second"], 1e-9)
    # each round's pair (the two servers one after the other) gives a ratio; the median of them is the figure,
    # so that a round another process on this shared machine disturbed does not decide it
    pairs = zip(totals["service"]["rounds"], totals["baseline"]["rounds"])
    round_ratios = [service / max(baseline, 1e-9) for service, baseline in pairs]
    ratio = statistics.median(round_ratios)
    cpu_ratio = results["baseline"]["cpu_ms_per_submission"] / max(results["service"]["cpu_ms_per_submission"], 1e-9)
    print(
        f"service/baseline throughput: {ratio:.2f}, the median of the rounds' "
        f"({', '.join(f'{each:.2f}' for each in round_ratios)}; all rounds together {overall:.2f}; target ≥ 0.5); "
        f"service p99 {results['service']['p99_ms']} ms (target < 250); "
        f"baseline/service workers' CPU per submission: {cpu_ratio:.2f}"
    )
    print(f"throughput ≥ 0.5 of the baseline: {'met' if ratio >= 0.5 else 'NOT met'} ({ratio:.2f})")
    p99 = results["service"]["p99_ms"]
    print(f"p99 < 250 ms: {'met' if p99 < 250 else 'NOT met'} ({p99} ms)")
    lost = results["service"]["acknowledged_missing"]
    print(f"every acknowledged response stored: {'met' if not lost else 'NOT met'} ({lost} missing)")
    print(
        json.dumps(
            {
                "clients": options.clients,
                "seconds": options.seconds,
                "rounds": options.rounds,
                "workers": options.workers,
                "threads": options.threads,
                "ratio": round(ratio, 3),
                "round_ratios": [round(each, 3) for each in round_ratios],
                "cpu_ratio": round(cpu_ratio, 3),
                **results,
            }
        )
    )


if __name__ == "__main__":
    main()
