"""``flask doctor``: what an operator checks after deploying, each check one line that says what is wrong and
what to do. Every app server, job worker and timer of a deployment shares the settings it reads."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import text

from survey_app.core import jobs
from survey_app.core.extensions import db, limiter

#: how far the clocks of this machine, the database and Redis may drift apart (signed links, sessions and job
#: heartbeats compare times taken on different machines)
CLOCK_TOLERANCE = 2


@dataclass(frozen=True)
class Check:
    name: str
    #: "ok", "warning" or "failed"
    status: str
    detail: str


def examine(app: Flask) -> list[Check]:
    """Every check, in the order an operator fixes them."""
    production = "DATABASE_URL" in os.environ
    with app.app_context():
        found = [_secret_key(app, production), *_database(app), _rate_limits(app, production)]
        found += _jobs(app, production)
        found.append(_evidence_storage())
    return found


def _secret_key(app: Flask, production: bool) -> Check:
    key = app.config.get("SECRET_KEY") or ""
    if production and len(key) < 32:
        return Check(_("secret key"), "failed", _("SECRET_KEY is shorter than 32 characters: set a long random one."))
    if not production:
        return Check(_("secret key"), "ok", _("generated in the instance folder (make run)"))
    return Check(_("secret key"), "ok", _("set"))


def _database(app: Flask) -> list[Check]:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        with db.engine.connect() as connection:
            moment = connection.execute(text("SELECT CURRENT_TIMESTAMP")).scalar()
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:  # any failure to reach it is the finding
        return [
            Check(
                _("database"), "failed", _("unreachable (%(error)s): check DATABASE_URL.", error=type(error).__name__)
            )
        ]
    found = [Check(_("database"), "ok", db.engine.url.render_as_string(hide_password=True))]
    directory = app.extensions["migrate"].directory
    heads = set(ScriptDirectory(directory).get_heads())
    if current != heads:
        found.append(
            Check(_("migrations"), "failed", _("the database is not at the code's revision: run `flask db upgrade`."))
        )
    else:
        found.append(Check(_("migrations"), "ok", ", ".join(sorted(heads))))
    found.append(_clock(_("database clock"), moment))
    return found


def _clock(name: str, moment) -> Check:
    if isinstance(moment, str):  # SQLite answers text, in UTC
        moment = datetime.fromisoformat(moment).replace(tzinfo=timezone.utc)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    drift = abs(moment.timestamp() - time.time())
    if drift > CLOCK_TOLERANCE:
        return Check(
            name,
            "failed",
            _("%(seconds)s s from this machine's clock: synchronise the clocks (NTP).", seconds=round(drift, 1)),
        )
    return Check(name, "ok", _("within %(seconds)s s of this machine's", seconds=CLOCK_TOLERANCE))


def _rate_limits(app: Flask, production: bool) -> Check:
    uri = app.config["RATELIMIT_STORAGE_URI"]
    if uri.startswith("redis"):
        try:
            alive = limiter.limiter.storage.check()
        except Exception:  # the storage's client raising is the same finding as a failed check
            alive = False
        if not alive:
            return Check(_("rate limits"), "failed", _("RATELIMIT_STORAGE_URI's Redis does not answer."))
        return Check(_("rate limits"), "ok", _("counted in Redis, shared by every app server"))
    if production:
        return Check(
            _("rate limits"),
            "warning",
            _("counted in each process's memory: set RATELIMIT_STORAGE_URI=redis://… when there is more than one."),
        )
    return Check(_("rate limits"), "ok", _("counted in this process (make run)"))


def _jobs(app: Flask, production: bool) -> list[Check]:
    url = app.config["JOBS_BROKER_URL"]
    if not url:
        if production:
            return [
                Check(_("job queue"), "failed", _("JOBS_BROKER_URL is not set: jobs would run inside the app servers."))
            ]
        return [Check(_("job queue"), "ok", _("in this process (make run)"))]
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        seconds, micros = client.time()
    except redis.RedisError as error:
        return [
            Check(
                _("job queue"),
                "failed",
                _("JOBS_BROKER_URL's Redis does not answer (%(error)s).", error=type(error).__name__),
            )
        ]
    found = [Check(_("job queue"), "ok", url.split("@")[-1])]
    found.append(_clock(_("Redis clock"), datetime.fromtimestamp(seconds + micros / 1e6, timezone.utc)))
    workers = jobs.workers_seen(url)
    if not workers:
        found.append(
            Check(_("job workers"), "failed", _("none seen: start `flask jobs worker` on at least one machine."))
        )
    else:
        found.append(Check(_("job workers"), "ok", ", ".join(workers)))
    return found


def _evidence_storage() -> Check:
    # the files are in the database, which every app server reaches: what can go wrong is the table missing
    # (not migrated) and documents whose file was not in EVIDENCE_FOLDER when the upgrade copied them in
    from survey_app.core import stored_files

    try:
        files, size, without = stored_files.census()
    except Exception as error:  # any failure to read them is the finding
        db.session.rollback()
        return Check(
            _("evidence storage"),
            "failed",
            _("the stored files cannot be read (%(error)s): run `flask db upgrade`.", error=type(error).__name__),
        )
    if without:
        return Check(
            _("evidence storage"),
            "warning",
            _(
                "%(count)s documents have no file (missing from EVIDENCE_FOLDER at the upgrade): put the files back,"
                " then run `flask db downgrade e1a0b5c0f007` and `flask db upgrade`.",
                count=without,
            ),
        )
    return Check(
        _("evidence storage"),
        "ok",
        _("%(count)s files, %(megabytes)s MB, in the database", count=files, megabytes=round(size / 1024 / 1024, 1)),
    )
