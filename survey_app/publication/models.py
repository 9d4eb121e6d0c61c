"""The strategic indicators of Decision 483 and the values reported against their targets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.types import JSONDocument, UTCDateTime, utcnow


class StrategicIndicator(db.Model):
    """An indicator of the digital-government action plan [483 II]: baseline, yearly targets, who is responsible,
    reported every quarter; index results are read against it."""

    __tablename__ = "strategic_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the plan's number, e.g. "1.1"
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text, default="")
    #: the unit of measure: "%", or "rank" for a country's place in an international ranking
    measure: Mapped[str] = mapped_column(String(32), default="%")
    #: a rank improves downwards: 40th is better than 50th
    lower_is_better: Mapped[bool] = mapped_column(default=False, server_default=false())
    legal_basis: Mapped[str] = mapped_column(String(200), default="")
    #: the MIC unit that measures and follows the indicator ("Đơn vị đo lường, theo dõi")
    agency: Mapped[str] = mapped_column(String(200), default="")
    #: the bodies that carry it out with it ("Cơ quan, đơn vị thực hiện, phối hợp"), "" when the plan names none
    coordinating_agency: Mapped[str] = mapped_column(String(300), default="", server_default="")
    baseline_year: Mapped[int | None]
    baseline: Mapped[float | None] = mapped_column(Float)
    #: the baseline is an estimate awaiting the official figure [483 note 1]
    baseline_provisional: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: where the baseline comes from, when the plan says (its footnotes)
    baseline_note_vi: Mapped[str] = mapped_column(Text, default="", server_default="")
    baseline_note_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: year (as text, JSON keys) → target value
    targets: Mapped[dict[str, float]] = mapped_column(JSONDocument, default=dict)
    #: year → the target's comparison as written: "≥", ">", "≤", "<", "=", "top" (Top N), "" (a plain figure, to
    #: be reached); a year without an entry reads as ""
    target_comparisons: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    values: Mapped[list["IndicatorValue"]] = relationship(
        back_populates="indicator",
        cascade="all, delete-orphan",
        order_by="(IndicatorValue.year, IndicatorValue.quarter)",
    )


class IndicatorValue(db.Model):
    """A quarter's reported value of a strategic indicator; a correction replaces it (the audit log keeps the
    old value)."""

    __tablename__ = "indicator_values"
    __table_args__ = (UniqueConstraint("indicator_id", "year", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("strategic_indicators.id", ondelete="CASCADE"))
    year: Mapped[int]
    #: 1 to 4
    quarter: Mapped[int]
    value: Mapped[float] = mapped_column(Float)
    #: a provisional estimate, reported before the official figure exists and to be replaced by it [483 II.2.c]
    provisional: Mapped[bool] = mapped_column(default=False, server_default=false())
    note: Mapped[str] = mapped_column(Text, default="")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    indicator: Mapped[StrategicIndicator] = relationship(back_populates="values")
