"""The Flask service: thin views over the domain packages, one blueprint per area."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from survey_app import config, security
from survey_app.extensions import babel, csrf, db, limiter, migrate


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config → extensions → blueprints → CLI.

    :param test_config: settings that override the environment's (tests)
    """
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or str(Path.cwd() / "instance"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"],
                                x_proto=app.config["TRUSTED_PROXIES"], x_host=app.config["TRUSTED_PROXIES"])

    from flask.logging import default_handler

    from survey_app import i18n, logs

    logs.install(app.logger, default_handler)
    # the API's submissions write through an engine of their own: one autocommitted, idempotent statement
    # each, so a connection found dead is retried once (collection.submit_with_key) rather than pinged
    # before every use as the main engine's are
    app.config["SQLALCHEMY_BINDS"] = {config.SUBMISSIONS_BIND: {
        "url": app.config["SQLALCHEMY_DATABASE_URI"], "isolation_level": "AUTOCOMMIT", "hide_parameters": True}}
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    app.before_request(i18n.request_language_from_query)
    security.init_app(app)
    _transaction_boundary(app)
    _template_helpers(app)

    from survey_app.views import register_blueprints

    register_blueprints(app)

    from survey_app import cli

    cli.init_app(app)
    return app


def _transaction_boundary(app: Flask) -> None:
    """The one commit of a request happens here: a request either lands whole or not at all."""

    from sqlalchemy.exc import DBAPIError

    from survey_app.views.errors import database_error_response

    @app.after_request
    def commit(response):
        if not db.session.registry.has():
            return response  # the request never opened a session (an API submission writes on its own)
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except DBAPIError as error:
            # the commit failed, so the success prepared is replaced: the client retries, nothing half-stored
            return database_error_response(error)
        return response


def _template_helpers(app: Flask) -> None:
    from survey_app import i18n
    from survey_app.models import Role

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
            "ANALYSTS": security.ANALYSTS, "DESIGNERS": security.DESIGNERS, "OFFICERS": security.OFFICERS,
            "can": lambda *roles: user is not None and user.role in roles,
        }
