"""An evaluation round: one year's evaluation of one level, on a named framework and unit list."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.types import BilingualName, UTCDateTime, utcnow
from survey_app.frameworks.models import FrameworkVersion
from survey_app.units.models import UnitList


class RoundStatus(StrEnum):
    PREPARING = "preparing"
    COLLECTING = "collecting"
    SCORING = "scoring"
    PUBLISHED = "published"


class EvaluationRound(BilingualName, db.Model):
    __tablename__ = "evaluation_rounds"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short identifier used in addresses ("province-2023")
    code: Mapped[str] = mapped_column(String(64))
    year: Mapped[int]
    level: Mapped[str] = mapped_column(String(16))
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"))
    unit_list_id: Mapped[int] = mapped_column(ForeignKey("unit_lists.id"))
    status: Mapped[RoundStatus] = mapped_column(String(16), default=RoundStatus.PREPARING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    framework: Mapped[FrameworkVersion] = relationship()
    unit_list: Mapped[UnitList] = relationship()
