"""Sample designs and weighting as stored: the plans staff keep, and every weighting run of a fieldwork with
its inputs, weights, diagnostics and the estimates it gave, so that a published estimate can be traced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.types import JSONDocument, UTCDateTime, utcnow
from survey_app.survey.models import Fieldwork


class SamplePlan(db.Model):
    """A sample plan as computed from a population frame: its parameters and its table per stratum."""

    __tablename__ = "sample_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    frame_name: Mapped[str] = mapped_column(String(255))
    frame_hash: Mapped[str] = mapped_column(String(64))
    #: the stratum columns, the unit column and the allocation settings
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: one record per stratum: its columns, population, size, margin_of_error, expected_respondents
    strata: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    #: one record per unit: unit, population, size, margin_of_error
    units: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    total: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class WeightingRun(db.Model):
    """One weighting of a fieldwork's responses: the population it was weighted to, the method and bounds,
    the diagnostics and the estimates per criterion and unit; the weight of every response is a row of
    ``RunWeight``, read only by what needs it."""

    __tablename__ = "weighting_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldworks.id", ondelete="CASCADE"), index=True)
    #: poststratify or rake
    method: Mapped[str] = mapped_column(String(16))
    #: the background variables weighted to, each crossed with the unit
    margins: Mapped[list[str]] = mapped_column(JSONDocument)
    #: trimming bounds as multiples of the unit's mean weight (None: no trimming)
    lower: Mapped[float | None]
    upper: Mapped[float | None]
    population_name: Mapped[str] = mapped_column(String(255))
    population_hash: Mapped[str] = mapped_column(String(64))
    #: {"overall": {...}, "units": {code: {...}}}: n, total, minimum, maximum, ratio, effective_n, deff
    diagnostics: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: the bins of the weights relative to their unit's mean: [{"low", "high", "count"}]
    histogram: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    #: analysis.survey_estimates() as records
    estimates: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    fieldwork: Mapped[Fieldwork] = relationship()


class RunWeight(db.Model):
    """The weight a weighting run gave one response: a row each (a national fieldwork has a million), so that
    reading a run's page reads none of them."""

    __tablename__ = "weighting_run_weights"

    run_id: Mapped[int] = mapped_column(ForeignKey("weighting_runs.id", ondelete="CASCADE"), primary_key=True)
    #: indexed for the responses' side of the key: a response erased takes its weights with it
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    weight: Mapped[float] = mapped_column(Float)
