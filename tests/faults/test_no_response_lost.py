"""No acknowledged response is ever lost, none is stored twice: gunicorn on a PostgreSQL server of the test's
own (durable settings, as production), clients submitting through the JSON API and retrying with the same
submission identifier, while a worker is killed with SIGKILL, PostgreSQL is stopped and started again, and the
service's role loses its insert permission for a while. Prints the counts.
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.conftest import CITIZEN_ANSWERS

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 8
SEED = """
from survey_app import create_app
from survey_app.core.extensions import db
from questionnaires import RespondentGroup, read_bank, read_yaml
from survey_app.survey.models import FieldworkMode
from survey_app.survey import operations as collection
from survey_app.frameworks import operations as frameworks
from survey_app.units import operations as units
from survey_app.core.demo import demo_bank_path, demo_framework_path

app = create_app()
with app.app_context():
    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    framework, _ = frameworks.store_framework(read_yaml(demo_framework_path()))
    questionnaire, _ = collection.publish_questionnaire(framework, RespondentGroup.CITIZENS,
        read_bank(demo_bank_path()), code="citizens", name_vi="Phiếu người dân", name_en="Citizens", actor=None)
    invited = collection.create_fieldwork("invited", questionnaire, FieldworkMode.INVITATION, unit_list.units[:3],
                                          name_vi="Khảo sát", actor=None)
    _, key = collection.create_api_key("faults", [invited], actor=None)
    db.session.commit()
    print(key)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pg_bin() -> str:
    found = os.environ.get("TEST_PG_BIN") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), None
    )
    if not found:
        pytest.skip("no PostgreSQL binaries")  # make test installs them; this only guards a bare checkout
    return found


class Cluster:
    """A PostgreSQL server the test may stop and start at will."""

    def __init__(self):
        self.bin = _pg_bin()
        self.dir = tempfile.mkdtemp(prefix="dti-faults-", dir="/tmp")
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.port = _free_port()
        self.data = f"{self.dir}/data"
        subprocess.run(
            [
                *self.as_user,
                f"{self.bin}/initdb",
                "-D",
                self.data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        self.start()

    def ctl(self, *args):
        subprocess.run(
            [*self.as_user, f"{self.bin}/pg_ctl", "-D", self.data, "-l", f"{self.dir}/log", *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self):
        self.ctl(
            "-w",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on "
            f"-c synchronous_commit=on -c max_connections=100",
            "start",
        )

    def stop(self):
        self.ctl("-w", "-m", "fast", "stop")

    def url(self, user="postgres", database="dti") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements, database="dti"):
        with psycopg.connect(self.url(database=database), autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def remove(self):
        try:
            self.ctl("-m", "immediate", "stop")
        except subprocess.SubprocessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Clients:
    """Respondents' software: each submission is retried with its identifier until the service acknowledges it."""

    def __init__(self, port: int, key: str):
        self.port, self.key = port, key
        self.statuses: Counter = Counter()
        self.acknowledged: set[str] = set()
        self.sent: set[str] = set()
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def post(self, submission_id: str) -> int | str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        body = json.dumps({"submission_id": submission_id, "unit": "01", "answers": CITIZEN_ANSWERS})
        try:
            connection.request(
                "POST",
                "/api/v1/fieldworks/invited/responses",
                body=body,
                headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
            )
            return connection.getresponse().status
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__
        finally:
            connection.close()

    def run(self, number: int):
        count = 0
        while not self.stop.is_set():
            submission_id = f"c{number}-{count}"
            count += 1
            with self.lock:
                self.sent.add(submission_id)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                outcome = self.post(submission_id)
                with self.lock:
                    self.statuses[outcome] += 1
                if outcome in (200, 201):
                    with self.lock:
                        self.acknowledged.add(submission_id)
                    break
                time.sleep(0.2)


def _health(port: int) -> int | str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/api/health")
        response = connection.getresponse()
        body = json.loads(response.read() or b"{}")
        translated = "gián đoạn" in body.get("error", {}).get("message", "")
        return response.status if response.status != 503 or translated else "503 untranslated"
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__
    finally:
        connection.close()


def test_no_acknowledged_response_is_lost_or_stored_twice_through_faults(tmp_path, capsys):
    cluster = Cluster()
    server = None
    try:
        cluster.execute("CREATE DATABASE dti", database="postgres")
        env = {
            **os.environ,
            "DATABASE_URL": cluster.url(),
            "SECRET_KEY": "faults-secret-key",
            "INSTANCE_PATH": str(tmp_path),
            "FLASK_APP": "wsgi",
            "API_RATE_LIMIT": "100000 per minute",
        }
        flask = Path(sys.executable).parent / "flask"
        subprocess.run([str(flask), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        key = (
            subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
            .stdout.strip()
            .splitlines()[-1]
        )
        # the service connects as a role of its own, so that its write permission can be withdrawn
        cluster.execute(
            "CREATE ROLE dti_app LOGIN",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO dti_app",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO dti_app",
        )
        port = _free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "2",
                "wsgi:app",
            ],
            cwd=ROOT,
            env={**env, "DATABASE_URL": cluster.url(user="dti_app")},
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "gunicorn.log", "wb"),
        )
        deadline = time.monotonic() + 30
        while _health(port) != 200:
            assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
            time.sleep(0.2)

        clients = Clients(port, key)
        threads = [threading.Thread(target=clients.run, args=(n,), daemon=True) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        # 1. a worker dies mid-flight
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        os.kill(int(workers[0]), signal.SIGKILL)
        time.sleep(2.5)
        # 2. PostgreSQL goes away and comes back; meanwhile the service says 503, translated
        cluster.stop()
        down = Counter(_health(port) for _ in range(5))
        time.sleep(1.0)
        cluster.start()
        time.sleep(2.5)
        # 3. the database refuses the service's writes for a while
        cluster.execute("REVOKE INSERT ON responses FROM dti_app")
        time.sleep(2.0)
        cluster.execute("GRANT INSERT ON responses TO dti_app")
        time.sleep(2.0)
        clients.stop.set()
        for thread in threads:
            thread.join(timeout=90)
        recovered = _health(port)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)

    log = (tmp_path / "gunicorn.log").read_text()
    try:
        with psycopg.connect(cluster.url()) as connection:
            rows = connection.execute(
                "SELECT submission_id, count(*), min(answers::text), max(answers::text) "
                "FROM responses GROUP BY submission_id"
            ).fetchall()
    finally:
        cluster.remove()
    stored = {row[0]: row for row in rows}
    expected = {key for key, value in CITIZEN_ANSWERS.items()}
    lost = clients.acknowledged - set(stored)
    duplicated = [sid for sid, row in stored.items() if row[1] > 1]
    partial = [sid for sid, row in stored.items() if set(json.loads(row[2])) != expected or row[2] != row[3]]
    report = (
        f"\nfaults: submitted {len(clients.sent)}, acknowledged {len(clients.acknowledged)}, "
        f"stored {len(stored)}, lost {len(lost)}, duplicated {len(duplicated)}, partial {len(partial)}; "
        f"answers seen {dict(clients.statuses)}; health while PostgreSQL was down {dict(down)}"
    )
    with capsys.disabled():
        print(report)
    assert clients.acknowledged and not lost and not duplicated and not partial
    # every submission the clients finished was acknowledged in the end, and nothing unsent was stored
    assert set(stored) <= clients.sent
    assert clients.statuses[500] == 0 and "503 untranslated" not in down, log[-8000:]
    assert down[503] >= 1 and clients.statuses[503] >= 1
    assert recovered == 200
