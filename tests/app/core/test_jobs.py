"""Background jobs: a job's page follows it to its result or its error; it can be cancelled waiting or running;
a job runs once however often its message arrives; a job's writes land once, with its "done", or not at all;
and on the real queue (Redis, worker processes) a worker killed mid-job leaves the job to another, which
finishes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from survey_app.audit import operations as audit
from survey_app.audit.models import AuditEvent
from survey_app.core import jobs
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parents[3]

#: what the test kinds below wait for before they finish, set by a test
_release = threading.Event()


@jobs.job_kind("tests.refused", title="refused", roles=())
def _refused(context, *, count):
    raise ServiceError("margin_unanswered", margin="sex", count=count)


@jobs.job_kind("tests.audited", title="audited", roles=())
def _audited(context, *, wait):
    """Writes an audit event, then (when asked, on its first attempt) waits for the test before it finishes:
    its write is the job's result, stored with its "done" or not at all."""
    audit.record("tests.job_wrote", details={"attempt": context.attempt})
    db.session.flush()
    if wait and context.attempt == 1:
        _release.wait(20)
    return {"attempt": context.attempt}


def _job(job_id: int) -> jobs.Job:
    db.session.expire_all()
    return db.session.get(jobs.Job, job_id)


def _execute(app, job_id: int) -> None:
    """Run a job as a worker does: in an app context (and a database session) of its own."""
    with app.app_context():
        jobs.execute(job_id)


def _until(check, seconds: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_a_probe_runs_in_the_apps_worker_and_its_page_shows_it_done(app, client, create_user, login, run_jobs):
    user = create_user("viewer")
    job = jobs.enqueue("core.probe", subject="probe", params={"steps": 2, "seconds": 0}, actor=user)
    db.session.commit()
    run_jobs()
    done = _job(job.id)
    assert (done.state, done.attempts, done.percent, done.result["attempt"]) == ("done", 1, 100, 1)
    login(user)
    page = client.get(f"/jobs/{job.id}?lang=en").get_data(as_text=True)
    assert 'data-state="done"' in page and 'value="100"' in page and "http-equiv" not in page
    assert f'href="/jobs/{job.id}"' in client.get("/jobs").get_data(as_text=True)


def test_a_failed_job_says_why_in_the_readers_language(app, client, create_user, login, run_jobs):
    user = create_user("scoring_officer")
    job = jobs.enqueue("tests.refused", subject="x", params={"count": 3}, actor=user)
    db.session.commit()
    run_jobs()
    failed = _job(job.id)
    assert (failed.state, failed.error_family, failed.error_code, failed.error_params) == (
        "failed",
        "service",
        "margin_unanswered",
        {"margin": "sex", "count": 3},
    )
    login(user)
    english = client.get(f"/jobs/{job.id}?lang=en").get_data(as_text=True)
    assert 'role="alert">3 responses have no answer to sex' in english
    vietnamese = client.get(f"/jobs/{job.id}?lang=vi").get_data(as_text=True)
    assert 'data-state="failed"' in vietnamese and "3 phiếu không trả lời câu sex" in vietnamese


def test_only_its_creator_its_kinds_roles_and_administrators_follow_a_job(app, client, create_user, login):
    owner, other, admin = create_user("viewer"), create_user("viewer"), create_user("administrator")
    job = jobs.enqueue("tests.refused", subject="x", params={"count": 1}, actor=owner)
    jobs.cancel(job)  # waiting: cancelled at once, so that no worker runs it
    db.session.commit()
    login(other)
    assert client.get(f"/jobs/{job.id}").status_code == 404
    token = csrf_token(client, "/dashboard")
    assert client.post(f"/jobs/{job.id}/cancel", data={"csrf_token": token}).status_code == 404
    assert f'href="/jobs/{job.id}"' not in client.get("/jobs").get_data(as_text=True)
    client.get("/logout")
    login(admin)
    assert client.get(f"/jobs/{job.id}").status_code == 200


def test_a_waiting_job_cancelled_never_runs_and_a_running_one_stops_at_its_next_step(
    app, client, create_user, login, run_jobs
):
    user = create_user("viewer")
    login(user)
    waiting = jobs.enqueue("core.probe", subject="probe", params={"steps": 1, "seconds": 0}, actor=user)
    jobs.cancel(waiting)
    db.session.commit()
    run_jobs()
    assert (_job(waiting.id).state, _job(waiting.id).attempts) == ("cancelled", 0)

    running = jobs.enqueue("core.probe", subject="probe", params={"steps": 200, "seconds": 0.02}, actor=user)
    db.session.commit()
    _until(lambda: _job(running.id).progress_done >= 2, what="the probe's progress")
    page = client.get(f"/jobs/{running.id}?lang=en").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and "Cancel the job" in page
    token = csrf_token(client, f"/jobs/{running.id}")
    assert client.post(f"/jobs/{running.id}/cancel", data={"csrf_token": token}).status_code == 302
    run_jobs()
    stopped = _job(running.id)
    assert stopped.state == "cancelled" and stopped.progress_done < 200 and stopped.result is None
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "jobs.cancel_requested")) == 1


def test_a_job_claimed_once_runs_once_however_often_its_message_arrives(app):
    _release.set()
    job = jobs.enqueue("tests.audited", subject="x", params={"wait": False})
    db.session.info.pop("jobs_to_send")  # delivered by hand below, not by the app's worker
    db.session.commit()
    _execute(app, job.id)
    _execute(app, job.id)  # a second delivery of the same message
    assert (_job(job.id).state, _job(job.id).attempts) == ("done", 1)
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "tests.job_wrote")) == 1


def test_a_worker_thought_lost_stores_nothing_when_another_finished_the_job(app):
    """Attempt 1 is claimed and works; its heartbeat goes cold (its worker seemed lost), so attempt 2 is
    claimed and stores; when attempt 1 ends, its writes are rolled back: the job's work lands once."""
    app.config["JOBS_HEARTBEAT_SECONDS"] = 100  # no beat during the test: the test makes the heartbeat cold
    _release.clear()
    job = jobs.enqueue("tests.audited", subject="x", params={"wait": True})
    db.session.info.pop("jobs_to_send")
    db.session.commit()

    worker = threading.Thread(target=_execute, args=(app, job.id))
    worker.start()
    _until(lambda: _job(job.id).attempts == 1, what="the first claim")
    cold = utcnow() - timedelta(seconds=app.config["JOBS_STALE_SECONDS"] + 1)
    db.session.execute(update(jobs.Job).where(jobs.Job.id == job.id).values(heartbeat_at=cold))
    db.session.commit()
    _execute(app, job.id)  # the second attempt does not wait
    _release.set()
    worker.join(10)
    finished = _job(job.id)
    assert (finished.state, finished.attempts, finished.result) == ("done", 2, {"attempt": 2})
    written = db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "tests.job_wrote")).all()
    assert written == [{"attempt": 2}]


def test_a_job_whose_worker_keeps_dying_fails_visibly(app):
    job = jobs.enqueue("core.probe", subject="probe", params={"steps": 1, "seconds": 0})
    db.session.info.pop("jobs_to_send")
    db.session.flush()
    job.state, job.attempts, job.heartbeat_at = "running", jobs.MAX_ATTEMPTS, utcnow() - timedelta(hours=1)
    db.session.commit()
    _execute(app, job.id)
    failed = _job(job.id)
    assert (failed.state, failed.error_code, failed.error_params) == ("failed", "job_worker_lost", {"attempts": 3})


def test_the_worker_command_needs_a_broker(runner):
    result = runner.invoke(args=["jobs", "worker"])
    assert result.exit_code == 1 and "JOBS_BROKER_URL" in result.output


# --- the real queue: Redis and worker processes ------------------------------------------------------------


@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.fail("TEST_REDIS_URL is not set: run the tests with `make test`, which starts Redis")
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


def _worker(database_url: str, redis_url: str) -> subprocess.Popen:
    environment = os.environ | {
        "FLASK_APP": "wsgi",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "JOBS_BROKER_URL": redis_url,
        "JOBS_HEARTBEAT_SECONDS": "0.2",
        "JOBS_STALE_SECONDS": "1",
        # a silent worker's messages go back to the queue after 2 s, looked for at every broker command
        "JOBS_BROKER_HEARTBEAT_SECONDS": "2",
        "JOBS_BROKER_MAINTENANCE_CHANCE": "1000000",
        "INSTANCE_PATH": str(ROOT / "instance"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "jobs", "worker"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_worker_killed_mid_job_leaves_it_to_another_which_finishes_it(app, runner, database_url, redis_url):
    app.config.update(JOBS_BROKER_URL=redis_url, JOBS_BROKER_HEARTBEAT_SECONDS=2)
    app.extensions["jobs"] = jobs.JobQueue(app)
    first = _worker(database_url, redis_url)
    second = None
    try:
        job = jobs.enqueue("core.probe", subject="probe", params={"steps": 40, "seconds": 0.1})
        db.session.commit()
        _until(lambda: _job(job.id).progress_done >= 3, what="the first worker's progress")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        stopped_at = _job(job.id).progress_done
        assert _job(job.id).state == "running" and stopped_at < 40
        second = _worker(database_url, redis_url)
        _until(lambda: _job(job.id).finished, seconds=60, what="the second worker finishing the job")
        finished = _job(job.id)
        assert (finished.state, finished.attempts, finished.result["attempt"]) == ("done", 2, 2)
        assert finished.result["worker"].endswith(f":{second.pid}")
        # and the queue goes on: `flask jobs probe` is taken by the live worker
        result = runner.invoke(args=["jobs", "probe", "--steps", "1", "--seconds", "0"])
        assert result.exit_code == 0, result.output
        assert f":{second.pid}" in result.output
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(15)
                except subprocess.TimeoutExpired:
                    worker.kill()
        app.extensions["jobs"].stop()
