"""The expert channel's results: the submitted scores and their trimmed mean per unit and criterion."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

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
    expert_scores,
)
from sampling import (
    COMPOSITION,
    ExpertCategory,
)
from survey_app.core.extensions import db
from survey_app.experts.models import ExpertForm, ExpertPanel, Nomination, PanelSeat, SeatRole
from survey_app.experts.operations.panels import expert_questionnaire_code
from survey_app.frameworks.operations import framework_of
from survey_app.rounds.models import EvaluationRound
from survey_app.survey.models import PublishedQuestionnaire


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
