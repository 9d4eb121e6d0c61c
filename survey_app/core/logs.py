"""What the service writes to its logs, and what it keeps out of them.

Links carry secrets in their path (an invitation ``/i/<token>``, a resume code ``/r/<code>``, an expert's
``/e/<token>``): anyone who reads a log line with one could answer in the respondent's place. Every log line
the service or gunicorn writes has them replaced by ``…``; passwords and answers are never logged at all, and
SQL errors are logged without their parameters (the engine's ``hide_parameters``)."""

from __future__ import annotations

import json
import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

#: a secret path segment after /i/, /r/ or /e/, and secret query values
_SECRET_PATH = re.compile(r"(/(?:i|r|e)/)[^/?#\s\"']+")
_SECRET_QUERY = re.compile(r"((?:^|[?&])(?:token|code|key|password|resume)=)[^&#\s\"']*", re.IGNORECASE)

audit_logger = logging.getLogger("survey_app.audit")


def redact(text: str) -> str:
    """``text`` with link secrets replaced by ``…``."""
    return _SECRET_QUERY.sub(r"\1…", _SECRET_PATH.sub(r"\1…", text))


class RedactingFilter(logging.Filter):
    """Redacts each record's formatted message (a handler's filter, so records from child loggers pass too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install(app_logger: logging.Logger, handler: logging.Handler) -> None:
    """Redact what the app's handler writes and let the audit trail through at INFO."""
    if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
        handler.addFilter(RedactingFilter())
    if app_logger.level == logging.NOTSET or app_logger.level > logging.INFO:
        audit_logger.setLevel(logging.INFO)


def audit_line(
    action: str, actor: str | None, entity_type: str | None, entity_id: str | None, address: str | None
) -> None:
    """One JSON line per audit event, for a log collector; values changed are in the database only."""
    audit_logger.info(
        json.dumps(
            {"audit": action, "actor": actor, "entity": entity_type, "id": entity_id, "address": address},
            ensure_ascii=False,
        )
    )


class RedactingGunicornLogger(GunicornLogger):
    """Gunicorn's logger with secret links redacted from the request line, path, query and referrer of each
    access-log line and from its error log (``gunicorn.conf.py`` names it)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "q", "f"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers + self.access_log.handlers:
            handler.addFilter(RedactingFilter())
