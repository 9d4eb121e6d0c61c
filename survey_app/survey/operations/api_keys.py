"""API keys for the submission API: each scoped to fieldworks, stored as a hash, admitted from a short cache,
its last use noted once a minute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.cache import PerEngine
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.tokens import new_token, token_hash
from survey_app.core.types import utcnow
from survey_app.survey.models import (
    ApiKey,
    Fieldwork,
    api_key_fieldworks,
)

#: how long a key found live is admitted without asking the database again; submissions check it in their
#: insert all the same, so a revoked key stores nothing from the moment it is revoked
KEY_RECHECK = timedelta(seconds=30)


_KEYS: PerEngine[LiveKey] = PerEngine(1024, ttl=KEY_RECHECK.total_seconds())


def create_api_key(name: str, fieldworks: list[Fieldwork], *, actor: User | None) -> tuple[ApiKey, str]:
    """Issue a key that submits to ``fieldworks`` and no other.

    :return: the key's record and the key itself, shown once
    :raises ServiceError: ``api_key_without_fieldwork`` when no fieldwork is named
    """
    if not fieldworks:
        raise ServiceError("api_key_without_fieldwork")
    key = "dti_" + new_token()
    record = ApiKey(
        name=name, key_hash=token_hash(key), created_by_id=actor.id if actor else None, fieldworks=list(fieldworks)
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        "api_key.create",
        actor=actor,
        entity=record,
        new={"name": name, "fieldworks": [fieldwork.code for fieldwork in fieldworks]},
    )
    return record, key


def revoke_api_key(record: ApiKey, *, actor: User | None) -> None:
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.record("api_key.revoke", actor=actor, entity=record)


@dataclass
class LiveKey:
    """An API key found live: its id, the fieldworks it was issued for, and when its use was last noted."""

    id: int
    fieldwork_ids: frozenset[int]
    last_used_at: datetime | None


def api_key_for(key: str) -> LiveKey | None:
    """The live key, or None. A key found live is admitted for ``KEY_RECHECK`` without asking again (every
    API request asks); what it changes must check the key again, as ``submit_with_key`` does."""
    digest = token_hash(key)
    keys = _KEYS.of(db.engine)
    live = keys.get(digest)
    if live is not None:
        return live
    record = db.session.execute(
        select(ApiKey.id, ApiKey.last_used_at).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
    ).first()
    if record is None:
        return None
    fieldwork_ids = frozenset(
        db.session.scalars(
            select(api_key_fieldworks.c.fieldwork_id).where(api_key_fieldworks.c.api_key_id == record.id)
        )
    )
    return keys.set(digest, LiveKey(record.id, fieldwork_ids, record.last_used_at))


def key_is_live(key: LiveKey) -> bool:
    """Whether the key is still not revoked, asked of the database now."""
    return db.session.scalar(select(ApiKey.id).where(ApiKey.id == key.id, ApiKey.revoked_at.is_(None))) is not None


#: to the minute is enough to see which keys are alive, and spares a write on every submission
KEY_USE_PRECISION = timedelta(minutes=1)


def note_key_use(key: LiveKey) -> None:
    """Record that the key was used, at most once a minute per process."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > KEY_USE_PRECISION:
        db.session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        key.last_used_at = now
