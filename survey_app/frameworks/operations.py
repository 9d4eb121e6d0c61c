"""Storing index frameworks: load a validated file, keep published versions frozen, export."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from sqlalchemy import func, select

from questionnaires import (
    Framework,
    channel_text,
    document_hash,
    framework_from_dict,
    framework_to_dict,
    read_yaml,
    scoring_to_dict,
    shipped_framework_files,
)
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.frameworks.models import FrameworkNode, FrameworkVersion


class StoreOutcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    UPDATED = "updated"
    NEW_VERSION = "new_version"


def content_hash(document: dict) -> str:
    """SHA-256 of a framework document with its version left out, so that the same content loaded as a new
    version of a frozen framework is recognised."""
    return document_hash({key: value for key, value in document.items() if key != "version"})


def framework_of(version: FrameworkVersion) -> Framework:
    """The domain framework a stored version holds."""
    return framework_from_dict(version.document)


def find_version(code: str, year: int, version: int | None = None) -> FrameworkVersion | None:
    """A stored framework version; the newest of (code, year) when ``version`` is None."""
    query = select(FrameworkVersion).where(FrameworkVersion.code == code, FrameworkVersion.year == year)
    if version is not None:
        return db.session.scalar(query.where(FrameworkVersion.version == version))
    return db.session.scalar(query.order_by(FrameworkVersion.version.desc()).limit(1))


def store_framework(framework: Framework, *, actor: User | None = None) -> tuple[FrameworkVersion, StoreOutcome]:
    """Store a validated framework.

    A new (code, year, version) is created; the same content again changes nothing; changed content
    replaces an unfrozen version in place (nodes keep their identity by code) and becomes a new version of
    a frozen one.

    :param framework: a framework that passed validation
    :param actor: the staff member loading it, recorded in the audit log
    :return: the stored version and what happened
    """
    document = framework_to_dict(framework)
    digest = content_hash(document)
    existing = find_version(framework.code, framework.year, framework.version)
    if existing is not None and existing.content_hash == digest:
        return existing, StoreOutcome.UNCHANGED
    if existing is not None and not existing.frozen:
        # the old document is overwritten in place, so the audit event keeps it whole
        old_document = existing.document
        _write(existing, framework, document, digest)
        audit.record(
            "framework.update",
            actor=actor,
            entity=existing,
            field="document",
            old=old_document,
            new=document,
            details=_label(framework),
        )
        return existing, StoreOutcome.UPDATED
    outcome = StoreOutcome.CREATED
    if existing is not None:
        newest = db.session.scalar(
            select(func.max(FrameworkVersion.version)).where(
                FrameworkVersion.code == framework.code, FrameworkVersion.year == framework.year
            )
        )
        framework = replace(framework, version=newest + 1)
        document = framework_to_dict(framework)
        outcome = StoreOutcome.NEW_VERSION
    stored = FrameworkVersion(
        code=framework.code, year=framework.year, version=framework.version, loaded_by_id=actor.id if actor else None
    )
    db.session.add(stored)
    _write(stored, framework, document, digest)
    audit.record(
        "framework.load",
        actor=actor,
        entity=stored,
        new={"content_hash": digest},
        details={**_label(framework), "outcome": str(outcome)},
    )
    return stored, outcome


def _label(framework: Framework) -> dict:
    return {"code": framework.code, "year": framework.year, "version": framework.version}


def _write(stored: FrameworkVersion, framework: Framework, document: dict, digest: str) -> None:
    stored.last_year = framework.last_year
    stored.level = str(framework.level)
    stored.name_vi = framework.name.vi
    stored.name_en = framework.name.en
    stored.total_points = framework.total_points
    stored.source = framework.source or None
    stored.document = document
    stored.content_hash = digest
    stored.loaded_at = utcnow()
    db.session.flush()

    existing = {node.code: node for node in stored.nodes}
    rows: dict[str, FrameworkNode] = {}
    parent_codes: dict[str, str | None] = {}
    for position, (node, parent) in enumerate(framework.walk()):
        row = existing.get(node.code)
        if row is None:
            row = FrameworkNode(framework_id=stored.id, code=node.code)
            stored.nodes.append(row)
        parent_codes[node.code] = parent.code if parent else None
        row.kind = str(node.kind)
        row.position = position
        row.depth = node.kind.depth
        row.name_vi = node.name.vi
        row.name_en = node.name.en
        row.points = node.points
        row.share = node.share
        row.scored = node.scored
        row.is_leaf = node.is_leaf
        row.channels = [channel_text(use) for use in node.channels]
        row.scoring = scoring_to_dict(node.scoring) if node.scoring else None
        row.measure = node.measure
        row.criteria_count = node.criteria_count
        row.note = node.note
        rows[node.code] = row
    for code, row in existing.items():
        if code not in rows:
            stored.nodes.remove(row)
    db.session.flush()
    for code, row in rows.items():
        parent_code = parent_codes[code]
        row.parent_id = rows[parent_code].id if parent_code else None
    db.session.flush()


def freeze(stored: FrameworkVersion, *, actor: User | None) -> None:
    """Freeze a version once its year's results are published: later changes make a new version."""
    if stored.frozen:
        raise ServiceError("framework_frozen", code=stored.code, year=stored.year, version=stored.version)
    stored.frozen_at = utcnow()
    audit.record(
        "framework.freeze", actor=actor, entity=stored, field="frozen_at", old=None, new=stored.frozen_at.isoformat()
    )


def load_shipped_frameworks(*, actor: User | None = None) -> list[tuple[FrameworkVersion, StoreOutcome]]:
    """Load every framework file that ships with the product."""
    return [store_framework(read_yaml(path), actor=actor) for path in shipped_framework_files()]


def list_versions() -> list[FrameworkVersion]:
    return list(
        db.session.scalars(
            select(FrameworkVersion).order_by(
                FrameworkVersion.level, FrameworkVersion.code, FrameworkVersion.year, FrameworkVersion.version
            )
        )
    )
