"""Background jobs: work that may take longer than a request should (a weighting run, a national export, a
scoring run's rank simulation, an index audit) runs in a worker, with a page that shows its progress.

A job is a row of ``jobs`` (what to do, on what, by whom; its state, progress, result or error), written in the
transaction of the request that asks for it; its message leaves for the queue only once that transaction is
committed (the session's ``after_commit``), so a worker never looks for a job that is not there.

The queue is Dramatiq's. In production its broker is Redis (``JOBS_BROKER_URL``) and the workers are processes
of their own (``flask jobs worker``) on any machine: Redis keeps a message a worker took in that worker's
acknowledgement set until the work is done, and a worker that stops beating (killed, its machine lost) has its
messages put back on the queue for another. Without ``JOBS_BROKER_URL`` (``make run``) the broker lives in
memory and a worker thread starts in the process with the first job.

Three rules make a job safe to run more than once, whatever the queue delivers:

* a worker claims a job in one statement (queued, or running with a heartbeat gone cold), so two workers
  never run it at once;
* a job's writes and its "done" are one transaction, committed only if the job is still the worker's: a
  worker killed half-way stored nothing and the next attempt starts again from the beginning;
* a job tried ``MAX_ATTEMPTS`` times without finishing fails, visibly, on its page.

Progress and the heartbeat are written on a connection of their own, committed at once, so that the page sees
them while the job's own transaction is still open; cancelling is a flag the job reads with each progress.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Integer, String, event, or_, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from survey_app.core.extensions import db
from survey_app.core.security import STAFF
from survey_app.core.types import JSONDocument, UTCDateTime, utcnow

logger = logging.getLogger("survey_app.jobs")

#: the queue every job's message goes to
QUEUE = "jobs"
#: attempts a job gets (a worker lost mid-job costs one) before it fails
MAX_ATTEMPTS = 3
#: the session's ``info`` key holding the ids of the jobs created in its transaction, sent once it commits
_TO_SEND = "jobs_to_send"


class JobState:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    FINISHED = (DONE, FAILED, CANCELLED)


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what to do: a name registered with ``job_kind``
    kind: Mapped[str] = mapped_column(String(64))
    #: what it works on, as its page and the subject's page look it up: e.g. "fieldwork:citizens-2023"
    subject: Mapped[str] = mapped_column(String(160), index=True)
    #: the kind's arguments (JSON)
    params: Mapped[Any] = mapped_column(JSONDocument)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED, index=True)
    #: how far it is: ``done`` of ``total`` steps, and the step's name (a key the page translates)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str | None] = mapped_column(String(64))
    #: what the job made, for its page to link to (e.g. {"run_id": 12})
    result: Mapped[Any | None] = mapped_column(JSONDocument)
    #: why it failed: the error's family ("service", "sampling" or "estimation": the messages it is read
    #: from), its code and the values its message names, translated when the page is read
    error_family: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_params: Mapped[Any | None] = mapped_column(JSONDocument)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: written every ``JOBS_HEARTBEAT_SECONDS`` while a worker runs it: a colder one means the worker is gone
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        return self.state in JobState.FINISHED

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(100 * self.progress_done / self.progress_total))


class JobCancelled(Exception):
    """Raised inside a job by ``JobContext.progress`` once its cancellation was asked for."""


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its function, its title on pages, who may see and cancel its jobs, and where its result
    is shown."""

    name: str
    #: ``run(context, **params)`` → the result to store (JSON), in the job's one transaction
    run: Callable[..., dict | None]
    #: the job's title (a lazy string), formatted with its params
    title: Any
    #: roles that may follow and cancel any job of this kind (its creator always may)
    roles: tuple
    #: the address of the result, from the job (None: no page of its own)
    result_url: Callable[[Job], str | None] | None = None
    #: its steps' names in words (lazy strings), by the key its progress gives; else the interface's labels
    steps: Mapping[str, Any] | None = None


#: every kind, by name; areas register theirs with ``job_kind`` when their operations are imported
KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str,
    *,
    title,
    roles: Iterable,
    result_url: Callable[[Job], str | None] | None = None,
    steps: Mapping[str, Any] | None = None,
):
    """Register the decorated function as the job kind ``name``."""

    def register(run: Callable[..., dict | None]):
        if name in KINDS and KINDS[name].run is not run:
            raise ValueError(f"job kind {name!r} is registered twice")
        KINDS[name] = JobKind(name, run, title, tuple(roles), result_url, steps)
        return run

    return register


def enqueue(kind: str, *, subject: str, params: dict | None = None, actor=None) -> Job:
    """Ask for a job, in the caller's transaction: its message leaves once that transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, subject=subject, params=params or {}, created_by_id=actor.id if actor else None)
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault(_TO_SEND, []).append(job.id)
    return job


def latest(subject: str, kind: str | None = None) -> Job | None:
    """The newest job on a subject (of a kind), for the subject's page to show."""
    query = select(Job).where(Job.subject == subject)
    if kind:
        query = query.where(Job.kind == kind)
    return db.session.scalar(query.order_by(Job.id.desc()).limit(1))


def unfinished(subject: str, kind: str) -> Job | None:
    """The job of a kind still queued or running on a subject: asked for twice, the work runs once."""
    return db.session.scalar(
        select(Job)
        .where(Job.subject == subject, Job.kind == kind, Job.state.in_((JobState.QUEUED, JobState.RUNNING)))
        .order_by(Job.id.desc())
        .limit(1)
    )


def cancel(job: Job) -> None:
    """Cancel a job: one still waiting ends at once; a running one stops at its next progress."""
    if job.state == JobState.QUEUED:
        job.state = JobState.CANCELLED
        job.finished_at = utcnow()
    elif job.state == JobState.RUNNING:
        job.cancel_requested = True


# --- running -----------------------------------------------------------------------------------------------


class JobContext:
    """What a running job sees: its params and ``progress``, which also answers a cancellation."""

    def __init__(self, job: Job, engine, attempt: int):
        self.job_id = job.id
        self.params = dict(job.params or {})
        #: who asked for it (None: a command or an account since erased)
        self.actor_id = job.created_by_id
        self.attempt = attempt
        self._engine = engine

    def progress(self, done: int, total: int, step: str | None = None) -> None:
        """Say how far the job is (``done`` of ``total``), on a connection of its own so the page sees it now;
        raises ``JobCancelled`` when someone asked to stop."""
        try:
            with self._engine.begin() as connection:
                cancelled = connection.execute(
                    update(Job)
                    .where(Job.id == self.job_id)
                    .values(progress_done=done, progress_total=total, step=step, heartbeat_at=utcnow())
                    .returning(Job.cancel_requested)
                ).scalar()
        except OperationalError:
            # SQLite (make run) refuses a second writer while the job's own transaction writes: progress is
            # news, not state, so the job goes on and the next progress tries again
            return
        if cancelled:
            raise JobCancelled


def execute(job_id: int) -> None:
    """Run a job once, in the current app context (a worker's): claim it, run its kind, store its result and
    "done" in one transaction, or its error; a job claimed elsewhere, finished or cancelled is left alone."""
    engine = db.engine
    attempt = _claim(job_id)
    if attempt is None:
        return
    job = db.session.get(Job, job_id)
    if attempt > MAX_ATTEMPTS:
        _finish(
            job_id,
            attempt,
            state=JobState.FAILED,
            family="service",
            code="job_worker_lost",
            params={"attempts": attempt - 1},
        )
        return
    kind = KINDS.get(job.kind)
    if kind is None:
        _finish(
            job_id, attempt, state=JobState.FAILED, family="service", code="job_unknown_kind", params={"kind": job.kind}
        )
        return
    if engine.dialect.name == "postgresql":
        # the app servers' statement limit is for requests; a job's transaction may take as long as it needs
        db.session.execute(text("SET LOCAL statement_timeout = 0"))
    context = JobContext(job, engine, attempt)
    beat = _Heartbeat(engine, job_id, current_app.config["JOBS_HEARTBEAT_SECONDS"])
    beat.start()
    try:
        result = kind.run(context, **context.params)
        stored = db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.RUNNING, Job.attempts == attempt)
            .values(state=JobState.DONE, result=result, progress_done=Job.progress_total, finished_at=utcnow())
        ).rowcount
        if stored:
            db.session.commit()
        else:  # another worker claimed it since (this one was thought lost): its attempt stores, not this one
            db.session.rollback()
    except JobCancelled:
        db.session.rollback()
        _finish(job_id, attempt, state=JobState.CANCELLED)
    except Exception as error:  # every failure is the job's to report on its page, not the queue's to retry
        db.session.rollback()
        family, code, params = _describe(error)
        if code == "job_failed":
            logger.exception("job %s (%s) failed", job_id, kind.name)
        _finish(job_id, attempt, state=JobState.FAILED, family=family, code=code, params=params)
    finally:
        beat.stop()
        db.session.remove()


def _claim(job_id: int) -> int | None:
    """Take the job for this worker: queued, or running with a heartbeat colder than a live worker's. Returns
    the attempt's number, or None when the job is not this worker's to run."""
    now = utcnow()
    cold = now - timedelta(seconds=current_app.config["JOBS_STALE_SECONDS"])
    with db.engine.begin() as connection:
        row = connection.execute(
            update(Job)
            .where(
                Job.id == job_id,
                or_(
                    Job.state == JobState.QUEUED,
                    (Job.state == JobState.RUNNING) & or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cold),
                ),
            )
            .values(state=JobState.RUNNING, attempts=Job.attempts + 1, started_at=now, heartbeat_at=now)
            .returning(Job.attempts, Job.cancel_requested)
        ).first()
    if row is None:
        return None
    attempts, cancel_requested = row
    if cancel_requested:
        _finish(job_id, attempts, state=JobState.CANCELLED)
        return None
    return attempts


def _finish(job_id: int, attempt: int, *, state: str, family=None, code=None, params=None) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(Job.id == job_id, Job.attempts == attempt)
            .values(state=state, error_family=family, error_code=code, error_params=params, finished_at=utcnow())
        )


def _describe(error: Exception) -> tuple[str, str, dict]:
    """An error as its family, code and JSON-ready values, translated only when a page shows it."""
    from analysis import EstimationError
    from sampling import SamplingError
    from survey_app.core.errors import ServiceError

    for family, kind in (("service", ServiceError), ("sampling", SamplingError), ("estimation", EstimationError)):
        if isinstance(error, kind):
            return family, error.code, _json_ready(error.params)
    if isinstance(error, DBAPIError):
        return "service", "job_database_unavailable", {}
    return "service", "job_failed", {}


def _json_ready(params: dict) -> dict:
    def plain(value):
        if isinstance(value, tuple):  # a stratum's values, as the messages show them (i18n._display)
            return " × ".join(str(part) for part in value)
        if isinstance(value, list):
            return [plain(part) for part in value]
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        return str(value)

    return {key: plain(value) for key, value in params.items()}


class _Heartbeat:
    """A thread that writes the job's heartbeat while it runs, so that another worker never mistakes a job
    busy between two progresses for a lost one."""

    def __init__(self, engine, job_id: int, seconds: float):
        self._engine, self._job_id, self._seconds = engine, job_id, seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"job-{job_id}-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stopped.wait(self._seconds):
            try:
                with self._engine.begin() as connection:
                    connection.execute(update(Job).where(Job.id == self._job_id).values(heartbeat_at=utcnow()))
            except (OperationalError, DBAPIError):
                continue  # SQLite busy, or the database away a moment: the next beat tries again


# --- the queue ---------------------------------------------------------------------------------------------


class JobQueue:
    """The app's broker and actor; with the in-memory broker, the worker thread it starts on demand."""

    def __init__(self, app: Flask):
        url = app.config["JOBS_BROKER_URL"]
        self.embedded = not url
        if self.embedded:
            self.broker = StubBroker(middleware=[])
        else:
            from dramatiq.brokers.redis import RedisBroker

            self.broker = RedisBroker(
                url=url,
                middleware=[],
                heartbeat_timeout=int(app.config["JOBS_BROKER_HEARTBEAT_SECONDS"] * 1000),
                maintenance_chance=app.config["JOBS_BROKER_MAINTENANCE_CHANCE"],
            )
        self.broker.declare_queue(QUEUE)

        def run_job(job_id: int) -> None:
            with app.app_context():
                execute(job_id)

        self.actor = dramatiq.Actor(
            run_job, broker=self.broker, actor_name="run_job", queue_name=QUEUE, priority=0, options={}
        )
        self.app = app
        self._worker: dramatiq.Worker | None = None
        self._lock = threading.Lock()

    def send(self, job_ids: Iterable[int]) -> None:
        sent = self.start_embedded_worker() if self.embedded else set()
        for job_id in job_ids:
            if job_id not in sent:
                self.actor.send(job_id)

    def start_embedded_worker(self) -> set[int]:
        """Start the in-process worker (``make run``) once, and hand it the jobs a stopped process left (every
        job not finished: no other worker runs them). Returns the ids it sent."""
        with self._lock:
            if self._worker is not None:
                return set()
            self._worker = dramatiq.Worker(self.broker, worker_threads=1, worker_timeout=100)
            self._worker.start()
        with self.app.app_context():
            left = pending_job_ids(stale_after=0)
            db.session.remove()
        for job_id in left:
            self.actor.send(job_id)
        return set(left)

    def worker(self, threads: int) -> dramatiq.Worker:
        """A worker of this broker, for ``flask jobs worker``."""
        return dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=1000)

    def wait(self, timeout: float = 60) -> None:
        """Wait until the embedded worker has done every job sent (tests)."""
        self.broker.join(QUEUE, timeout=int(timeout * 1000))
        if self._worker is not None:
            self._worker.join()

    def stop(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.stop(timeout=10_000)
                self._worker = None
        self.broker.close()


def pending_job_ids(*, stale_after: float) -> list[int]:
    """Jobs no worker is known to hold: queued ones, and running ones whose heartbeat is colder than
    ``stale_after`` seconds (their worker gone); a worker starting sends them again, claims decide who runs."""
    cold = utcnow() - timedelta(seconds=stale_after)
    return list(
        db.session.scalars(
            select(Job.id)
            .where(
                or_(
                    Job.state == JobState.QUEUED,
                    (Job.state == JobState.RUNNING) & or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cold),
                )
            )
            .order_by(Job.id)
        )
    )


def queue() -> JobQueue:
    return current_app.extensions["jobs"]


def init_app(app: Flask) -> None:
    app.extensions["jobs"] = JobQueue(app)


@event.listens_for(Session, "after_commit")
def _send_committed_jobs(session: Session) -> None:
    job_ids = session.info.pop(_TO_SEND, None)
    if not job_ids:
        return
    try:
        queue().send(job_ids)
    except Exception:  # the broker away: the jobs are stored, and a worker starting sends them again
        logger.exception("jobs %s stored but not sent; `flask jobs worker` sends them when it starts", job_ids)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_jobs(session: Session) -> None:
    session.info.pop(_TO_SEND, None)


def describe_failure(job: Job) -> str | None:
    """Why a job failed, in the reader's language."""
    if job.state != JobState.FAILED:
        return None
    from analysis import EstimationError
    from sampling import SamplingError
    from survey_app.core.errors import ServiceError
    from survey_app.core.i18n import describe_error, describe_sampling_error

    params = job.error_params or {}
    if job.error_family == "sampling":
        return describe_sampling_error(SamplingError(job.error_code, job.error_code, **params))
    if job.error_family == "estimation":
        return describe_sampling_error(EstimationError(job.error_code, job.error_code, **params))
    return describe_error(ServiceError(job.error_code or "job_failed", **params))


def step_name(job: Job) -> str | None:
    """The step a running job is at, in the reader's language."""
    if not job.step:
        return None
    kind = KINDS.get(job.kind)
    if kind and kind.steps and job.step in kind.steps:
        return str(kind.steps[job.step])
    from survey_app.core.i18n import label

    return label(job.step)


def may_follow(job: Job, user) -> bool:
    """Whether a staff member may see a job's page and cancel it: its creator, an administrator, or a role of
    its kind's."""
    if user is None:
        return False
    from survey_app.accounts.models import Role

    kind = KINDS.get(job.kind)
    return user.role == Role.ADMINISTRATOR or user.id == job.created_by_id or bool(kind and user.role in kind.roles)


@job_kind("core.probe", title=_l("Probe of the job workers"), roles=STAFF)
def probe(context: JobContext, *, steps: int = 3, seconds: float = 0.1) -> dict:
    """A job that only takes time: ``flask jobs probe`` and the tests send it to see that workers take jobs
    (and, killed half-way, that another finishes it)."""
    for step in range(steps):
        context.progress(step, steps, "job_step_waiting")
        time.sleep(seconds)
    return {"worker": f"{socket.gethostname()}:{os.getpid()}", "attempt": context.attempt}


# --- workers' presence --------------------------------------------------------------------------------------

#: the Redis keys by which running workers say they are there (``flask doctor`` lists them)
PRESENCE_PREFIX = "dti:job-workers:"
#: how long a worker's presence lasts without being renewed, and how often it is renewed
PRESENCE_SECONDS, PRESENCE_RENEW = 30, 10


def announce_worker(broker_url: str, threads: int, stopped: threading.Event) -> threading.Thread:
    """Keep saying, in Redis, that this worker is there (host, process, threads) until ``stopped`` is set."""
    import redis

    client = redis.Redis.from_url(broker_url)
    name = f"{PRESENCE_PREFIX}{socket.gethostname()}:{os.getpid()}"

    def renew() -> None:
        while True:
            try:
                client.set(name, threads, ex=PRESENCE_SECONDS)
            except redis.RedisError:
                pass  # Redis away a moment: the worker's own broker connection says so in its log
            if stopped.wait(PRESENCE_RENEW):
                break
        client.delete(name)

    thread = threading.Thread(target=renew, name="job-worker-presence", daemon=True)
    thread.start()
    return thread


def workers_seen(broker_url: str) -> list[str]:
    """The workers that said they were there within ``PRESENCE_SECONDS`` ("host:pid")."""
    import redis

    client = redis.Redis.from_url(broker_url, socket_timeout=2)
    return sorted(key.decode()[len(PRESENCE_PREFIX) :] for key in client.scan_iter(f"{PRESENCE_PREFIX}*"))
