"""Benchmark: publication day. The public ranking page, a scorecard and the results API of a published round,
read through nginx (Debian's, with the shipped deploy/nginx/dti-proxy.conf and its cache) in front of two
gunicorn app servers, at 16, 64 and 256 connections, each beside the same nginx serving a static copy of the same
bytes in the same run.

    bash scripts/with-postgres.sh .venv/bin/python benchmarks/publication_day.py [--seconds 10] [--repeats 3]

(with-postgres.sh starts a throw-away PostgreSQL and sets TEST_DATABASE_URL; DATABASE_URL works too.) The demo is
seeded (`flask demo seed`: its 2022 round of the 63 provinces is published). The load comes from wrk, installed
from Debian's packages when missing (as scripts/ensure-nginx.sh installs nginx); each measurement is a closed loop
of keep-alive connections. Every reader is a visitor without a session, as on publication day; one more line
reads the ranking past the cache (a visitor with a session cookie, whom nginx passes to the app servers) to show
what the cache saves. Prints requests per second, p99, the ratio to the static copy and the target: at 256
connections, ≥ 0.8 of the static copy's throughput with p99 < 100 ms.

The service and the static copy take turns at each step (who goes first alternating), so that the machine's drift
and the other work on a shared machine fall on both alike; nginx, wrk and the app servers share its cores. Each step
measures --repeats such pairs and prints the one of median ratio, with the worst p99 and every pair's errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.submit import _free_port, database_url  # noqa: E402

UNIT = "01"
CONNECTIONS = (16, 64, 256)
#: the target, at the highest concurrency
TARGET_RATIO, TARGET_P99_MS, TARGET_CONNECTIONS = 0.8, 100.0, 256
#: what a session cookie looks like to nginx: it sends the visitor to an app server, past its cache
PAST_THE_CACHE = {"Cookie": "dti_session=a-visitor-with-a-session"}


def prepare(url: str) -> str:
    """Migrate and seed the demo; return the code of its published round."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "FLASK_APP": "wsgi"}
    for command in (["db", "upgrade"], ["units", "load"], ["demo", "seed"]):
        subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    from survey_app.core.demo import DEMO_PUBLISHED_ROUND

    return DEMO_PUBLISHED_ROUND


def ensure_wrk() -> str:
    """wrk, installed from Debian's packages when missing (root, or sudo)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("publication_day: installing wrk from Debian's packages", file=sys.stderr)
    as_root = [] if os.getuid() == 0 else ["sudo"]
    subprocess.run([*as_root, "apt-get", "update", "-qq"], check=True)
    subprocess.run(
        [*as_root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return shutil.which("wrk") or "/usr/bin/wrk"


def ensure_nginx() -> str:
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure-nginx.sh")], check=True)
    return shutil.which("nginx") or "/usr/sbin/nginx"


def start_app_server(port: int, workers: int, env: dict) -> subprocess.Popen:
    """An app server as deploy/systemd/dti-app.service runs it (gunicorn.conf.py), with ``workers`` processes.
    (benchmarks.submit._serve gives a server 10 s to listen: too short for two starting at once on a busy machine.)"""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "--access-logfile", "/dev/null", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("an app server stopped at start")
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("an app server did not start within 120 s")


def start_nginx(nginx: str, prefix: Path, port: int, app_ports: list[int]) -> subprocess.Popen:
    """nginx with the shipped proxying (its cache zone here in ``prefix``) and the static copies under /static-copy/."""
    upstream = "\n".join(f"        server 127.0.0.1:{app_port};" for app_port in app_ports)
    (prefix / "nginx.conf").write_text(
        f"""
{"user root;" if os.getuid() == 0 else ""}
worker_processes auto;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    # Debian's nginx.conf as shipped
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    gzip on;
    # (no access log, for the service and the static copy alike)
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    proxy_cache_path {prefix}/cache levels=1:2 keys_zone=dti_published:20m use_temp_path=off;
    upstream dti_app {{
        least_conn;
{upstream}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        client_max_body_size 17m;
        # the baseline: the same bytes as a file
        location ^~ /static-copy/ {{
            alias {prefix}/static-copy/;
        }}
        include {ROOT}/deploy/nginx/dti-proxy.conf;
    }}
}}
"""
    )
    process = subprocess.Popen(
        [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(prefix / "stderr.log", "wb"),
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not start: {(prefix / 'stderr.log').read_text()}")


def fetch(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def measure(wrk: str, port: int, path: str, connections: int, seconds: float, headers: dict | None = None) -> dict:
    """wrk's closed loop of ``connections`` keep-alive connections for ``seconds``: requests per second, p99 and
    the answers that were not 2xx or 3xx, or did not come."""
    command = [wrk, "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = _milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, failed.groups())) if failed else 0)
    return {"per_second": round(rate, 1), "p99_ms": round(p99, 2), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each measurement")
    # two app servers side by side, as a deployment has them; nginx answers almost everything from its cache
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app server")
    parser.add_argument(
        "--repeats", type=int, default=3, help="pairs (service, static copy) at each step; the median ratio counts"
    )
    options = parser.parse_args()
    if options.repeats < 1:
        parser.error("--repeats must be at least 1")
    wrk, nginx = ensure_wrk(), ensure_nginx()
    url = database_url()
    round_code = prepare(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "PYTHONPATH": str(ROOT),
        "TRUSTED_PROXIES": "1",
        "SESSION_COOKIE_SECURE": "0",
        "HSTS": "0",
        # all the load comes from one address, where production sees thousands
        "PUBLIC_RATE_LIMIT": "100000000 per minute",
    }
    targets = {
        "ranking page": f"/results/{round_code}",
        "scorecard page": f"/results/{round_code}/units/{UNIT}",
        "results API": f"/api/v1/results/{round_code}",
    }
    app_ports, port = [_free_port(), _free_port()], _free_port()
    prefix = Path(tempfile.mkdtemp(prefix="dti-publication-day."))
    (prefix / "static-copy").mkdir()
    servers: list[subprocess.Popen] = []
    results: dict = {}
    try:
        for app_port in app_ports:
            servers.append(start_app_server(app_port, options.workers, env))
        servers.append(start_nginx(nginx, prefix, port, app_ports))
        copies = {}
        for name, path in targets.items():
            status, headers, body = fetch(port, path)
            assert status == 200, (name, status)
            again = fetch(port, path)[1]
            extension = "json" if headers["content-type"].startswith("application/json") else "html"
            copy = f"/static-copy/{name.replace(' ', '-')}.{extension}"
            (prefix / copy.lstrip("/")).write_bytes(body)
            copies[name] = copy
            print(
                f"{name}: {len(body):,} bytes, Cache-Control {headers.get('cache-control')!r}, "
                f"X-Cache {headers.get('x-cache')} then {again.get('x-cache')}"
            )
        print("(a shared machine of 2 cores: nginx, wrk and the app servers share them, and other people's work runs)")
        print(f"\n{'':16s} {'conns':>5s} {'service/s':>10s} {'p99 ms':>8s} {'static/s':>10s} {'p99 ms':>8s} ratio")
        for turn, connections in enumerate(CONNECTIONS):
            for name, path in targets.items():
                pairs = []
                for repeat in range(options.repeats):
                    pair = {}
                    order = ("service", "static") if (turn + repeat) % 2 == 0 else ("static", "service")
                    for who in order:
                        pair[who] = measure(
                            wrk, port, path if who == "service" else copies[name], connections, options.seconds
                        )
                    pair["ratio"] = pair["service"]["per_second"] / max(pair["static"]["per_second"], 1e-9)
                    pairs.append(pair)
                # the pair of median ratio: one pair's figures swing by a fifth on this machine, both sides alike;
                # but every pair's errors count, and the worst p99
                pair = sorted(pairs, key=lambda each: each["ratio"])[(len(pairs) - 1) // 2]
                ratio = pair.pop("ratio")
                for who in ("service", "static"):
                    pair[who] = {
                        **pair[who],
                        "p99_ms": max(each[who]["p99_ms"] for each in pairs),
                        "errors": sum(each[who]["errors"] for each in pairs),
                    }
                results.setdefault(name, {})[connections] = {**pair, "ratio": round(ratio, 3)}
                errors = pair["service"]["errors"] + pair["static"]["errors"]
                print(
                    f"{name:16s} {connections:5d} {pair['service']['per_second']:10.1f} "
                    f"{pair['service']['p99_ms']:8.1f} {pair['static']['per_second']:10.1f} "
                    f"{pair['static']['p99_ms']:8.1f} {ratio:5.2f}" + (f"  errors {errors}" if errors else "")
                )
        past = measure(wrk, port, targets["ranking page"], CONNECTIONS[0], options.seconds, PAST_THE_CACHE)
        results["ranking page past the cache"] = {CONNECTIONS[0]: past}
        print(
            f"\nranking page past the cache (a visitor with a session, {CONNECTIONS[0]} connections): "
            f"{past['per_second']:.1f}/s, p99 {past['p99_ms']:.1f} ms, errors {past['errors']}"
        )
    finally:
        for process in servers:
            process.send_signal(signal.SIGTERM)
        for process in servers:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(prefix, ignore_errors=True)
    print()
    for name in targets:
        figures = results[name][TARGET_CONNECTIONS]
        service = figures["service"]
        met = figures["ratio"] >= TARGET_RATIO and service["p99_ms"] < TARGET_P99_MS and not service["errors"]
        print(
            f"{name}, {TARGET_CONNECTIONS} connections: {figures['ratio']:.2f} of the static copy (target ≥ "
            f"{TARGET_RATIO}), p99 {service['p99_ms']:.1f} ms (target < {TARGET_P99_MS:g}): "
            f"{'met' if met else 'NOT met'}"
        )
    print(
        json.dumps(
            {"seconds": options.seconds, "repeats": options.repeats, "workers": options.workers, "results": results}
        )
    )


if __name__ == "__main__":
    main()
