"""Sample designs and weighting as stored: the plans staff keep, and every weighting run of a fieldwork with
its inputs, weights, diagnostics and the estimates it gave, so that a published estimate can be traced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.types import JSONDocument, UTCDateTime, utcnow
from survey_app.survey.models import Fieldwork

#: one response's weight as a run stores it: its id and the weight, little-endian, whatever the machine
WEIGHT_RECORD = np.dtype([("response", "<i8"), ("weight", "<f8")])


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
    the diagnostics and the estimates per criterion and unit, and the weight of every response (``weights``),
    read only by what needs it."""

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
    #: every response's weight, packed as ``WEIGHT_RECORD``s in the responses' order: a national run has a
    #: million, which as rows took about 20 s to store (their keys' and index's checks) and here a fraction of
    #: one; deferred, so reading a run's page reads none of them. A response erased since keeps its pair, whose
    #: id then names nothing.
    weights: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    fieldwork: Mapped[Fieldwork] = relationship()
