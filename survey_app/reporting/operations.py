"""A unit's report for a round and period: the criteria it self-reports, its values checked by each criterion's
method and saved as typed, and its workflow (submit → approve or return → sign off; reopened by an appraiser).
Every step is in the audit log; a signed-off report becomes the unit's self-assessment that scoring reads."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from analysis import self_assessed_criteria
from analysis.inputs import MAX_TEXT, parse_value
from questionnaires import Node, ScoringMethod, points_for
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.frameworks.operations import framework_of
from survey_app.reporting import appraisals
from survey_app.reporting.models import ReportEntry, ReportingPeriod, ReportStatus, UnitReport
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring import channel_inputs, evidence
from survey_app.scoring.models import SelfAssessment
from survey_app.units.models import Unit

#: where a reporter may still change values
EDITABLE = (ReportStatus.NOT_STARTED, ReportStatus.DRAFT, ReportStatus.RETURNED)
#: the national default deadline: data on a year reach the ministry by 20 January of the next [letter 5066]
DEFAULT_DEADLINE = (1, 20)
_RANGE = re.compile(r"\[\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\]|(\d+)\s*-\s*(\d+)")


def criteria(evaluation_round: EvaluationRound) -> list[Node]:
    """The criteria units report for themselves in the round (the self-reported channel), in framework order."""
    return self_assessed_criteria(framework_of(evaluation_round.framework))


def periods(evaluation_round: EvaluationRound) -> list[ReportingPeriod]:
    """The round's reporting periods; a round that names none reports on its calendar year, by the national
    deadline (created here, flushed)."""
    found = list(
        db.session.scalars(
            select(ReportingPeriod)
            .where(ReportingPeriod.round_id == evaluation_round.id)
            .order_by(ReportingPeriod.starts_on)
        )
    )
    if found:
        return found
    year = evaluation_round.year
    return [
        add_period(
            evaluation_round,
            str(year),
            f"Năm {year}",
            f"Year {year}",
            date(year, 1, 1),
            date(year, 12, 31),
            date(year + 1, *DEFAULT_DEADLINE),
            actor=None,
        )
    ]


def add_period(
    evaluation_round: EvaluationRound,
    code: str,
    name_vi: str,
    name_en: str,
    starts_on: date,
    ends_on: date,
    deadline: date,
    *,
    actor: User | None,
) -> ReportingPeriod:
    """Name a reporting period of the round (Tuyên Quang's half-years: ``2023-h1`` closing 30 June).

    :raises ServiceError: ``invalid_period`` (ends before it starts), ``period_code_taken``
    """
    code = code.strip().lower()
    if not re.fullmatch(r"[a-z0-9-]{1,32}", code) or ends_on < starts_on:
        raise ServiceError("invalid_period")
    if db.session.scalar(
        select(ReportingPeriod.id).where(ReportingPeriod.round_id == evaluation_round.id, ReportingPeriod.code == code)
    ):
        raise ServiceError("period_code_taken", code=code)
    period = ReportingPeriod(
        round_id=evaluation_round.id,
        code=code,
        name_vi=name_vi.strip() or code,
        name_en=name_en.strip() or code,
        starts_on=starts_on,
        ends_on=ends_on,
        deadline=deadline,
    )
    db.session.add(period)
    db.session.flush()
    audit.record("reporting.period", actor=actor, entity=period, new={"code": code, "deadline": deadline.isoformat()})
    return period


def period_of(evaluation_round: EvaluationRound, code: str) -> ReportingPeriod | None:
    return next((period for period in periods(evaluation_round) if period.code == code), None)


def rounds_of(unit: Unit) -> list[EvaluationRound]:
    """The rounds a unit reports in: those on its unit list, newest first."""
    return list(
        db.session.scalars(
            select(EvaluationRound)
            .where(EvaluationRound.unit_list_id == unit.unit_list_id)
            .order_by(EvaluationRound.year.desc(), EvaluationRound.code)
        )
    )


def report_of(period: ReportingPeriod, unit: Unit) -> UnitReport | None:
    return db.session.scalar(
        select(UnitReport)
        .where(UnitReport.period_id == period.id, UnitReport.unit_id == unit.id)
        .options(selectinload(UnitReport.entries).selectinload(ReportEntry.documents))
    )


def status_of(report: UnitReport | None) -> ReportStatus:
    return ReportStatus.NOT_STARTED if report is None else ReportStatus(report.status)


def _report(period: ReportingPeriod, unit: Unit) -> UnitReport:
    """The unit's report for the period, begun if need be; a round whose results are published takes no more."""
    channel_inputs.ensure_open(period.evaluation_round)
    report = report_of(period, unit)
    if report is None:
        report = UnitReport(period_id=period.id, unit_id=unit.id, status=ReportStatus.DRAFT)
        db.session.add(report)
        db.session.flush()
    return report


def value_range(node: Node) -> tuple[float, float | None]:
    """The values a criterion's unit of measure admits: a percentage 0-100, a share in [0, 1], a scale 1-5;
    any count not below 0."""
    measure = (node.measure or "").strip()
    if measure == "%":
        return 0.0, 100.0
    found = _RANGE.search(measure)
    if found:
        low, high = (float(part) for part in (found.group(1, 2) if found.group(1) else found.group(3, 4)))
        return low, high
    return 0.0, None


def check_value(node: Node, text: str) -> float | None:
    """A typed value read by the criterion's method and checked against its unit of measure.

    :return: the value, or None when nothing is typed
    :raises ServiceError: ``value_not_yes_no``, ``value_not_a_number``, ``negative_value``, ``value_outside_range``
    """
    text = text.strip()
    if not text:
        return None
    value = parse_value(node, text)
    if value is None:
        yes_no = node.scoring.method is ScoringMethod.YES_NO
        raise ServiceError("value_not_yes_no" if yes_no else "value_not_a_number", value=text[:50])
    low, high = value_range(node)
    if high is not None and high <= 1 and text.endswith("%"):
        value /= 100  # a share typed as a percentage: 85% of a value in [0, 1] is 0.85
    if value < 0:
        raise ServiceError("negative_value")
    if value < low or (high is not None and value > high):
        raise ServiceError("value_outside_range", low=low, high=high if high is not None else "∞")
    return value


def save(report_period: ReportingPeriod, unit: Unit, typed: dict[str, dict[str, str]], *, actor: User) -> dict:
    """Save what the unit typed, criterion by criterion, as typed: a value that is not valid yet is kept with its
    text (a draft loses nothing) and its problem returned; a valid one is stored with the points it earns.

    :param typed: criterion → {"value", "evidence", "explanation"}
    :return: criterion → the ServiceError of its value
    :raises ServiceError: ``report_locked`` when the report is no longer the reporter's to change,
        ``round_published``
    """
    report = _report(report_period, unit)
    if report.status not in EDITABLE:
        raise ServiceError("report_locked")
    nodes = {node.code: node for node in criteria(report_period.evaluation_round)}
    entries = {entry.criterion: entry for entry in report.entries}
    problems, changed = {}, []
    for code, fields in typed.items():
        node = nodes.get(code)
        if node is None:
            continue
        entry = entries.get(code)
        # a field not sent keeps what was saved (a form that sends one value changes only it)
        kept = (
            {"value": entry.value_text, "evidence": entry.evidence, "explanation": entry.explanation} if entry else {}
        )
        text = fields.get("value", kept.get("value", "")).strip()[:100]
        evidence = fields.get("evidence", kept.get("evidence", "")).strip()[:MAX_TEXT]
        explanation = fields.get("explanation", kept.get("explanation", "")).strip()[:MAX_TEXT]
        try:
            value = check_value(node, text)
        except ServiceError as problem:
            problems[code], value = problem, None
        if entry is None:
            if not (text or evidence or explanation):
                continue
            entry = ReportEntry(criterion=code)
            report.entries.append(entry)
        if (entry.value_text, entry.evidence, entry.explanation) == (text, evidence, explanation):
            continue
        entry.value_text, entry.evidence, entry.explanation = text, evidence, explanation
        entry.value = value
        entry.points = points_for(node.scoring, value, node.points) if value is not None else None
        entry.updated_at, entry.updated_by_id = utcnow(), actor.id
        changed.append({"criterion": code, "value": text, "points": entry.points})
    if changed:
        report.updated_at = utcnow()
        db.session.flush()
        audit.record("reporting.save", actor=actor, entity=report, new={"entries": changed})
    return problems


def entry_for(report_period: ReportingPeriod, unit: Unit, criterion: str) -> ReportEntry:
    """The unit's entry on a criterion, made when a document comes before its value.

    :raises ServiceError: ``report_locked``, ``unknown_criterion``
    """
    report = _report(report_period, unit)
    if report.status not in EDITABLE:
        raise ServiceError("report_locked")
    if criterion not in {node.code for node in criteria(report_period.evaluation_round)}:
        raise ServiceError("unknown_criterion", criterion=criterion)
    entry = next((entry for entry in report.entries if entry.criterion == criterion), None)
    if entry is None:
        entry = ReportEntry(criterion=criterion)
        report.entries.append(entry)
        db.session.flush()
    return entry


def typed_problems(report: UnitReport) -> dict[str, ServiceError]:
    """The problem of each value saved as typed that its method refuses (shown again beside it)."""
    nodes = {node.code: node for node in criteria(report.period.evaluation_round)}
    problems = {}
    for entry in report.entries:
        if entry.criterion in nodes and entry.value_text and entry.value is None:
            try:
                check_value(nodes[entry.criterion], entry.value_text)
            except ServiceError as problem:
                problems[entry.criterion] = problem
    return problems


def problems_of(report: UnitReport) -> dict[str, ServiceError]:
    """What keeps a report from being submitted: per criterion, a missing or invalid value, or neither evidence
    (a reference or a document) nor a written explanation [5066 Annex II.2]."""
    entries = {entry.criterion: entry for entry in report.entries}
    problems = {}
    for node in criteria(report.period.evaluation_round):
        entry = entries.get(node.code)
        if entry is None or not entry.value_text:
            problems[node.code] = ServiceError("missing_value")
            continue
        try:
            check_value(node, entry.value_text)
        except ServiceError as problem:
            problems[node.code] = problem
            continue
        if not (entry.evidence or entry.documents or entry.explanation):
            problems[node.code] = ServiceError("no_evidence")
    return problems


def _move(report: UnitReport, allowed: tuple[ReportStatus, ...], to: ReportStatus, action: str, actor, **details):
    if report.status not in allowed:
        raise ServiceError("report_wrong_step", status=str(report.status))
    old = str(report.status)
    report.status, report.updated_at = to, utcnow()
    db.session.flush()
    audit.record(
        f"reporting.{action}", actor=actor, entity=report, field="status", old=old, new=str(to), details=details
    )


def submit(report_period: ReportingPeriod, unit: Unit, *, actor: User) -> UnitReport:
    """The reporter sends the report for confirmation once every criterion has a valid value and its proof.

    :raises ServiceError: ``report_incomplete``, ``report_wrong_step``
    """
    report = _report(report_period, unit)
    if report.status not in EDITABLE:
        raise ServiceError("report_wrong_step", status=str(report.status))
    problems = problems_of(report)
    if problems:
        raise ServiceError("report_incomplete", count=len(problems))
    _move(report, EDITABLE, ReportStatus.SUBMITTED, "submit", actor)
    report.submitted_at = utcnow()
    return report


def approve(report: UnitReport, *, actor: User) -> None:
    _move(report, (ReportStatus.SUBMITTED,), ReportStatus.APPROVED, "approve", actor)
    report.approved_at = utcnow()


def send_back(report: UnitReport, comment: str, *, actor: User) -> None:
    """The approver (or the signatory) returns the report to the reporter with what to correct.

    :raises ServiceError: ``comment_required``, ``report_wrong_step``
    """
    if not comment.strip():
        raise ServiceError("comment_required")
    _move(
        report,
        (ReportStatus.SUBMITTED, ReportStatus.APPROVED),
        ReportStatus.RETURNED,
        "return",
        actor,
        comment=comment.strip(),
    )
    report.return_comment = comment.strip()[:MAX_TEXT]


def sign_off(report: UnitReport, *, actor: User, second_factor: bool) -> None:
    """The signatory signs the approved report off: its values are locked and become the unit's self-assessment
    that scoring reads, with their documents (the same stored files).

    :param second_factor: whether a code of the signatory's second factor was verified in this session
    :raises ServiceError: ``second_factor_required``, ``report_wrong_step``, ``round_published``
    """
    if not second_factor:
        raise ServiceError("second_factor_required")
    _move(report, (ReportStatus.APPROVED,), ReportStatus.SIGNED_OFF, "sign_off", actor)
    report.signed_off_at, report.signed_off_by_id = utcnow(), actor.id
    evaluation_round = report.period.evaluation_round
    nodes = {node.code: node for node in criteria(evaluation_round)}
    for entry in report.entries:
        if entry.criterion not in nodes or entry.value is None:
            continue
        # scoring's own entry point for a value typed in a form: checked, scored and audited as there
        stored = channel_inputs.report_value(
            evaluation_round,
            report.unit,
            entry.criterion,
            _as_text(nodes[entry.criterion], entry.value),
            evidence=entry.evidence or "; ".join(document.original_name for document in entry.documents),
            explanation=entry.explanation,
            actor=actor,
        )
        if stored.appraised_points is None:
            appraisals.forget_reply(stored)  # a changed value cleared its appraisal, and with it the reply
        held = {document.sha256 for document in stored.documents}
        for document in entry.documents:
            # each document once, even signed off again; one whose file was lost before files moved into the
            # database has no bytes to give
            if document.sha256 not in held and document.file is not None:
                evidence.attach_stored(stored, document.file, document.original_name, actor=actor)


def _as_text(node: Node, value: float) -> str:
    """A stored value written back as scoring reads it (no exponent, 1/0 for yes/no)."""
    if node.scoring.method is ScoringMethod.YES_NO:
        return "1" if value else "0"
    return f"{Decimal(repr(value)):f}"


def reopen(report: UnitReport, reason: str, *, actor: User) -> None:
    """An appraiser reopens a signed-off report, with the reason, so that the unit can correct it.

    :raises ServiceError: ``reason_required``, ``report_wrong_step``
    """
    if not reason.strip():
        raise ServiceError("reason_required")
    _move(report, (ReportStatus.SIGNED_OFF,), ReportStatus.RETURNED, "reopen", actor, reason=reason.strip())
    report.reopen_reason = report.return_comment = reason.strip()[:MAX_TEXT]


def round_statuses(evaluation_round: EvaluationRound, period: ReportingPeriod) -> list[tuple[Unit, ReportStatus]]:
    """Every unit of the round with where its report for the period is; a signed-off report is "appraised" once an
    officer has appraised any of the unit's values."""
    reports = {
        report.unit_id: report
        for report in db.session.scalars(select(UnitReport).where(UnitReport.period_id == period.id))
    }
    appraised = set(
        db.session.scalars(
            select(SelfAssessment.unit_id)
            .where(SelfAssessment.round_id == evaluation_round.id, SelfAssessment.appraised_at.is_not(None))
            .distinct()
        )
    )

    def shown(unit: Unit) -> ReportStatus:
        status = status_of(reports.get(unit.id))
        return ReportStatus.APPRAISED if status is ReportStatus.SIGNED_OFF and unit.id in appraised else status

    return [(unit, shown(unit)) for unit in evaluation_round.unit_list.units]
