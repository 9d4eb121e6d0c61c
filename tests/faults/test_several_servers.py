"""Several servers on one machine, as a deployment runs them on several: Debian's nginx with the shipped proxy
configuration (deploy/nginx/dti-proxy.conf) in front of two gunicorn app servers on their own ports, a job
worker, PostgreSQL and Redis. A request may land on either app server: the submissions through nginx are all
stored once, the rate limits are counted once for both (in Redis), an evidence file uploaded through one server
downloads through the other (in PostgreSQL), a job asked for through one server is run by the worker and followed
through the other, a published run's JSON is kept by nginx, and `flask doctor` finds the deployment whole."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey_app.core.extensions import db
from tests.conftest import CITIZEN_ANSWERS, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SUBMISSIONS = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        pytest.fail("nginx is missing: run the tests with `make test`, which installs it")
    return found


class Browser:
    """A client that keeps its cookies, as a browser does, talking to one address."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def exchange(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, dict(response.getheaders()), data
        finally:
            connection.close()

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        body = None if form is None else urllib.parse.urlencode(form, doseq=True).encode()
        status, headers, data = self.exchange(
            method, path, body, None if form is None else "application/x-www-form-urlencoded"
        )
        return status, headers, data.decode("utf-8", "replace")

    def upload(self, path: str, form: dict, field: str, filename: str, content: bytes) -> tuple[int, dict, bytes]:
        """Post a form with a file, as a browser's multipart/form-data."""
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in form.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.exchange("POST", path, b"".join(parts), f"multipart/form-data; boundary={boundary}")

    def token(self, path: str) -> str:
        return re.search(r'name="csrf-token" content="([^"]+)"', self.request("GET", path)[2]).group(1)


def _submit(port: int, key: str, submission_id: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            "/api/v1/fieldworks/invited/responses",
            body=json.dumps({"submission_id": submission_id, "unit": "01", "answers": CITIZEN_ANSWERS}),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        return connection.getresponse().status
    finally:
        connection.close()


def _wait_for(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"{what} stopped"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.2)


def _wait_closed(port: int) -> None:
    """Until nothing answers on the port: a killed worker holds it a moment after its master is gone, and a new
    server found "listening" then would be the dying one."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            return
        assert time.monotonic() < deadline, f"port {port} still answers after its server was killed"
        time.sleep(0.05)


@pytest.fixture
def deployment(app, survey, create_user, database_url, tmp_path):
    """nginx → two app servers, a job worker, PostgreSQL and Redis; yields (nginx's port, API key, admin)."""
    import redis

    from survey_app.survey import operations as collection

    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.fail("TEST_REDIS_URL is not set: run the tests with `make test`, which starts Redis")
    redis.Redis.from_url(redis_url).flushall()
    _, key = collection.create_api_key("partner", [survey.invited], actor=None)
    admin = create_user("administrator", email="admin@servers.example.gov.vn")
    db.session.commit()

    environment = os.environ | {
        "FLASK_APP": "wsgi",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "several-servers-secret-key-of-forty-characters",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": redis_url.rsplit("/", 1)[0] + "/2",
        "JOBS_BROKER_URL": redis_url,
        "TRUSTED_PROXIES": "1",
        "LOGIN_RATE_LIMIT": "5 per 5 minutes",
        "SESSION_COOKIE_SECURE": "0",
        "HSTS": "0",
    }
    processes: list[subprocess.Popen] = []
    app_ports = [_free_port(), _free_port()]
    try:

        def start_app(number: int) -> subprocess.Popen:
            return subprocess.Popen(
                [str(BIN / "gunicorn"), "--workers", "1", "--threads", "2", "--bind", f"127.0.0.1:{app_ports[number]}",
                 "wsgi:app"],
                cwd=ROOT, env=environment, stdout=subprocess.DEVNULL,
                stderr=open(tmp_path / f"app{number + 1}.log", "ab"), start_new_session=True,
            )  # fmt: skip

        processes.extend(start_app(number) for number in range(2))
        processes.append(
            subprocess.Popen(
                [str(BIN / "flask"), "jobs", "worker"],
                cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "worker.log", "wb"),
            )
        )  # fmt: skip
        nginx_port = _free_port()
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        upstream = "\n".join(f"    server 127.0.0.1:{port};" for port in app_ports)
        # run by root (CI), nginx's workers would drop to "nobody", who cannot write the test's folder: its cache
        (prefix / "nginx.conf").write_text(
            f"""
{"user root;" if os.getuid() == 0 else ""}
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    # which app server answered each request (nginx writes it, whatever happens to the app servers)
    log_format upstream '$upstream_addr $status';
    access_log {prefix}/access.log upstream;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    proxy_cache_path {prefix}/cache keys_zone=dti_published:1m;
    upstream dti_app {{
        least_conn;
{upstream}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{nginx_port};
        client_max_body_size 17m;
        include {ROOT}/deploy/nginx/dti-proxy.conf;
    }}
}}
"""
        )
        processes.append(
            subprocess.Popen(
                [_nginx(), "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=open(prefix / "stderr.log", "wb"),
            )
        )  # fmt: skip
        for port, process, what in zip(
            [*app_ports, nginx_port], [*processes[:2], processes[3]], ["app 1", "app 2", "nginx"]
        ):
            _wait_for(port, process, what)  # fmt: skip

        def restart(number: int) -> str:
            """Kill an app server outright (SIGKILL, its requests in flight) and start it again. Its master and
            worker go together, as on a machine that fails: a worker left alive would keep the port, and the new
            server could not bind it."""
            os.killpg(processes[number].pid, signal.SIGKILL)
            processes[number].wait(10)
            _wait_closed(app_ports[number])
            processes[number] = start_app(number)
            _wait_for(app_ports[number], processes[number], f"app {number + 1} again")
            return f"pid {processes[number].pid}"

        yield nginx_port, key, admin, environment, tmp_path, restart, app_ports
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def _self_assessed_value(survey) -> int:
    """A unit's reported value in an open round, which an administrator may give evidence."""
    from survey_app.rounds import operations as rounds
    from survey_app.scoring import channel_inputs
    from survey_app.units import operations as units

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    evaluation = rounds.create_round(
        "servers-2023", 2023, "DTI 2023", "DTI 2023", survey.framework, unit_list, actor=None
    )
    value = channel_inputs.report_value(
        evaluation, survey.units[0], "AW.1", "có", evidence="", explanation="x", actor=None
    )
    db.session.commit()
    return value.id


def test_two_app_servers_behind_nginx_share_the_database_the_limits_the_files_and_the_jobs(deployment, survey):
    from survey_app.scoring.models import EvidenceDocument
    from survey_app.survey.models import Response

    port, key, admin, environment, tmp_path, deployment_restart, app_ports = deployment
    # 1. submissions from several clients through nginx while one app server is killed and started again; a
    # client retries a submission with its identifier until it is acknowledged
    acknowledged: set[str] = set()
    outcomes: list = []
    lock = threading.Lock()

    def client(number: int) -> None:
        for count in range(SUBMISSIONS // 6):
            submission_id = f"s{number}-{count}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    status = _submit(port, key, submission_id)
                except (OSError, http.client.HTTPException) as error:
                    status = type(error).__name__
                with lock:
                    outcomes.append(status)
                if status in (200, 201):
                    with lock:
                        acknowledged.add(submission_id)
                    break
                time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    restarted = deployment_restart(0)
    for thread in threads:
        thread.join(180)
    db.session.expire_all()
    rows = db.session.execute(select(Response.submission_id, func.count()).group_by(Response.submission_id)).all()
    stored = dict(rows)
    lost = acknowledged - set(stored)
    twice = [submission for submission, count in stored.items() if count > 1]
    print(
        f"\nseveral servers: submitted {SUBMISSIONS}, acknowledged {len(acknowledged)}, stored {len(stored)}, "
        f"lost {len(lost)}, stored twice {len(twice)}; app server 1 killed and restarted ({restarted}); "
        f"answers {dict(Counter(map(str, outcomes)))}"
    )
    assert len(acknowledged) == SUBMISSIONS and not lost and not twice and len(stored) == SUBMISSIONS
    answered = Counter(line.split()[0] for line in (tmp_path / "nginx" / "access.log").read_text().splitlines())
    served = [answered[f"127.0.0.1:{port}"] for port in app_ports]
    assert min(served) > 0, served  # both servers took a share

    # (an administrator logs in before part 3 spends the account's failed logins)
    staff = Browser(port)
    status, _, _ = staff.request(
        "POST", "/login", {"email": admin.email, "password": PASSWORD, "csrf_token": staff.token("/login")}
    )
    assert status == 302

    # 2. an evidence file uploaded through app server 1 (its own port) downloads through app server 2: the bytes
    # are in the database, not on the disk of the server that took them; 2.5 MB, so the download is three reads
    assessment_id = _self_assessed_value(survey)
    officer = Browser(app_ports[0])
    status, _, _ = officer.request(
        "POST", "/login", {"email": admin.email, "password": PASSWORD, "csrf_token": officer.token("/login")}
    )
    assert status == 302
    document = b"%PDF-1.4\n" + os.urandom(2_500_000) + b"\n%%EOF\n"
    status, _, _ = officer.upload(
        f"/scoring/assessments/{assessment_id}/evidence",
        {"csrf_token": officer.token("/dashboard")},
        "document",
        "QD 7.pdf",
        document,
    )
    assert status == 302
    db.session.expire_all()
    stored = db.session.scalar(select(EvidenceDocument).where(EvidenceDocument.assessment_id == assessment_id))
    assert stored is not None and stored.size == len(document)
    officer.port = app_ports[1]
    status, headers, downloaded = officer.exchange("GET", f"/scoring/evidence/{stored.id}")
    print(
        f"several servers: evidence uploaded through app server 1 ({len(document)} bytes), downloaded through app "
        f"server 2: {len(downloaded)} bytes, {'equal' if downloaded == document else 'DIFFERENT'}"
    )
    assert status == 200 and downloaded == document
    assert headers["Content-Disposition"].startswith("attachment;") and headers["X-Content-Type-Options"] == "nosniff"

    # 3. failed logins are counted once for both servers: the sixth is refused whichever answers it
    stranger = Browser(port)
    outcomes = []
    for _ in range(7):
        token = stranger.token("/login")
        status, _, _ = stranger.request(
            "POST", "/login", {"email": admin.email, "password": "wrong password", "csrf_token": token}
        )
        outcomes.append(status)
    assert outcomes[:5] == [200] * 5 or all(status in (200, 400) for status in outcomes[:5]), outcomes
    assert outcomes[5:] == [429, 429], outcomes

    # 4. a job asked for through nginx (either server) is run by the worker and followed through the other
    probe = subprocess.run(
        [str(BIN / "flask"), "jobs", "probe", "--steps", "2", "--seconds", "0.05"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stdout + probe.stderr
    job_id = re.search(r"(\d+)", probe.stdout).group(1)
    pages = [staff.request("GET", f"/jobs/{job_id}") for _ in range(4)]
    assert all(status == 200 and 'data-state="done"' in page for status, _, page in pages)

    # 5. a published run's JSON is kept by nginx: the second reader is served from its cache
    from tests.app.publication.test_methodology import _published_round

    evaluation, _ = _published_round()
    reader = Browser(port)
    answers = [reader.request("GET", f"/api/v1/results/{evaluation.code}") for _ in range(2)]
    caches = [headers.get("X-Cache") for _, headers, _ in answers]
    assert [status for status, _, _ in answers] == [200, 200] and caches == ["MISS", "HIT"], caches

    # 6. the deployment is whole
    doctor = subprocess.run(
        [str(BIN / "flask"), "doctor"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "FAIL" not in doctor.stdout and "giới hạn tần suất" in doctor.stdout
