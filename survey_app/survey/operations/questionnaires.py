"""Questionnaires published from a framework and a question bank: each kept as the frozen snapshot respondents
answer, its content hash naming the version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from questionnaires import (
    QuestionBank,
    RespondentGroup,
    coverage,
    document_hash,
    generate,
    questionnaire_to_dict,
)
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.frameworks.models import FrameworkVersion
from survey_app.frameworks.operations import framework_of
from survey_app.survey.models import (
    PublishedQuestionnaire,
)


def publish_questionnaire(
    framework: FrameworkVersion,
    group: RespondentGroup,
    bank: QuestionBank,
    *,
    code: str,
    name_vi: str,
    name_en: str,
    actor: User | None,
) -> tuple[PublishedQuestionnaire, bool]:
    """Generate the group's questionnaire from the framework and publish it as a frozen snapshot.

    The same content again returns the latest version unchanged; other content makes a new version.

    :return: the snapshot and whether it is new
    :raises ServiceError: ``coverage_gaps`` naming the criteria without a question for the group
    """
    spec = framework_of(framework)
    gaps = [gap.criterion for gap in coverage(spec, bank.questions) if gap.group == group]
    if gaps:
        raise ServiceError("coverage_gaps", criteria=", ".join(gaps))
    questionnaire = generate(spec, bank.questions, group, bank.background)
    if not questionnaire.questions():
        raise ServiceError("empty_questionnaire", group=str(group))
    return publish_snapshot(
        framework,
        str(group),
        questionnaire_to_dict(questionnaire),
        code=code,
        name_vi=name_vi,
        name_en=name_en,
        actor=actor,
    )


def publish_snapshot(
    framework: FrameworkVersion,
    group: str,
    document: dict[str, Any],
    *,
    code: str,
    name_vi: str,
    name_en: str,
    actor: User | None,
) -> tuple[PublishedQuestionnaire, bool]:
    """Store a generated questionnaire's document as the next version of ``code``, unless the latest version
    already has this content.

    :return: the snapshot and whether it is new
    """
    digest = document_hash(document)
    latest = db.session.scalar(
        select(PublishedQuestionnaire)
        .where(PublishedQuestionnaire.code == code)
        .order_by(PublishedQuestionnaire.version.desc())
        .limit(1)
    )
    if latest is not None and latest.content_hash == digest:
        return latest, False
    snapshot = PublishedQuestionnaire(
        code=code,
        version=(latest.version + 1) if latest else 1,
        group=group,
        name_vi=name_vi,
        name_en=name_en or name_vi,
        framework=framework,
        document=document,
        content_hash=digest,
        published_by_id=actor.id if actor else None,
    )
    db.session.add(snapshot)
    db.session.flush()
    audit.record(
        "questionnaire.publish",
        actor=actor,
        entity=snapshot,
        new={"code": code, "version": snapshot.version, "content_hash": digest},
    )
    return snapshot, True


def list_questionnaires() -> list[PublishedQuestionnaire]:
    return list(
        db.session.scalars(
            select(PublishedQuestionnaire).order_by(PublishedQuestionnaire.code, PublishedQuestionnaire.version.desc())
        )
    )
