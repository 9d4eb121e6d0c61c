"""The unit lists that ship with the product, loaded into the database."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select

from questionnaires.tables import read_table
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.survey.operations import RowProblem, read_rows
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
#: the 2024 results were published for these units too, each the average of its predecessors' main indices
PROVINCES_2025 = ShippedList(
    "provinces-2025",
    "34 tỉnh, thành phố (từ vòng đánh giá 2024)",
    "34 provinces and cities (from the 2024 round)",
    "province",
    2024,
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

#: the national index scores the country itself [1726 II.1.e]
COUNTRY = ShippedList(
    "country",
    "Việt Nam (chỉ số cấp quốc gia)",
    "Viet Nam (national index)",
    "national",
    2021,
    None,
    "Quyết định 1726/QĐ-BTTTT, mục II.1.e; Quyết định 405/QĐ-BKHCN",
)


#: GSO's divisions as the `vietnam-provinces` package carries them (scripts/unit_lists_from_vietnam_provinces.py)
DIVISIONS_SOURCE = "Tổng cục Thống kê, danh mục đơn vị hành chính 04/01/2025 (gói vietnam-provinces 0.6.0)"
TUYEN_QUANG_DISTRICTS = ShippedList(
    "tuyen-quang-districts",
    "Huyện, thành phố thuộc tỉnh Tuyên Quang",
    "Districts and city of Tuyên Quang province",
    "district",
    2022,
    2025,
    DIVISIONS_SOURCE,
)
TUYEN_QUANG_COMMUNES = ShippedList(
    "tuyen-quang-communes",
    "Xã, phường, thị trấn thuộc tỉnh Tuyên Quang",
    "Communes, wards and townships of Tuyên Quang province",
    "commune",
    2022,
    2025,
    DIVISIONS_SOURCE,
)
TUYEN_QUANG_DEPARTMENTS = ShippedList(
    "tuyen-quang-departments",
    "Sở, ban, ngành tỉnh Tuyên Quang (ví dụ, cần rà soát)",
    "Departments of Tuyên Quang province (an example to review)",
    "department",
    2022,
    2025,
    "Ví dụ theo cơ cấu tổ chức cấp tỉnh năm 2022; cán bộ rà soát và chỉnh sửa trước khi mở kỳ đánh giá",
)
QUANG_NAM_DISTRICTS = ShippedList(
    "quang-nam-districts",
    "Huyện, thị xã, thành phố thuộc tỉnh Quảng Nam",
    "Districts, town and cities of Quảng Nam province",
    "district",
    2021,
    2025,
    DIVISIONS_SOURCE,
)
QUANG_NAM_COMMUNES = ShippedList(
    "quang-nam-communes",
    "Xã, phường, thị trấn thuộc tỉnh Quảng Nam",
    "Communes, wards and townships of Quảng Nam province",
    "commune",
    2021,
    2025,
    DIVISIONS_SOURCE,
)
#: the lists below a province, each with its file and the list that holds its units' parents
SUBORDINATE_LISTS = (
    (TUYEN_QUANG_DEPARTMENTS, "tuyen_quang_departments.csv", "provinces-2019"),
    (TUYEN_QUANG_DISTRICTS, "tuyen_quang_districts.csv", "provinces-2019"),
    (TUYEN_QUANG_COMMUNES, "tuyen_quang_communes.csv", "tuyen-quang-districts"),
    (QUANG_NAM_DISTRICTS, "quang_nam_districts.csv", "provinces-2019"),
    (QUANG_NAM_COMMUNES, "quang_nam_communes.csv", "quang-nam-districts"),
)
#: the facts Decision 742 Art. 7 turns on, as yes/no columns of a unit list's file
RULE_ATTRIBUTES = ("has_subordinate_units", "provides_online_services", "special_purpose")


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


def load_provincial_unit_lists() -> dict[str, UnitList]:
    """Create the shipped lists below a province (Tuyên Quang's departments, districts and communes, Quảng Nam's
    districts and communes: ``SUBORDINATE_LISTS``) that are not in the database yet, after the national lists
    that hold their parents. Returns every shipped list by code.

    Apart from ``load_shipped_unit_lists`` because only provincial indices need them, and 400-odd units are not
    worth loading where nobody evaluates a commune."""
    found = load_shipped_unit_lists()
    for spec, filename, parent_list in SUBORDINATE_LISTS:
        unit_list, new = _unit_list(spec)
        if new:
            parents = {unit.code: unit for unit in found[parent_list].units}
            for position, row in enumerate(shipped_rows(filename)):
                unit_list.units.append(
                    Unit(
                        code=row["code"],
                        name=row["name"],
                        level=spec.level,
                        position=position,
                        parent=parents[row["parent"]],
                        attributes={"name_en": row["name_en"]} | {name: row[name] == "yes" for name in RULE_ATTRIBUTES},
                    )
                )
            db.session.flush()
        found[spec.code] = unit_list
    return found


def load_national_unit_list() -> UnitList:
    """Create the national level's list, the country as its one unit (``COUNTRY``), when it is not in the
    database yet; a list already there is left as it is. Returns it.

    Apart from ``load_shipped_unit_lists``, whose lists are those of the ranked levels."""
    country, new = _unit_list(COUNTRY)
    if new:
        country.units.append(
            Unit(code="VN", name="Việt Nam", level="national", position=0, attributes={"name_en": "Viet Nam"})
        )
    db.session.flush()
    return country


def ranking_group(unit: Unit) -> str | None:
    """The group a unit is ranked within beside the whole ranking, or None: its ``ranking_group`` attribute, else
    for a ministry whether it provides online public services (since 2021 ministries are ranked in these two
    groups, published apart)."""
    group = unit.attributes.get("ranking_group")
    if group:
        return str(group)
    if unit.level == "ministry" and "provides_online_services" in unit.attributes:
        return "online_services" if unit.attributes["provides_online_services"] else "no_online_services"
    return None


#: the columns of a unit list's file: code and name are needed, the others optional
UNIT_COLUMNS = ("code", "name", "name_en", "parent", "predecessors", *RULE_ATTRIBUTES)
LEVELS = ("national", "ministry", "province", "department", "district", "commune")
#: how a yes/no column may be written (case folded); empty is no
_YES = {"yes": True, "có": True, "x": True, "1": True, "true": True}
_YES |= {"no": False, "không": False, "0": False, "false": False, "": False}


def import_unit_list(
    code: str,
    name_vi: str,
    name_en: str,
    level: str,
    data: bytes,
    filename: str,
    *,
    first_year: int | None = None,
    last_year: int | None = None,
    source: str = "",
    parent_list: UnitList | None = None,
    predecessor_list: UnitList | None = None,
    actor: User | None,
) -> UnitList:
    """Create a unit list from a table (CSV or Excel, read as every upload is): a row per unit with its ``code``
    and ``name``, optionally ``name_en``, ``parent`` (a code in ``parent_list``: a commune's district, a
    department's province), ``predecessors`` (codes in ``predecessor_list`` separated by ``;``: the units it was
    formed from) and the yes/no facts Decision 742 Art. 7 turns on (``RULE_ATTRIBUTES``).

    :raises ServiceError: ``unit_list_code_taken``, ``unknown_unit_level``, ``invalid_years``, the reader's codes,
        ``missing_columns``; ``rows_rejected`` naming every bad row (no code or name, a code twice, an unknown
        parent or predecessor, a yes/no that is neither); nothing is stored then
    """
    code = code.strip()
    if db.session.scalar(select(UnitList.id).where(UnitList.code == code)) is not None:
        raise ServiceError("unit_list_code_taken", code=code)
    if level not in LEVELS:
        raise ServiceError("unknown_unit_level", level=level)
    if first_year is not None and last_year is not None and last_year < first_year:
        raise ServiceError("invalid_years", first=first_year, last=last_year)
    rows = read_rows(data, filename)
    header = set(rows[0]) if rows else set()
    missing = [column for column in ("code", "name") if column not in header]
    if missing:
        raise ServiceError("missing_columns", columns=", ".join(missing))
    parents = {unit.code: unit for unit in parent_list.units} if parent_list is not None else {}
    olds = {unit.code: unit for unit in predecessor_list.units} if predecessor_list is not None else {}
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    units = []
    for line, row in enumerate(rows, start=2):
        if not any((value or "").strip() for value in row.values()):
            continue  # a blank row
        unit_code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
        if not unit_code or not name:
            problems.append(RowProblem(line, "missing_code_or_name"))
            continue
        if unit_code in seen:
            problems.append(RowProblem(line, "duplicate_unit", {"unit": unit_code, "first": seen[unit_code]}))
            continue
        seen[unit_code] = line
        parent_code = (row.get("parent") or "").strip()
        if parent_code and parent_code not in parents:
            problems.append(RowProblem(line, "unknown_parent", {"unit": parent_code}))
            continue
        predecessor_codes = [c.strip() for c in (row.get("predecessors") or "").split(";") if c.strip()]
        unknown = next((c for c in predecessor_codes if c not in olds), None)
        if unknown is not None:
            problems.append(RowProblem(line, "unknown_predecessor", {"unit": unknown}))
            continue
        facts = {}
        for name_ in RULE_ATTRIBUTES:
            value = (row.get(name_) or "").strip().casefold()
            if value not in _YES:
                problems.append(RowProblem(line, "not_yes_or_no", {"column": name_, "value": row.get(name_)}))
                break
            facts[name_] = _YES[value]
        else:
            unit = Unit(
                code=unit_code,
                name=name,
                level=level,
                position=len(units),
                parent=parents.get(parent_code),
                attributes={"name_en": (row.get("name_en") or "").strip() or name} | facts,
            )
            unit.predecessors.extend(olds[c] for c in predecessor_codes)
            units.append(unit)
    if problems:
        raise ServiceError("rows_rejected", rows=problems)
    if not units:
        raise ServiceError("empty_unit_list")
    unit_list = UnitList(
        code=code,
        name_vi=name_vi.strip(),
        name_en=name_en.strip() or name_vi.strip(),
        level=level,
        first_year=first_year,
        last_year=last_year,
        source=source.strip() or filename,
        units=units,
    )
    db.session.add(unit_list)
    db.session.flush()
    audit.record(
        "unit_list.import", actor=actor, entity=unit_list, new={"code": code, "level": level, "units": len(units)}
    )
    return unit_list
