"""`flask doctor` says, one line each, what is wrong with a deployment: here PostgreSQL migrated, Redis for the
rate limits and the job queue, and a job worker that is, then is not, there."""

from __future__ import annotations

import os
import threading

import pytest

from survey_app.core import jobs


@pytest.fixture
def deployed(app, monkeypatch):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.fail("TEST_REDIS_URL is not set: run the tests with `make test`, which starts Redis")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    app.config.update(JOBS_BROKER_URL=url, SECRET_KEY="x" * 40)
    return url


def _lines(result) -> dict[str, str]:
    return {
        line[5:].split(":")[0]: line[:4] for line in result.output.splitlines() if line[:4] in ("ok  ", "WARN", "FAIL")
    }


def test_a_deployment_without_a_worker_is_told_to_start_one(app, runner, deployed):
    result = runner.invoke(args=["doctor"])
    lines = _lines(result)
    assert result.exit_code == 1
    assert (
        lines["cơ sở dữ liệu"] == "ok  " and lines["di trú lược đồ"] == "ok  " and lines["hàng đợi công việc"] == "ok  "
    )
    assert lines["tiến trình xử lý công việc"] == "FAIL" and "flask jobs worker" in result.output
    # the rate limits counted per process are a warning in production, not a failure
    assert lines["giới hạn tần suất"] == "WARN"


def test_a_complete_deployment_is_all_ok(app, runner, deployed):
    from survey_app.core.extensions import limiter

    app.config["RATELIMIT_STORAGE_URI"] = deployed
    limiter.init_app(app)
    stopped = threading.Event()
    presence = jobs.announce_worker(deployed, 2, stopped)
    try:
        result = runner.invoke(args=["doctor"])
    finally:
        stopped.set()
        presence.join(5)
        app.config["RATELIMIT_STORAGE_URI"] = "inline-memory://"
        limiter.init_app(app)
    assert result.exit_code == 0, result.output
    assert set(_lines(result).values()) == {"ok  "}
    assert f":{os.getpid()}" in result.output
    assert jobs.workers_seen(deployed) == []  # a worker that stops says so at once


def test_a_short_secret_key_and_an_unreachable_broker_fail(app, runner, deployed):
    app.config.update(SECRET_KEY="short", JOBS_BROKER_URL="redis://127.0.0.1:1/0")
    result = runner.invoke(args=["doctor", "--help"])
    assert result.exit_code == 0
    result = runner.invoke(args=["doctor"])
    lines = _lines(result)
    assert result.exit_code == 1 and lines["khóa bí mật"] == "FAIL" and lines["hàng đợi công việc"] == "FAIL"
