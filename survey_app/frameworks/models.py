"""Index frameworks as stored: the validated document, and its nodes as rows that other records point at."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.types import BilingualName, JSONDocument, UTCDateTime, utcnow


class FrameworkVersion(BilingualName, db.Model):
    """One version of a framework (code, year, version). Frozen once a year's results are published."""

    __tablename__ = "frameworks"
    __table_args__ = (UniqueConstraint("code", "year", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    year: Mapped[int]
    last_year: Mapped[int | None]
    version: Mapped[int]
    level: Mapped[str] = mapped_column(String(16))
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    total_points: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(500))
    #: the framework as framework_to_dict() gives it: the stored truth, nodes below are its index
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: SHA-256 of the canonical document, to tell a changed file from the same one loaded again
    content_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    nodes: Mapped[list[FrameworkNode]] = relationship(
        back_populates="framework", order_by="FrameworkNode.position", cascade="all, delete-orphan"
    )

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


class FrameworkNode(BilingualName, db.Model):
    __tablename__ = "framework_nodes"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("framework_nodes.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    #: depth-first order within the framework
    position: Mapped[int]
    depth: Mapped[int]
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    points: Mapped[float] = mapped_column(Float)
    share: Mapped[float | None] = mapped_column(Float)
    scored: Mapped[bool] = mapped_column(default=True)
    is_leaf: Mapped[bool] = mapped_column(default=False)
    #: channel names, with respondent groups for the survey: ["self_assessment", "survey(citizens)"]
    channels: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    scoring: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, nullable=True)
    measure: Mapped[str | None] = mapped_column(String(100))
    criteria_count: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)

    framework: Mapped[FrameworkVersion] = relationship(back_populates="nodes")
