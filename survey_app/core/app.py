"""The application factory, the areas it wires together and the request boundary every request ends at."""

from __future__ import annotations

import os
import weakref
from importlib import import_module
from pathlib import Path

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from survey_app.core import config, jobs, request_limits, security
from survey_app.core.extensions import babel, csrf, db, limiter, migrate

#: the service's areas, each a package with its blueprints (``blueprint.BLUEPRINTS``) and the views that fill
#: them; the core's own pages (home, language) come first
AREAS = (
    "core",
    "accounts",
    "frameworks",
    "units",
    "rounds",
    "sampling",
    "survey",
    "experts",
    "scoring",
    "reporting",
    "publication",
    "privacy",
    "audit",
)


class ServiceFlask(Flask):
    """Flask, asking once per function whether it is a coroutine.

    Flask asks again (``inspect.iscoroutinefunction``) every time it calls a request hook, a view or an error
    handler: 13 times for an API submission, a twentieth of its CPU. A plain function is kept in a weak set once
    known (functions an ``after_this_request`` made for one request leave it with the request)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._synchronous: weakref.WeakSet = weakref.WeakSet()

    def ensure_sync(self, func):
        try:
            if func in self._synchronous:
                return func
        except TypeError:  # unhashable
            return super().ensure_sync(func)
        synchronous = super().ensure_sync(func)
        if synchronous is func:
            try:
                self._synchronous.add(func)
            except TypeError:  # no weak reference to it (a builtin, an instance with __slots__): asked each time
                pass
        return synchronous


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config → extensions → blueprints → CLI.

    :param test_config: settings that override the environment's (tests)
    """
    # named after the service (its logger is "survey_app", the parent of the audit trail's), rooted in the core
    # (templates, static files, catalogues)
    app = ServiceFlask(
        "survey_app",
        root_path=str(Path(__file__).resolve().parent),
        instance_path=os.environ.get("INSTANCE_PATH") or str(Path.cwd() / "instance"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=app.config["TRUSTED_PROXIES"],
            x_proto=app.config["TRUSTED_PROXIES"],
            x_host=app.config["TRUSTED_PROXIES"],
        )

    _limit_statements(app)

    from flask.logging import default_handler

    from survey_app.core import i18n, logs

    logs.install(app.logger, default_handler)
    # the API's submissions write through an engine of their own: one autocommitted, idempotent statement
    # each, so a connection found dead is retried once (collection.submit_with_key) rather than pinged
    # before every use as the main engine's are
    app.config["SQLALCHEMY_BINDS"] = {
        config.SUBMISSIONS_BIND: {
            "url": app.config["SQLALCHEMY_DATABASE_URI"],
            "isolation_level": "AUTOCOMMIT",
            # an autocommitted connection holds no transaction to roll back when it returns to the pool
            "pool_reset_on_return": None,
            "hide_parameters": True,
            **{key: value for key, value in app.config["SQLALCHEMY_ENGINE_OPTIONS"].items() if key == "connect_args"},
        }
    }
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parents[2] / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    app.before_request(i18n.request_language_from_query)
    security.init_app(app)
    jobs.init_app(app)
    _transaction_boundary(app)
    request_limits.init_app(app)
    _template_helpers(app)

    register_blueprints(app)

    from survey_app.core import cli

    cli.init_app(app)
    return app


def _limit_statements(app: Flask) -> None:
    """On PostgreSQL, give every statement of this process's connections ``REQUEST_STATEMENT_TIMEOUT_SECONDS``
    (set for app servers by gunicorn.conf.py): a request that would run for ever is cancelled by the database and
    answered 503, pointing to the background jobs (a job lifts the limit for its own transaction)."""
    seconds = app.config.get("REQUEST_STATEMENT_TIMEOUT_SECONDS") or 0
    if seconds <= 0 or not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args["options"] = f"{connect_args.get('options', '')} -c statement_timeout={int(seconds * 1000)}".strip()
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_blueprints(app: Flask) -> None:
    """Register every area's blueprints, their routes loaded, and the error pages."""
    from survey_app.core import errors

    for area in AREAS:
        import_module(f"survey_app.{area}.views")
        for blueprint in import_module(f"survey_app.{area}.blueprint").BLUEPRINTS:
            app.register_blueprint(blueprint)
    errors.init_app(app)


def keep_changes() -> None:
    """Have this request's work committed although it answers with a client error (4xx): a page shown again
    with its mistakes keeps the valid answers it was sent. A server error (5xx) is rolled back all the same."""
    g.keep_changes = True


def _transaction_boundary(app: Flask) -> None:
    """The one commit of a request happens here: a request either lands whole or not at all.

    Its work is committed when it answers below 400, or with a client error its view keeps (``keep_changes``),
    and rolled back otherwise. Nothing leaves the process before: the e-mails the request queued in the outbox
    (``mail.queue``) are sent once the commit succeeded (those that fail wait for ``flask outbox send``), and
    forgotten with the rollback. The audit events that stand whatever the outcome (``audit.record_kept``: a
    refused access) are written afterwards, in a short transaction of their own.
    """

    from sqlalchemy.exc import DBAPIError

    from survey_app.audit import operations as audit
    from survey_app.core import mail
    from survey_app.core.errors import database_error_response

    @app.after_request
    def end_transaction(response):
        if not db.session.registry.has():
            return response  # the request never opened a session (an API submission writes on its own)
        response = _commit_or_roll_back(response)
        _write_kept(audit.take_kept())
        return response

    def _commit_or_roll_back(response):
        status = response.status_code
        if status >= 400 and not (status < 500 and g.get("keep_changes")):
            db.session.rollback()
            mail.take_queued()
            return response
        try:
            db.session.commit()
        except DBAPIError as error:
            mail.take_queued()
            # the commit failed, so the success prepared is replaced: the client retries, nothing half-stored
            return database_error_response(error)
        _send(mail.take_queued())
        return response

    def _send(queued: list[int]) -> None:
        if not queued:
            return
        try:
            delivery = mail.deliver(app.config, queued)
            db.session.commit()
        except DBAPIError:
            # the request's work is committed and its e-mails are in the outbox: the next run sends them
            db.session.rollback()
            app.logger.warning("outbox: %s e-mails left for `flask outbox send`", len(queued))
            return
        if delivery.failed:
            app.logger.warning("outbox: %s e-mails left for `flask outbox send`", delivery.failed)

    def _write_kept(events: list) -> None:
        if not events:
            return
        try:
            db.session.add_all(events)
            db.session.commit()
        except DBAPIError:
            db.session.rollback()  # each event's JSON line is in the log already


def _template_helpers(app: Flask) -> None:
    from survey_app.accounts.models import Role
    from survey_app.core import i18n

    app.add_template_filter(i18n.label, "label")
    app.add_template_filter(i18n.number, "number")
    app.add_template_filter(i18n.fixed, "fixed")
    app.add_template_filter(i18n.moment, "datetime")
    app.add_template_filter(i18n.day, "date")
    app.add_template_filter(i18n.question_name, "question_name")

    @app.context_processor
    def helpers():
        user = g.get("user")
        return {
            "current_user": user,
            "language": i18n.current_language(),
            "language_links": i18n.language_links(),
            "Role": Role,
            "ANALYSTS": security.ANALYSTS,
            "DESIGNERS": security.DESIGNERS,
            "OFFICERS": security.OFFICERS,
            "can": lambda *roles: user is not None and user.role in roles,
        }
