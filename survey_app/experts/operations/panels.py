"""Expert panels: the experts' questionnaire of a round, each unit's panel selected to its 40/30/30 composition with
reserves, declines and overrides, and the experts' personal links and reminders."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from questionnaires import (
    EXPERT_GROUP,
    expert_questionnaire_to_dict,
    generate_expert,
)
from sampling import (
    PANEL_SIZES,
    ExpertCategory,
    SamplingError,
    panel_quotas,
    shortfalls,
)
from sampling import select_panel as draw_panel
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.tokens import new_token, token_hash
from survey_app.core.types import utcnow
from survey_app.experts.models import ExpertForm, ExpertPanel, Nomination, PanelSeat, SeatRole
from survey_app.experts.operations.nominations import DEFAULT_PANEL_SIZE, STATUSES, nominations, round_units
from survey_app.frameworks.operations import framework_of
from survey_app.rounds.models import EvaluationRound
from survey_app.survey.models import PublishedQuestionnaire
from survey_app.survey.operations.questionnaires import publish_snapshot
from survey_app.units.models import Unit


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
