"""The production set-up: gunicorn serving wsgi:app on PostgreSQL, configured from the environment."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(server: subprocess.Popen, port: int, output) -> None:
    """Until gunicorn's health check answers ok; fails with the server's ``output()`` if it stops, or after 30 s."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
                assert response.status == 200 and b'"status":"ok"' in response.read()
                return
        except OSError:
            assert server.poll() is None, output()
            assert time.monotonic() < deadline, "gunicorn did not answer in 30 s"
            time.sleep(0.2)


def test_gunicorn_serves_the_app_on_postgresql(database_url, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("postgresql+psycopg://", "postgresql://"),
        "SECRET_KEY": "production-test-secret-key",
        "INSTANCE_PATH": str(tmp_path),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(server, port, lambda: server.stdout.read().decode())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            assert "Cán bộ đăng nhập" in response.read().decode()
            assert "Secure" in response.headers["Set-Cookie"]
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        server.terminate()
        server.wait(timeout=10)
