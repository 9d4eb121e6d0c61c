"""The unit lists that ship with the product, loaded into the database."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select

from questionnaires.tables import read_table
from survey_app.core.extensions import db
from survey_app.units.models import Unit, UnitList


@dataclass(frozen=True)
class ShippedList:
    code: str
    name_vi: str
    name_en: str
    level: str
    first_year: int | None
    last_year: int | None
    source: str


PROVINCES_2019 = ShippedList(
    "provinces-2019",
    "63 tỉnh, thành phố (đến vòng đánh giá 2024)",
    "63 provinces and cities (up to the 2024 round)",
    "province",
    2020,
    2024,
    "Tổng cục Thống kê, danh mục đơn vị hành chính",
)
PROVINCES_2025 = ShippedList(
    "provinces-2025",
    "34 tỉnh, thành phố (từ năm 2025)",
    "34 provinces and cities (from 2025)",
    "province",
    2025,
    None,
    "Nghị quyết 202/2025/QH15 ngày 12/6/2025",
)
MINISTRIES_2020 = ShippedList(
    "ministries-2020",
    "Bộ, cơ quan ngang bộ (2020-2024)",
    "Ministries and ministerial-level agencies (2020-2024)",
    "ministry",
    2020,
    2024,
    "Quyết định 1726/QĐ-BTTTT; cơ cấu Chính phủ nhiệm kỳ 2021-2026",
)
MINISTRIES_2025 = ShippedList(
    "ministries-2025",
    "Bộ, cơ quan ngang bộ (từ năm 2025)",
    "Ministries and ministerial-level agencies (from 2025)",
    "ministry",
    2025,
    None,
    "Nghị quyết 176/2025/QH15 ngày 18/02/2025",
)


def shipped_rows(name: str, package: str = "survey_app.units") -> list[dict[str, str]]:
    """The rows of a CSV file shipped in the ``data`` folder of an area (the unit lists are this one's), read as an
    upload is (``questionnaires.tables``)."""
    return read_table((resources.files(package) / "data" / name).read_bytes(), name, excel=False).records()


def _unit_list(spec: ShippedList) -> tuple[UnitList, bool]:
    existing = db.session.scalar(select(UnitList).where(UnitList.code == spec.code))
    if existing is not None:
        return existing, False
    unit_list = UnitList(
        code=spec.code,
        name_vi=spec.name_vi,
        name_en=spec.name_en,
        level=spec.level,
        first_year=spec.first_year,
        last_year=spec.last_year,
        source=spec.source,
    )
    db.session.add(unit_list)
    return unit_list, True


def load_shipped_unit_lists() -> dict[str, UnitList]:
    """Create the shipped unit lists that are not in the database yet; lists already there are left as
    they are. Returns every shipped list by code."""
    provinces, new = _unit_list(PROVINCES_2019)
    if new:
        for position, row in enumerate(shipped_rows("provinces_2019.csv")):
            provinces.units.append(
                Unit(
                    code=row["code"],
                    name=row["name"],
                    level="province",
                    position=position,
                    region=row["region"],
                    attributes={"centrally_run_city": row["centrally_run_city"] == "yes"},
                )
            )
    db.session.flush()

    merged, new = _unit_list(PROVINCES_2025)
    if new:
        old_by_code = {unit.code: unit for unit in provinces.units}
        new_units: dict[str, Unit] = {}
        for row in shipped_rows("provinces_2025.csv"):
            unit = new_units.get(row["new_unit"])
            if unit is None:
                predecessor = old_by_code[row["old_province_code"]]
                unit = Unit(
                    code=predecessor.code,
                    name=row["new_unit"],
                    level="province",
                    position=len(new_units),
                    region=predecessor.region,
                    attributes={"centrally_run_city": row["new_unit"].startswith("Thành phố")},
                )
                new_units[row["new_unit"]] = unit
                merged.units.append(unit)
            unit.predecessors.append(old_by_code[row["old_province_code"]])

    ministries, new = _unit_list(MINISTRIES_2020)
    if new:
        for position, row in enumerate(shipped_rows("ministries_2020.csv")):
            ministries.units.append(
                Unit(
                    code=row["code"],
                    name=row["name"],
                    level="ministry",
                    position=position,
                    attributes={
                        "name_en": row["name_en"],
                        "kind": row["kind"],
                        "provides_online_services": row["provides_online_services"] == "yes",
                    },
                )
            )
    db.session.flush()

    ministries_2025, new = _unit_list(MINISTRIES_2025)
    if new:
        old_by_code = {unit.code: unit for unit in ministries.units}
        for position, row in enumerate(shipped_rows("ministries_2025.csv")):
            unit = Unit(
                code=row["code"],
                name=row["name"],
                level="ministry",
                position=position,
                attributes={
                    "name_en": row["name_en"],
                    "kind": row["kind"],
                    "provides_online_services": row["provides_online_services"] == "yes",
                },
            )
            unit.predecessors.extend(old_by_code[code] for code in row["predecessors"].split(";"))
            ministries_2025.units.append(unit)
    db.session.flush()
    return {unit_list.code: unit_list for unit_list in (provinces, merged, ministries, ministries_2025)}
