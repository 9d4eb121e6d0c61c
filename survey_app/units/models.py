"""The units being evaluated: ministries, provinces, departments, districts, communes, in named lists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.types import BilingualName, JSONDocument

unit_predecessors = Table(
    "unit_predecessors",
    db.metadata,
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("predecessor_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class UnitList(BilingualName, db.Model):
    """A list of units valid for a span of years (the 63 provinces up to 2024, the 34 from 2025, ...)."""

    __tablename__ = "unit_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    first_year: Mapped[int | None]
    last_year: Mapped[int | None]
    source: Mapped[str | None] = mapped_column(String(500))

    #: a list's units are never removed once stored: responses, reports and results name them (a changed map
    #: is a new list, its units pointing to their predecessors). Were one removed, PostgreSQL would read the
    #: whole responses table for it, which has no index by unit alone (Response.unit_id)
    units: Mapped[list[Unit]] = relationship(
        back_populates="unit_list", order_by="Unit.position", cascade="all, delete-orphan"
    )


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("unit_list_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_list_id: Mapped[int] = mapped_column(ForeignKey("unit_lists.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    #: the unit above it (a district's province), possibly in another list
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    region: Mapped[str | None] = mapped_column(String(100))
    #: facts the scoring rules read: provides_online_services, has_subordinate_units, special_purpose
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)

    unit_list: Mapped[UnitList] = relationship(back_populates="units")
    parent: Mapped[Unit | None] = relationship(remote_side=[id])
    #: the units it was formed from (a 2025 province's pre-2025 provinces)
    predecessors: Mapped[list[Unit]] = relationship(
        secondary=unit_predecessors,
        primaryjoin=id == unit_predecessors.c.unit_id,
        secondaryjoin=id == unit_predecessors.c.predecessor_id,
        order_by="Unit.position",
    )
