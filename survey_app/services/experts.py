"""The expert channel's use cases: nominations, panels, personal links, the experts' forms, and the results.

Rules live in the domain packages (``sampling.check_nominations``, ``sampling.select_panel``,
``questionnaires.generate_expert``, ``analysis.experts``); this module loads, calls them and stores.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Mapping

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from analysis import (
    aggregate,
    agreement,
    channel_points,
    channel_values,
    composition_weighted,
    outlying_experts,
    value_se,
)
from analysis.experts import DEFAULT_TRIM
from questionnaires import (
    EXPERT_GROUP,
    ExpertQuestionnaire,
    check_expert_answers,
    document_hash,
    expert_questionnaire_to_dict,
    expert_scores,
    generate_expert,
)
from sampling import (
    COMPOSITION,
    PANEL_SIZES,
    ExpertCategory,
    RejectedNomination,
    SamplingError,
    check_nominations,
    panel_quotas,
    shortfalls,
)
from sampling import select_panel as draw_panel
from survey_app.extensions import db
from survey_app.models import (
    EvaluationRound,
    ExpertForm,
    ExpertPanel,
    Nomination,
    PanelSeat,
    PublishedQuestionnaire,
    SeatRole,
    Unit,
    User,
)
from survey_app.models.types import utcnow
from survey_app.services import ServiceError, audit
from survey_app.services.collection import publish_snapshot, read_rows
from survey_app.services.frameworks import framework_of
from survey_app.services.tokens import new_token, token_hash

#: statuses of a member's form, in the order fieldwork moves through them
STATUSES = ("selected", "invited", "opened", "in_progress", "submitted", "declined")
#: a panel's default size: the smallest the letter allows [5066 Annex II.3]
DEFAULT_PANEL_SIZE = 15


def round_units(evaluation_round: EvaluationRound) -> list[Unit]:
    return list(evaluation_round.unit_list.units)


def _unit(evaluation_round: EvaluationRound, code: str) -> Unit:
    unit = next((unit for unit in round_units(evaluation_round) if unit.code == code), None)
    if unit is None:
        raise ServiceError("unknown_unit", unit=code)
    return unit


# --- nominations ----------------------------------------------------------------------------------------


def nominations(evaluation_round: EvaluationRound, unit: Unit | None = None) -> list[Nomination]:
    query = (
        select(Nomination)
        .where(Nomination.round_id == evaluation_round.id)
        .options(joinedload(Nomination.unit), joinedload(Nomination.seat))
    )
    if unit is not None:
        query = query.where(Nomination.unit_id == unit.id)
    return list(db.session.scalars(query.order_by(Nomination.unit_id, Nomination.category, Nomination.name)))


def _already_nominated(evaluation_round: EvaluationRound) -> dict[str, str]:
    rows = db.session.execute(
        select(Nomination.person_key, Unit.code)
        .join(Unit, Nomination.unit_id == Unit.id)
        .where(Nomination.round_id == evaluation_round.id)
    )
    return {person: unit for person, unit in rows}


#: nominees' contact data are kept at least this long after they are nominated: a round run late still has the
#: time to form its panels and hear its experts
NOMINEE_RETENTION = timedelta(days=180)


def erase_after(evaluation_round: EvaluationRound, today: date | None = None) -> date:
    """The round's erase date for nominees' contact data: the end of the year after the round's, and at least
    ``NOMINEE_RETENTION`` after ``today`` (by default the service's today). A member's link moves it on to the
    day the link expires (``issue_links``), so the notice an expert reads never names a day already past."""
    today = today or utcnow().date()
    return max(date(evaluation_round.year + 1, 12, 31), today + NOMINEE_RETENTION)


@dataclass
class NominationImport:
    stored: int
    rejected: list[RejectedNomination] = field(default_factory=list)


def import_nominations(
    evaluation_round: EvaluationRound,
    rows: list[Mapping[str, Any]],
    *,
    unit: str | None = None,
    accept_valid: bool = False,
    actor: User | None,
    source: str = "form",
) -> NominationImport:
    """Check nominations row by row and store them: all of them, or none when a row is rejected, unless
    ``accept_valid`` says to keep the valid rows anyway.

    :param unit: the unit code of every row when the rows name none
    :return: how many were stored and every rejected row with its reason
    :raises ServiceError: ``empty_file`` when there is no row
    """
    units = {u.code: u for u in round_units(evaluation_round)}
    checked = check_nominations(rows, units, unit=unit, nominated=_already_nominated(evaluation_round))
    if not checked.valid and not checked.rejected:
        raise ServiceError("empty_file")
    if checked.rejected and not accept_valid:
        return NominationImport(0, checked.rejected)
    keep_until = erase_after(evaluation_round)
    for row in checked.valid:
        db.session.add(
            Nomination(
                round_id=evaluation_round.id,
                unit=units[row.unit],
                name=row.name,
                category=str(row.category),
                organisation=row.organisation,
                position=row.position,
                email=row.email,
                phone=row.phone,
                expertise=row.expertise,
                person_key=row.person,
                erase_after=keep_until,
                created_by_id=actor.id if actor else None,
            )
        )
    db.session.flush()
    if checked.valid:
        audit.record(
            "experts.nominate",
            actor=actor,
            entity=evaluation_round,
            new={"stored": len(checked.valid), "rejected": len(checked.rejected), "source": source},
        )
    return NominationImport(len(checked.valid), checked.rejected)


def import_nomination_file(
    evaluation_round: EvaluationRound,
    data: bytes,
    filename: str,
    *,
    unit: str | None = None,
    accept_valid: bool = False,
    actor: User | None,
) -> NominationImport:
    """``import_nominations`` from an uploaded CSV or Excel list (Vietnamese headers are understood)."""
    return import_nominations(
        evaluation_round, read_rows(data, filename), unit=unit, accept_valid=accept_valid, actor=actor, source="file"
    )


# --- the experts' questionnaire -------------------------------------------------------------------------


def expert_questionnaire_code(evaluation_round: EvaluationRound) -> str:
    return f"{evaluation_round.code}-experts"


def publish_expert_questionnaire(
    evaluation_round: EvaluationRound, *, actor: User | None
) -> tuple[PublishedQuestionnaire, bool]:
    """The round's experts' questionnaire, generated from its framework and frozen as a published snapshot (a new
    version only when the framework's expert-measured nodes changed).

    :raises ServiceError: ``empty_questionnaire`` when the framework marks no node as expert-measured
    """
    questionnaire = generate_expert(framework_of(evaluation_round.framework))
    if not questionnaire.items():
        raise ServiceError("empty_questionnaire", group=EXPERT_GROUP)
    return publish_snapshot(
        evaluation_round.framework,
        EXPERT_GROUP,
        expert_questionnaire_to_dict(questionnaire),
        code=expert_questionnaire_code(evaluation_round),
        name_vi=f"Phiếu ý kiến chuyên gia — {evaluation_round.name_vi}",
        name_en=f"Expert opinion form — {evaluation_round.name_en}",
        actor=actor,
    )


# --- panels ---------------------------------------------------------------------------------------------


def panels(evaluation_round: EvaluationRound) -> dict[int, ExpertPanel]:
    """The round's panels by unit id, with their seats, nominations and forms."""
    found = db.session.scalars(
        select(ExpertPanel)
        .where(ExpertPanel.round_id == evaluation_round.id)
        .options(
            selectinload(ExpertPanel.seats).joinedload(PanelSeat.nomination),
            selectinload(ExpertPanel.seats).joinedload(PanelSeat.form),
        )
    )
    return {panel.unit_id: panel for panel in found}


@dataclass
class UnitPanelState:
    """What a unit's nominations can give and where its panel stands."""

    unit: Unit
    nominated: dict[str, int]
    quotas: dict[str, int]
    #: category → experts missing to fill the quota
    missing: dict[str, int]
    panel: ExpertPanel | None
    statuses: dict[str, int]

    @property
    def feasible(self) -> bool:
        return not self.missing


def panel_states(evaluation_round: EvaluationRound, size: int = DEFAULT_PANEL_SIZE) -> list[UnitPanelState]:
    """For every unit of the round: nominations per category against the quotas of a panel of ``size`` (or of
    its panel's size once selected), what is missing, and its members' statuses."""
    counts = Counter(
        (unit_id, category)
        for unit_id, category in db.session.execute(
            select(Nomination.unit_id, Nomination.category).where(Nomination.round_id == evaluation_round.id)
        )
    )
    by_unit = panels(evaluation_round)
    states = []
    for unit in round_units(evaluation_round):
        panel = by_unit.get(unit.id)
        wanted = panel.size if panel is not None else size
        nominated = {str(c): counts[(unit.id, str(c))] for c in ExpertCategory}
        # the members, and those who declined; reserves and members replaced by hand have no status to count
        statuses = (
            Counter(seat.status for seat in panel.seats if seat.role == SeatRole.MEMBER or seat.declined_at)
            if panel is not None
            else Counter()
        )
        states.append(
            UnitPanelState(
                unit,
                nominated,
                {str(c): n for c, n in panel_quotas(wanted).items()},
                {str(s.category): s.missing for s in shortfalls(nominated, wanted)},
                panel,
                {status: statuses.get(status, 0) for status in STATUSES},
            )
        )
    return states


def select_panel(
    evaluation_round: EvaluationRound, unit: Unit, *, size: int, seed: int, actor: User | None
) -> ExpertPanel:
    """Select the unit's panel from its nominations (``sampling.select_panel``): the quotas drawn at random from
    ``seed``, the other nominees kept as reserves in their drawn order.

    :raises ServiceError: ``panel_exists``; ``invalid_panel_size``; ``panel_shortfall`` naming the category
    """
    if (
        db.session.scalar(
            select(ExpertPanel.id).where(ExpertPanel.round_id == evaluation_round.id, ExpertPanel.unit_id == unit.id)
        )
        is not None
    ):
        raise ServiceError("panel_exists", unit=unit.name)
    if size not in PANEL_SIZES:
        raise ServiceError("invalid_panel_size", size=size)
    nominees = nominations(evaluation_round, unit)
    table = pd.DataFrame({"id": [n.id for n in nominees], "category": [n.category for n in nominees]})
    try:
        drawn = draw_panel(table, size, seed=seed)
    except SamplingError as error:
        raise ServiceError(error.code, unit=unit.name, **error.params) from error
    questionnaire, _ = publish_expert_questionnaire(evaluation_round, actor=actor)
    panel = ExpertPanel(
        round_id=evaluation_round.id,
        unit=unit,
        size=size,
        seed=seed,
        questionnaire=questionnaire,
        selected_by_id=actor.id if actor else None,
    )
    by_id = {n.id: n for n in nominees}
    panel.seats = [PanelSeat(nomination=by_id[i], role=SeatRole.MEMBER) for i in drawn.members]
    for reserves in drawn.reserves.values():
        panel.seats += [
            PanelSeat(nomination=by_id[i], role=SeatRole.RESERVE, reserve_rank=rank)
            for rank, i in enumerate(reserves, start=1)
        ]
    db.session.add(panel)
    db.session.flush()
    audit.record(
        "experts.panel_select",
        actor=actor,
        entity=panel,
        new={"unit": unit.code, "size": size, "seed": seed, "members": sorted(drawn.members)},
    )
    return panel


def _next_reserve(panel: ExpertPanel, category: str) -> PanelSeat | None:
    waiting = [seat for seat in panel.seats if seat.role == SeatRole.RESERVE and seat.nomination.category == category]
    return min(waiting, key=lambda seat: seat.reserve_rank or 0, default=None)


def decline(seat: PanelSeat, *, reason: str, actor: User | None) -> PanelSeat | None:
    """A member declined: their link stops working and the next reserve of the same category takes the seat.

    :return: the replacement, or None when the category has no reserve left (the panel stays short)
    :raises ServiceError: ``not_a_member``; ``form_submitted`` when the member already submitted
    """
    if seat.role != SeatRole.MEMBER:
        raise ServiceError("not_a_member")
    if seat.form is not None and seat.form.submitted_at is not None:
        raise ServiceError("form_submitted")
    now = utcnow()
    seat.role, seat.declined_at, seat.reason = SeatRole.WITHDRAWN, now, reason
    if seat.form is not None and seat.form.revoked_at is None:
        seat.form.revoked_at = now
    replacement = _next_reserve(seat.panel, seat.nomination.category)
    if replacement is not None:
        replacement.role, replacement.reserve_rank = SeatRole.MEMBER, None
    db.session.flush()
    audit.record(
        "experts.decline",
        actor=actor,
        entity=seat,
        details={
            "reason": reason,
            "category": seat.nomination.category,
            "replacement": replacement.nomination_id if replacement else None,
        },
    )
    return replacement


def override(panel: ExpertPanel, *, remove: PanelSeat, add: Nomination, reason: str, actor: User) -> PanelSeat:
    """Staff's own choice against the draw: ``remove`` leaves the panel and ``add`` (a reserve or any nominee of
    the unit) takes the seat, with the reason in the audit log.

    :raises ServiceError: ``reason_required``; ``not_a_member``; ``not_a_nominee`` when ``add`` is not a
        nominee of the unit waiting for a seat; ``form_submitted``
    """
    if not reason.strip():
        raise ServiceError("reason_required")
    if remove.panel_id != panel.id or remove.role != SeatRole.MEMBER:
        raise ServiceError("not_a_member")
    if remove.form is not None and remove.form.submitted_at is not None:
        raise ServiceError("form_submitted")
    if (
        add.unit_id != panel.unit_id
        or add.round_id != panel.round_id
        or (add.seat is not None and (add.seat.panel_id != panel.id or add.seat.role != SeatRole.RESERVE))
    ):
        raise ServiceError("not_a_nominee")
    now = utcnow()
    remove.role, remove.reason = SeatRole.WITHDRAWN, reason.strip()
    if remove.form is not None and remove.form.revoked_at is None:
        remove.form.revoked_at = now
    seat = add.seat or PanelSeat(panel=panel, nomination=add)
    seat.role, seat.reserve_rank, seat.reason = SeatRole.MEMBER, None, reason.strip()
    db.session.add(seat)
    db.session.flush()
    audit.record(
        "experts.override",
        actor=actor,
        entity=panel,
        details={
            "reason": reason.strip(),
            "removed": remove.nomination_id,
            "added": add.id,
            "categories": [remove.nomination.category, add.category],
        },
    )
    return seat


# --- personal links -------------------------------------------------------------------------------------


@dataclass
class IssuedLink:
    seat: PanelSeat
    #: shown once: only its hash is stored
    token: str


def issue_links(
    panel: ExpertPanel, *, days: int, actor: User | None, seats: list[PanelSeat] | None = None
) -> list[IssuedLink]:
    """A new personal link, valid for ``days``, for each member (or each of ``seats``) who has not submitted;
    a member's earlier link stops working."""
    now = utcnow()
    issued = []
    for seat in seats if seats is not None else panel.seats:
        if seat.role != SeatRole.MEMBER or (seat.form is not None and seat.form.submitted_at is not None):
            continue
        token = new_token()
        if seat.form is None:
            seat.form = ExpertForm(
                token_hash=token_hash(token), link_expires_at=now + timedelta(days=days), invited_at=now, answers={}
            )
        else:
            seat.form.token_hash, seat.form.revoked_at = token_hash(token), None
            seat.form.link_expires_at, seat.form.invited_at = now + timedelta(days=days), now
        # the expert's contact data are needed while the link works: keep them at least until it expires
        seat.nomination.erase_after = max(seat.nomination.erase_after, seat.form.link_expires_at.date())
        issued.append(IssuedLink(seat, token))
    db.session.flush()
    if issued:
        audit.record("experts.links", actor=actor, entity=panel, new={"issued": len(issued), "days": days})
    return issued


def revoke_link(form: ExpertForm, *, actor: User | None) -> None:
    if form.revoked_at is None:
        form.revoked_at = utcnow()
        audit.record("experts.revoke", actor=actor, entity=form)


def reopen(form: ExpertForm, *, reason: str, actor: User) -> None:
    """Let the expert change a submitted form again; the reason is kept on the form and in the audit log.

    :raises ServiceError: ``reason_required``; ``form_not_submitted``
    """
    if not reason.strip():
        raise ServiceError("reason_required")
    if form.submitted_at is None:
        raise ServiceError("form_not_submitted")
    audit.record(
        "experts.reopen",
        actor=actor,
        entity=form,
        details={"reason": reason.strip()},
        old={"submitted_at": form.submitted_at.isoformat()},
    )
    form.submitted_at, form.submission_id, form.payload_hash = None, None, None
    form.reopened_at, form.reopen_reason = utcnow(), reason.strip()


def awaiting(panel: ExpertPanel) -> list[PanelSeat]:
    """The members who were sent a link and have not submitted: whom a reminder goes to."""
    return [
        seat
        for seat in panel.seats
        if seat.role == SeatRole.MEMBER and seat.status in ("invited", "opened", "in_progress")
    ]


def note_reminded(seats: list[PanelSeat], *, actor: User | None) -> None:
    now = utcnow()
    for seat in seats:
        seat.form.reminded_at = now
    if seats:
        audit.record("experts.remind", actor=actor, entity=seats[0].panel, new={"reminded": len(seats)})


# --- the expert's side ----------------------------------------------------------------------------------


def _usable(form: ExpertForm) -> None:
    if form.revoked_at is not None or form.seat.role != SeatRole.MEMBER:
        raise ServiceError("link_revoked")
    if utcnow() >= form.link_expires_at:
        raise ServiceError("link_expired")


def open_link(token: str) -> ExpertForm:
    """The form behind a personal link, noting when it was first opened.

    :raises ServiceError: ``unknown_link``, ``link_revoked``, ``link_expired``
    """
    form = db.session.scalar(select(ExpertForm).where(ExpertForm.token_hash == token_hash(token)))
    if form is None:
        raise ServiceError("unknown_link")
    _usable(form)
    form.opened_at = form.opened_at or utcnow()
    return form


def consent(form: ExpertForm) -> None:
    """The expert has read the notice on their personal data and agreed to go on (once; audited)."""
    if form.consented_at is None:
        form.consented_at = utcnow()
        audit.record("experts.consent", entity=form, actor_label="expert")


def form_for(form_id: int, allowed: list[int]) -> ExpertForm | None:
    """The form, when it is one of the expert's own (``allowed``: the forms their links opened) and its link
    still works; None otherwise, so that another form's address answers like an address that does not exist.

    :raises ServiceError: ``link_revoked``, ``link_expired``
    """
    if form_id not in allowed:
        return None
    # the form's page and its saves read the seat, the panel and its questionnaire: one query for all
    form = db.session.get(
        ExpertForm,
        form_id,
        options=[joinedload(ExpertForm.seat).joinedload(PanelSeat.panel).joinedload(ExpertPanel.questionnaire)],
    )
    if form is None:
        return None
    _usable(form)
    return form


def questionnaire_of(form: ExpertForm) -> ExpertQuestionnaire:
    return form.seat.panel.questionnaire.questionnaire


def save_draft(form: ExpertForm, raw: Mapping[str, Mapping[str, Any]]):
    """Keep what the expert gave so far: the valid answers are saved, the others named.

    :return: the problems by item
    :raises ServiceError: ``form_submitted``: a submitted form is not changed by a draft
    """
    if form.submitted_at is not None:
        raise ServiceError("form_submitted")
    checked = check_expert_answers(questionnaire_of(form), raw, complete=False)
    form.answers, form.saved_at = checked.answers, utcnow()
    return checked.problems


def submit(form: ExpertForm, raw: Mapping[str, Mapping[str, Any]], submission_id: str):
    """Submit the form, once: the same submission again is answered as the first was.

    :return: the problems by item (nothing is stored when there is one)
    :raises ServiceError: ``form_submitted`` when the form was submitted with other answers or another
        submission
    """
    checked = check_expert_answers(questionnaire_of(form), raw, complete=True)
    digest = document_hash(checked.answers)
    if form.submitted_at is not None:
        if form.submission_id == submission_id and form.payload_hash == digest:
            return {}
        raise ServiceError("form_submitted")
    if checked.problems:
        return checked.problems
    now = utcnow()
    form.answers, form.saved_at, form.submitted_at = checked.answers, now, now
    form.submission_id, form.payload_hash = submission_id[:64], digest
    audit.record("experts.submit", entity=form, actor_label=f"expert:{form.seat.nomination_id}")
    return {}


# --- results --------------------------------------------------------------------------------------------


def scores_frame(evaluation_round: EvaluationRound) -> pd.DataFrame:
    """The submitted forms as long rows: unit, expert (nomination id), category, item, score (NaN for
    "cannot judge")."""
    forms = db.session.scalars(
        select(ExpertForm)
        .join(PanelSeat)
        .join(ExpertPanel)
        .where(
            ExpertPanel.round_id == evaluation_round.id,
            ExpertForm.submitted_at.is_not(None),
            PanelSeat.role == SeatRole.MEMBER,
        )
        .options(
            joinedload(ExpertForm.seat).joinedload(PanelSeat.nomination),
            joinedload(ExpertForm.seat).joinedload(PanelSeat.panel).joinedload(ExpertPanel.unit),
        )
    )
    rows = []
    for form in forms:
        seat = form.seat
        for item, score in expert_scores(seat.panel.questionnaire.questionnaire, form.answers).items():
            rows.append(
                {
                    "unit": seat.panel.unit.code,
                    "expert": seat.nomination_id,
                    "category": seat.nomination.category,
                    "item": item,
                    "score": score,
                }
            )
    return pd.DataFrame(rows, columns=["unit", "expert", "category", "item", "score"])


@dataclass
class ExpertResults:
    #: per unit and item: n, mean, median, trimmed_mean, sd, iqr, composition_mean, value, points, maximum
    items: pd.DataFrame
    #: per unit: items, raters, kendall_w, chi_square, df, p_value, icc
    agreement: pd.DataFrame
    #: per unit and expert: distance, robust_z, flagged
    outliers: pd.DataFrame
    #: per unit: the categories' counts among the submitted forms
    composition: pd.DataFrame
    #: the rows ``analysis.compute`` reads when the framework splits scores by channel
    external: pd.DataFrame
    trim: float
    scale: tuple[int, int] | None


def results(evaluation_round: EvaluationRound, *, trim: float = DEFAULT_TRIM) -> ExpertResults:
    """The expert channel of a round from its submitted forms: per unit and item the aggregates with the
    trimmed mean as the channel's value, beside the mean re-weighted to 40/30/30; agreement per panel; experts
    far from their panel, flagged for review; and the channel's points per node."""
    scores = scores_frame(evaluation_round)
    questionnaire = db.session.scalar(
        select(PublishedQuestionnaire)
        .where(PublishedQuestionnaire.code == expert_questionnaire_code(evaluation_round))
        .order_by(PublishedQuestionnaire.version.desc())
        .limit(1)
    )
    scale = (questionnaire.questionnaire.scale.low, questionnaire.questionnaire.scale.high) if questionnaire else None
    empty = ExpertResults(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), trim, scale)
    if scores.empty or scale is None:
        return empty
    table = aggregate(scores, trim=trim)
    reweighted = composition_weighted(scores, {str(c): share for c, share in COMPOSITION.items()}, trim=trim)
    table = table.merge(reweighted[["unit", "item", "composition_mean"]], on=["unit", "item"], how="left")
    table["value_se"] = value_se(table, scale)
    values = channel_values(table, scale)
    points, external = channel_points(framework_of(evaluation_round.framework), values)
    table = table.merge(points.rename(columns={"node": "item"}), on=["unit", "item"], how="left")
    composition = (
        scores.drop_duplicates(["unit", "expert"])
        .groupby(["unit", "category"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=[str(c) for c in ExpertCategory], fill_value=0)
        .reset_index()
    )
    return ExpertResults(table, agreement(scores), outlying_experts(scores), composition, external, trim, scale)


def submitted_count(evaluation_round: EvaluationRound) -> int:
    return (
        db.session.scalar(
            select(func.count(ExpertForm.id))
            .join(PanelSeat)
            .join(ExpertPanel)
            .where(ExpertPanel.round_id == evaluation_round.id, ExpertForm.submitted_at.is_not(None))
        )
        or 0
    )


def expert_names(evaluation_round: EvaluationRound) -> dict[int, str]:
    return dict(
        db.session.execute(
            select(Nomination.id, Nomination.name).where(Nomination.round_id == evaluation_round.id)
        ).all()
    )
