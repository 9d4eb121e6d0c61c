"""Writing the audit log."""

from __future__ import annotations

from typing import Any

from survey_app.accounts.models import User
from survey_app.audit.models import AuditEvent
from survey_app.core import logs
from survey_app.core.extensions import db

#: the session's ``info`` key holding the events of ``record_kept``
KEPT = "audit_kept"


def record(
    action: str,
    *,
    actor: User | None = None,
    entity: Any = None,
    entity_id: Any = None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    details: dict | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Add one audit event to the session.

    :param action: what happened, as a dotted name
    :param actor: the staff member who did it, None for the system
    :param entity: the changed record; its table name and id are recorded
    :param actor_label: who acted when there is no account (the e-mail a failed login named)
    :return: the event, flushed with the caller's transaction
    """
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor=actor.email if actor is not None else actor_label,
        action=action,
        entity_type=getattr(entity, "__tablename__", None) if entity is not None else None,
        entity_id=str(entity_id if entity_id is not None else getattr(entity, "id", "")) or None,
        field=field,
        old_value=old,
        new_value=new,
        details=details,
    )
    db.session.add(event)
    logs.audit_line(action, event.actor, event.entity_type, event.entity_id, (details or {}).get("address"))
    return event


def record_kept(action: str, **fields) -> AuditEvent:
    """Record an event that stands whether the request's work is kept or not (a refused access). It waits
    outside the request's transaction, and the request's boundary writes it in a short transaction of its
    own once that one has ended (``take_kept``).

    :param fields: as for ``record``
    :return: the event, not yet in the session
    """
    event = record(action, **fields)
    db.session.expunge(event)
    db.session.info.setdefault(KEPT, []).append(event)
    return event


def take_kept() -> list[AuditEvent]:
    """The events recorded with ``record_kept`` since the last call."""
    return db.session.info.pop(KEPT, [])
