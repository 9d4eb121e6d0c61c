"""Open data: every published round's results in long format, one row per unit and node (the index, its pillars
or groups, main indices, sub-indices, criteria and pillar views) with its points, value and rank; the Frictionless
data package (https://specs.frictionlessdata.io/data-package/) that describes the rounds' CSV files; and the
filtered, paginated rows the results API serves.

The public site serves these files at stable addresses (``/results/data/<round>.csv`` and ``.xlsx``,
``/results/data/datapackage.json``); published results never change, so neither do the files of a round."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis import pillar_view_values, rank
from analysis.index import remaining_total
from questionnaires import NodeKind, UnitLevel
from survey_app.core.downloads import TABLE_FORMATS
from survey_app.publication.methodology import NATIONAL, bilingual
from survey_app.publication.operations import plain_number
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring.channel_inputs import units_by_code
from survey_app.scoring.models import ScoringRun
from survey_app.scoring.operations import exclusion_reading, result

#: the licence the data are published under; the ministry may choose another (the open-data page says so)
LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0 International",
}
#: the code of a unit's row for the whole index (no framework node is written in lower case)
INDEX = "index"
PILLAR_VIEW = "pillar_view"
NODE_KINDS = (INDEX, *(str(kind) for kind in NodeKind), PILLAR_VIEW)
LEVELS = tuple(str(level) for level in UnitLevel)
#: the most rows one page of the API answers
MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 100


@dataclass(frozen=True)
class Field:
    """A column of the open data, as the data package's table schema describes it."""

    name: str
    type: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    constraints: dict[str, Any] | None = None

    def descriptor(self) -> dict[str, Any]:
        """The Frictionless field descriptor; the standard has no place for a second language, so the titles and
        descriptions carry both, Vietnamese first."""
        found = {
            "name": self.name,
            "type": self.type,
            "title": f"{self.title_vi} / {self.title_en}",
            "description": f"{self.description_vi} / {self.description_en}",
        }
        if self.type == "number":
            found["bareNumber"] = True
        if self.constraints:
            found["constraints"] = self.constraints
        return found


FIELDS = (
    Field(
        "round", "string", "Đợt đánh giá", "Round", "Mã đợt đánh giá", "The evaluation round's code", {"required": True}
    ),
    Field("year", "integer", "Năm", "Year", "Năm đánh giá", "The year evaluated", {"required": True, "minimum": 2000}),
    Field(
        "level",
        "string",
        "Cấp",
        "Level",
        "Cấp đơn vị được đánh giá (national: cả nước là một đơn vị)",
        "The level of the units evaluated (national: the country as one unit)",
        {"required": True, "enum": list(LEVELS)},
    ),
    Field("unit", "string", "Mã đơn vị", "Unit code", "Mã đơn vị", "The unit's code", {"required": True}),
    Field("unit_name_vi", "string", "Tên đơn vị", "Unit name (vi)", "Tên đơn vị", "The unit's Vietnamese name"),
    Field(
        "unit_name_en",
        "string",
        "Tên đơn vị (tiếng Anh)",
        "Unit name (en)",
        "Tên tiếng Anh của đơn vị (tên tiếng Việt khi không có)",
        "The unit's English name (its Vietnamese name where it has none)",
    ),
    Field(
        "node",
        "string",
        "Mã chỉ số",
        "Node code",
        "Mã chỉ số, chỉ số chính, trụ cột hoặc tiêu chí; 'index' là toàn bộ chỉ số",
        "The code of the pillar, main index, sub-index or criterion; 'index' is the whole index",
        {"required": True},
    ),
    Field("node_name_vi", "string", "Tên chỉ số", "Node name (vi)", "Tên tiếng Việt", "The node's Vietnamese name"),
    Field(
        "node_name_en", "string", "Tên chỉ số (tiếng Anh)", "Node name (en)", "Tên tiếng Anh", "The node's English name"
    ),
    Field(
        "node_kind",
        "string",
        "Loại",
        "Kind",
        "index: toàn bộ chỉ số; group: nhóm; pillar: trụ cột; main_index: chỉ số chính; sub_index: chỉ số thành "
        "phần; criterion: tiêu chí; pillar_view: trụ cột ghép từ các nhóm (Tuyên Quang)",
        "index: the whole index; group; pillar; main_index; sub_index; criterion; pillar_view: a pillar read across "
        "groups (Tuyên Quang's district pillars)",
        {"required": True, "enum": list(NODE_KINDS)},
    ),
    Field("parent", "string", "Mã cấp trên", "Parent code", "Mã nút cấp trên", "The code of the node above it"),
    Field(
        "points",
        "number",
        "Điểm",
        "Points",
        "Điểm đạt được (tiêu chí bị loại khỏi đánh giá không có dòng)",
        "The points earned (a criterion excluded from the evaluation has no row)",
    ),
    Field(
        "maximum",
        "number",
        "Điểm tối đa",
        "Maximum",
        "Điểm tối đa sau khi loại các tiêu chí bị loại khỏi đánh giá",
        "The most points the node could earn once the excluded criteria are out",
    ),
    Field(
        "value",
        "number",
        "Giá trị",
        "Value",
        "Điểm đạt được trên điểm tối đa, từ 0 đến 1 (giá trị chỉ số được công bố với 4 chữ số thập phân)",
        "The points over the maximum, from 0 to 1 (the index value is published with four decimals)",
    ),
    Field(
        "rank",
        "integer",
        "Xếp hạng",
        "Rank",
        "Thứ hạng trong các đơn vị của đợt (bằng nhau cùng hạng); trống ở cấp quốc gia",
        "The rank among the round's units (equal values share a rank); empty at the national level",
        {"minimum": 1},
    ),
    Field(
        "missing",
        "boolean",
        "Thiếu số liệu",
        "Missing",
        "Tiêu chí đơn vị không có số liệu và được 0 điểm; trống ngoài tiêu chí",
        "A criterion the unit had no data on, scored 0; empty for other nodes",
    ),
)
COLUMNS = [field.name for field in FIELDS]


def _whole(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def round_table(run: ScoringRun) -> pd.DataFrame:
    """A published run's results in long format: per unit (best first) its index, then every node in framework
    order, then the pillar views, with ``COLUMNS``; the national level's one unit has no rank."""
    evaluation_round = run.evaluation_round
    found = result(run)
    framework, scores = found.framework, found.scores
    values, ranks = scores.values(), scores.ranks()
    units = units_by_code(evaluation_round)
    ranked = evaluation_round.level != NATIONAL
    # the index value is the points earned over the total left once the exclusions are out (analysis.compute), so
    # the index's points are the value times that total
    total = remaining_total(framework, scores.excluded, exclusion_reading(run))
    nodes = [(node, parent) for node, parent in framework.walk() if node.code in scores.points.columns]
    views = [view for view in framework.pillar_views if [c for c in view.includes if c in scores.points.columns]]
    view_values = pillar_view_values(framework, scores)
    view_ranks = view_values.apply(rank)
    base = {"round": evaluation_round.code, "year": evaluation_round.year, "level": evaluation_round.level}
    rows = []
    for code in sorted(scores.index_value.index, key=lambda c: (ranks.loc[c, INDEX], c)):
        unit = units.get(code)
        name = unit.name if unit is not None else code
        english = ((unit.attributes or {}).get("name_en") if unit is not None else None) or name
        owner = {**base, "unit": code, "unit_name_vi": name, "unit_name_en": english}
        index_value = float(scores.index_value[code])
        rows.append(
            {
                **owner,
                "node": INDEX,
                "node_name_vi": framework.name.vi,
                "node_name_en": bilingual(framework.name)["en"],
                "node_kind": INDEX,
                "points": index_value * total,
                "maximum": total,
                "value": index_value,
                "rank": _whole(ranks.loc[code, INDEX]) if ranked else None,
            }
        )
        for node, parent in nodes:
            names = bilingual(node.name)
            missing = scores.missing.loc[code, node.code] if node.code in scores.missing.columns else None
            rows.append(
                {
                    **owner,
                    "node": node.code,
                    "node_name_vi": names["vi"],
                    "node_name_en": names["en"],
                    "node_kind": str(node.kind),
                    "parent": parent.code if parent is not None else None,
                    "points": plain_number(scores.points.loc[code, node.code]),
                    "maximum": plain_number(scores.maximum[node.code]),
                    "value": plain_number(values.loc[code, node.code]),
                    "rank": _whole(ranks.loc[code, node.code]) if ranked else None,
                    "missing": None if missing is None else bool(missing),
                }
            )
        for view in views:
            included = [c for c in view.includes if c in scores.points.columns]
            names = bilingual(view.name)
            rows.append(
                {
                    **owner,
                    "node": view.code,
                    "node_name_vi": names["vi"],
                    "node_name_en": names["en"],
                    "node_kind": PILLAR_VIEW,
                    "points": plain_number(scores.points.loc[code, included].sum()),
                    "maximum": plain_number(scores.maximum[included].sum()),
                    "value": plain_number(view_values.loc[code, view.code]),
                    "rank": _whole(view_ranks.loc[code, view.code]) if ranked else None,
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    # whole numbers stay whole in the CSV ("3", not "3.0") even where a column has empty cells
    table["rank"] = table["rank"].astype("Int64")
    table["missing"] = table["missing"].astype("boolean")
    return table


def spreadsheet_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table with None in every empty cell (as the Excel writer and JSON expect) and Python's numbers."""
    return table.astype(object).where(table.notna(), None)


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts."""
    return spreadsheet_table(table).to_dict("records")


def resource_name(round_code: str) -> str:
    """A round's resource name in the package: lower case, and only the characters the standard allows."""
    return re.sub(r"[^-a-z0-9._]", "-", round_code.lower())


def schema() -> dict[str, Any]:
    """The table schema every round's CSV follows."""
    return {
        "fields": [field.descriptor() for field in FIELDS],
        "primaryKey": ["round", "unit", "node"],
        "missingValues": [""],
    }


def data_package(rounds: list[tuple[EvaluationRound, str]], homepage: str) -> dict[str, Any]:
    """The Frictionless data package of the published rounds, one resource per round.

    :param rounds: each published round with the absolute address of its CSV file
    :param homepage: the address of the open-data page
    """
    newest = max((found.published_at for found, _ in rounds), default=None)
    package = {
        "profile": "tabular-data-package",
        "name": "dti-published-results",
        "title": "Chỉ số chuyển đổi số (DTI): kết quả công bố / Digital Transformation Index (DTI): published results",
        "description": "Kết quả đã công bố của từng đợt đánh giá, mỗi dòng một đơn vị và một chỉ số (chỉ số tổng, "
        "trụ cột, chỉ số chính, chỉ số thành phần, tiêu chí) với điểm, giá trị và thứ hạng. / The published results "
        "of every evaluation round, one row per unit and node (the whole index, pillars, main indices, sub-indices, "
        "criteria) with its points, value and rank.",
        "homepage": homepage,
        "licenses": [LICENSE],
        "keywords": ["DTI", "chuyển đổi số", "digital transformation", "index", "Vietnam"],
        "resources": [_resource(found, path) for found, path in rounds],
    }
    if newest is not None:
        package["created"] = newest.isoformat()
    return package


def _resource(evaluation_round: EvaluationRound, path: str) -> dict[str, Any]:
    return {
        "profile": "tabular-data-resource",
        "name": resource_name(evaluation_round.code),
        "path": path,
        "title": f"{evaluation_round.name_vi} / {evaluation_round.name_en or evaluation_round.name_vi}",
        "description": f"Năm {evaluation_round.year}, cấp {evaluation_round.level} / "
        f"{evaluation_round.year}, {evaluation_round.level} level",
        "format": "csv",
        "mediatype": TABLE_FORMATS["csv"],  # the files table_file writes
        # a byte-order mark starts the file, so that a spreadsheet reads the Vietnamese right
        "encoding": "utf-8-sig",
        "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
        "licenses": [LICENSE],
        "schema": schema(),
    }


@dataclass(frozen=True)
class ValueQuery:
    """What the API's values endpoint was asked for: filters (None for any) and the page."""

    year: int | None = None
    level: str | None = None
    round: str | None = None
    unit: str | None = None
    node: str | None = None
    kind: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def wants(self, evaluation_round: EvaluationRound) -> bool:
        """Whether the round's rows can match at all (checked before its table is made)."""
        return (
            (self.year is None or evaluation_round.year == self.year)
            and (self.level is None or evaluation_round.level == self.level)
            and (self.round is None or evaluation_round.code == self.round)
        )


def filtered(tables: list[pd.DataFrame], query: ValueQuery) -> pd.DataFrame:
    """The rows of the rounds' tables that match the query's unit, node and kind, in the tables' order."""
    if not tables:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    keep = pd.Series(True, index=table.index)
    for column, wanted in (("unit", query.unit), ("node", query.node), ("node_kind", query.kind)):
        if wanted is not None:
            keep &= table[column] == wanted
    return table[keep]


def page_of(table: pd.DataFrame, query: ValueQuery) -> dict[str, Any]:
    """One page of the rows: ``items``, ``total``, ``page``, ``per_page``, ``pages`` (at least 1); a page past
    the last is empty."""
    total = len(table)
    start = (query.page - 1) * query.per_page
    return {
        "items": records(table.iloc[start : start + query.per_page]),
        "total": total,
        "page": query.page,
        "per_page": query.per_page,
        "pages": max(1, -(-total // query.per_page)),
    }


def openapi_paths() -> dict[str, dict[str, Any]]:
    """The OpenAPI description of the values endpoint (the API's document, ``/api/v1/openapi.json``, includes it);
    its ``Error`` schema is the document's."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    text = {"type": "string"}
    nullable = {"nullable": True}
    item = {
        "type": "object",
        "description": "One row of the open data; the columns are those of the data package (/results/data/)",
        "properties": {
            "round": text,
            "year": {"type": "integer"},
            "level": {"type": "string", "enum": list(LEVELS)},
            "unit": text,
            "unit_name_vi": text,
            "unit_name_en": text,
            "node": text,
            "node_name_vi": text,
            "node_name_en": text,
            "node_kind": {"type": "string", "enum": list(NODE_KINDS)},
            "parent": {**text, **nullable},
            "points": {"type": "number", **nullable},
            "maximum": {"type": "number", **nullable},
            "value": {"type": "number", **nullable},
            "rank": {"type": "integer", "minimum": 1, **nullable},
            "missing": {"type": "boolean", **nullable},
        },
        "required": ["round", "year", "level", "unit", "node", "node_kind"],
    }
    link = {"type": "string", "format": "uri"}
    page = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": item},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "pages": {"type": "integer", "minimum": 1},
            "links": {
                "type": "object",
                "properties": {
                    "self": link,
                    "first": link,
                    "last": link,
                    "prev": {**link, **nullable},
                    "next": {**link, **nullable},
                },
                "required": ["self", "first", "last", "prev", "next"],
            },
        },
        "required": ["items", "total", "page", "per_page", "pages", "links"],
    }

    def parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}

    return {
        "/api/v1/results/values": {
            "get": {
                "summary": "Every published round's values, one item per round, unit and node (the whole index, "
                "pillars, main indices, sub-indices, criteria), filtered and a page at a time",
                "parameters": [
                    parameter("year", "The year evaluated", {"type": "integer", "minimum": 0}),
                    parameter("level", "The level of the units", {"type": "string", "enum": list(LEVELS)}),
                    parameter("round", "A round's code", text),
                    parameter("unit", "A unit's code", text),
                    parameter("node", "A node's code; 'index' for the whole index", text),
                    parameter("kind", "The kind of node", {"type": "string", "enum": list(NODE_KINDS)}),
                    parameter("page", "The page, from 1", {"type": "integer", "minimum": 1, "default": 1}),
                    parameter(
                        "per_page",
                        f"Items a page, at most {MAX_PER_PAGE}",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
                    ),
                ],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": page}}},
                    "400": {"description": "A parameter that is unknown or not valid, named in the message", **error},
                    "429": {"description": "Too many requests"},
                },
            }
        }
    }
