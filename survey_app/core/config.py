"""Settings: embedded defaults for `make run`, everything for production from the environment."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

#: the engine of the API's submissions (see create_app)
SUBMISSIONS_BIND = "submissions"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict:
    """The settings for this process.

    Production sets ``DATABASE_URL`` (PostgreSQL) and ``SECRET_KEY``; without ``DATABASE_URL`` the service
    runs on an embedded SQLite file in the instance folder, the demo set-up of ``make run``.
    """
    production = "DATABASE_URL" in os.environ
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'dti.sqlite'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    secret_key = os.environ.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise RuntimeError("SECRET_KEY must be set when DATABASE_URL is set")
        secret_key = _instance_secret(instance_path)
    return {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # hide_parameters: an SQL error in the log must not carry the answers or contact data it was writing
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "dti_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        #: a staff session unused for this long must log in again
        "STAFF_IDLE_TIMEOUT": timedelta(minutes=int(os.environ.get("STAFF_IDLE_MINUTES", "30"))),
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "inline-memory://"),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "5 per 5 minutes"),
        #: unknown invitation tokens and resume codes a client may try (working links are not counted)
        "LINK_GUESS_RATE_LIMIT": os.environ.get("LINK_GUESS_RATE_LIMIT", "20 per 10 minutes"),
        #: answers a client may start on public links; generous, since an office shares one address
        "OPEN_LINK_RATE_LIMIT": os.environ.get("OPEN_LINK_RATE_LIMIT", "120 per hour"),
        #: API submissions per key
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "6000 per minute"),
        # the public results site and its JSON, per client address
        "PUBLIC_RATE_LIMIT": os.environ.get("PUBLIC_RATE_LIMIT", "300 per minute"),
        #: reverse proxies in front of the service whose X-Forwarded-For is trusted
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "HSTS": _bool("HSTS", production),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "16")) * 1024 * 1024,
        # what an uploaded table may expand to before anything parses it (survey_app.uploads): an .xlsx's
        # uncompressed size, and the rows of a sheet or a CSV
        "MAX_UNCOMPRESSED_MB": int(os.environ.get("MAX_UNCOMPRESSED_MB", "100")),
        "MAX_UPLOAD_ROWS": int(os.environ.get("MAX_UPLOAD_ROWS", "200000")),
        "MAX_FORM_PARTS": 1000,
        #: evidence documents: where their files live (outside the web root) and how large one may be
        "EVIDENCE_FOLDER": os.environ.get("EVIDENCE_FOLDER") or str(Path(instance_path) / "evidence"),
        "EVIDENCE_MAX_BYTES": int(os.environ.get("EVIDENCE_MAX_MB", "10")) * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 2 * 1024 * 1024,
        #: how long an expert's personal link works
        "EXPERT_LINK_DAYS": int(os.environ.get("EXPERT_LINK_DAYS", "30")),
        #: e-mail for invitations and reminders; without SMTP_HOST they are offered as a list to download
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587")),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_SENDER": os.environ.get("SMTP_SENDER", "dti@localhost"),
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", True),
        #: the longest a request's SQL statement may run on PostgreSQL before it is cancelled and answered 503
        #: (0: no limit); gunicorn.conf.py sets 30 for the app servers, commands and job workers have none
        "REQUEST_STATEMENT_TIMEOUT_SECONDS": float(os.environ.get("REQUEST_STATEMENT_TIMEOUT_SECONDS", "0")),
        #: the longest a request may work before it is stopped and answered 503 (0: no limit); gunicorn.conf.py
        #: sets 60 for the app servers (survey_app.core.request_limits)
        "REQUEST_TIMEOUT_SECONDS": float(os.environ.get("REQUEST_TIMEOUT_SECONDS", "0")),
        #: a fieldwork with more responses than this is exported by a background job to a file kept in the database
        #: for EXPORT_FILE_DAYS days (survey_app.survey.jobs); smaller ones stream straight to the browser
        "EXPORT_INLINE_MAX_ROWS": int(os.environ.get("EXPORT_INLINE_MAX_ROWS", "50000")),
        "EXPORT_FILE_DAYS": float(os.environ.get("EXPORT_FILE_DAYS", "7")),
        #: the job queue's Redis (survey_app.core.jobs); without it jobs run in a thread of the app's process
        "JOBS_BROKER_URL": os.environ.get("JOBS_BROKER_URL", ""),
        #: how often a running job's heartbeat is written, and how cold it may get before the job is thought
        #: lost and another worker may claim it (below the broker's heartbeat timeout, after which Redis hands
        #: a silent worker's messages to another)
        "JOBS_HEARTBEAT_SECONDS": float(os.environ.get("JOBS_HEARTBEAT_SECONDS", "10")),
        "JOBS_STALE_SECONDS": float(os.environ.get("JOBS_STALE_SECONDS", "30")),
        "JOBS_BROKER_HEARTBEAT_SECONDS": float(os.environ.get("JOBS_BROKER_HEARTBEAT_SECONDS", "60")),
        #: of a million broker commands, how many also put lost workers' messages back (Dramatiq's default)
        "JOBS_BROKER_MAINTENANCE_CHANCE": int(os.environ.get("JOBS_BROKER_MAINTENANCE_CHANCE", "1000")),
    }


def _instance_secret(instance_path: str) -> str:
    """A random key kept in the instance folder, so that a development server's sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
