"""The scoring inputs units and tools send as files: self-assessed data per criterion, and cyberspace sentiment
per main index. Read row by row, each row checked against the framework and the unit list (SPEC.md §2, §5).

A file is accepted whole or not at all: the caller stores the valid rows only when nothing was rejected.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from questionnaires import Channel, Framework, Node, NodeKind, ScoringMethod, points_for

#: the columns of a self-assessment file, in the template's order
SELF_ASSESSMENT_COLUMNS = (
    "unit",
    "criterion",
    "criterion_name",
    "measure",
    "method",
    "maximum",
    "value",
    "evidence",
    "explanation",
)
#: the columns of a cyberspace file
CYBERSPACE_COLUMNS = ("unit", "node", "value")
#: the Vietnamese headers of the template, understood on the way back in beside the codes
VIETNAMESE_HEADERS = {
    "unit": "Mã đơn vị",
    "criterion": "Mã tiêu chí",
    "criterion_name": "Tên tiêu chí",
    "measure": "Đơn vị tính",
    "method": "Cách tính điểm",
    "maximum": "Điểm tối đa",
    "value": "Giá trị",
    "evidence": "Minh chứng",
    "explanation": "Giải trình",
    "node": "Mã chỉ số",
}
_HEADER_ALIASES = {
    **{text.lower(): code for code, text in VIETNAMESE_HEADERS.items()},
    "đơn vị": "unit",
    "tiêu chí": "criterion",
    "chỉ số": "node",
    "số liệu": "value",
    "giá trị đo": "value",
    "tài liệu minh chứng": "evidence",
    "evidence reference": "evidence",
    "main index": "node",
}
#: yes/no answers as units write them
_YES = {"1", "yes", "y", "true", "x", "có", "co", "đạt", "dat"}
_NO = {"0", "no", "n", "false", "không", "khong", "chưa", "chua", "không đạt", "khong dat"}
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
MAX_TEXT = 1000


def column_name(header: str) -> str:
    header = " ".join(str(header).strip().lower().split())
    return _HEADER_ALIASES.get(header, header)


@dataclass(frozen=True)
class RejectedRow:
    """A row refused, with the reason's code and what the message needs."""

    line: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SelfAssessedRow:
    line: int
    unit: str
    criterion: str
    #: the measured value (1/0 for yes/no)
    value: float
    evidence: str
    explanation: str
    #: the points the value earns by the criterion's scoring method
    points: float


@dataclass(frozen=True)
class CyberspaceRow:
    line: int
    unit: str
    node: str
    #: sentiment in [0, 1]
    value: float


@dataclass
class Checked:
    valid: list
    rejected: list[RejectedRow]


def self_assessed_criteria(framework: Framework) -> list[Node]:
    """The scored leaves a unit reports data for: measured by self-assessment (or appraisal) and scored from a
    value (not a survey rule), in framework order."""
    reported = {Channel.SELF_ASSESSMENT, Channel.APPRAISAL}
    return [
        node
        for node in framework.leaves()
        if node.scored
        and node.scoring is not None
        and node.scoring.method is not ScoringMethod.SURVEY
        and reported & set(node.channel_kinds())
    ]


def cyberspace_nodes(framework: Framework) -> list[Node]:
    """The nodes cyberspace sentiment is measured on: the main indices, and any scored node whose channels name
    cyberspace."""
    return [
        node
        for node, _ in framework.walk()
        if node.scored and (node.kind is NodeKind.MAIN_INDEX or Channel.CYBERSPACE in node.channel_kinds())
    ]


def template_rows(framework: Framework, units: Iterable[str], language: str = "vi") -> list[dict[str, Any]]:
    """The self-assessment template: one row per unit and reported criterion, the value and its evidence
    left for the unit to fill."""
    criteria = self_assessed_criteria(framework)
    return [
        {
            "unit": unit,
            "criterion": node.code,
            "criterion_name": node.name.in_language(language),
            "measure": node.measure or "",
            "method": describe_method(node),
            "maximum": node.points,
            "value": "",
            "evidence": "",
            "explanation": "",
        }
        for unit in units
        for node in criteria
    ]


def describe_method(node: Node) -> str:
    """The scoring method in the template's words, so a unit sees what its value earns."""
    scoring = node.scoring
    if scoring.method is ScoringMethod.YES_NO:
        return "yes_no"
    if scoring.method is ScoringMethod.RATIO:
        return f"ratio (target {scoring.target or 1:g})"
    return "thresholds " + "; ".join(f"≥{step.at_least:g}: {step.points:g}" for step in scoring.steps)


def parse_value(node: Node, text: str) -> float | None:
    """A reported value as a number: yes/no words for a yes/no criterion (có/không, yes/no, 1/0), otherwise a
    number with a point or a comma as the decimal mark and an optional % sign (kept as written: 85% is 85).

    :return: None when the text is not a value of the criterion's kind
    """
    cleaned = text.strip().lower()
    if node.scoring.method is ScoringMethod.YES_NO:
        if cleaned in _YES:
            return 1.0
        if cleaned in _NO:
            return 0.0
        return None
    return parse_number(cleaned)


def parse_number(text: str) -> float | None:
    """A number typed with a point or a comma as the decimal mark and an optional % sign (85% is 85), or None."""
    cleaned = text.strip().removesuffix("%").strip().replace(" ", "")
    if not _NUMBER.match(cleaned):
        return None
    value = float(cleaned.replace(",", "."))
    return value if math.isfinite(value) else None


def _rows(rows: Iterable[Mapping[str, Any]], first_line: int):
    for line, raw in enumerate(rows, start=first_line):
        row = {
            column_name(key): "" if value is None else str(value).strip()
            for key, value in raw.items()
            if key is not None
        }
        if any(row.values()):
            yield line, row


def check_self_assessment(
    rows: Iterable[Mapping[str, Any]],
    framework: Framework,
    units: Iterable[str],
    *,
    unit: str | None = None,
    first_line: int = 2,
) -> Checked:
    """Check self-assessed data row by row and score each valid row.

    :param rows: one mapping per row, keyed by column (the template's Vietnamese headers are understood)
    :param units: the codes of the units in the round
    :param unit: the unit of every row when the file has no ``unit`` column (one unit's own file)
    :return: the valid rows with their points, and each rejected row with the reason: ``unknown_unit``,
        ``unknown_criterion``, ``not_self_assessed`` (a criterion measured otherwise), ``missing_value``,
        ``invalid_value``, ``negative_value``, ``no_evidence`` (neither evidence nor a written explanation
        [5066 Annex II.2]), ``text_too_long`` or ``duplicate_row`` (the same unit and criterion twice)
    """
    allowed = set(units)
    reported = {node.code: node for node in self_assessed_criteria(framework)}
    known = {node.code for node, _ in framework.walk()}
    seen: dict[tuple[str, str], int] = {}
    valid: list[SelfAssessedRow] = []
    rejected: list[RejectedRow] = []
    for line, row in _rows(rows, first_line):
        code = row.get("unit") or (unit or "")
        criterion = row.get("criterion", "")
        if code not in allowed:
            rejected.append(RejectedRow(line, "unknown_unit", {"unit": code}))
            continue
        if criterion not in reported:
            problem = "not_self_assessed" if criterion in known else "unknown_criterion"
            rejected.append(RejectedRow(line, problem, {"criterion": criterion}))
            continue
        node = reported[criterion]
        text = row.get("value", "")
        if not text:
            rejected.append(RejectedRow(line, "missing_value", {"criterion": criterion}))
            continue
        value = parse_value(node, text)
        if value is None:
            rejected.append(RejectedRow(line, "invalid_value", {"criterion": criterion, "value": text[:50]}))
            continue
        if value < 0:
            rejected.append(RejectedRow(line, "negative_value", {"criterion": criterion, "value": text[:50]}))
            continue
        evidence, explanation = row.get("evidence", ""), row.get("explanation", "")
        if not evidence and not explanation:
            rejected.append(RejectedRow(line, "no_evidence", {"criterion": criterion}))
            continue
        too_long = next((c for c in ("evidence", "explanation") if len(row.get(c, "")) > MAX_TEXT), None)
        if too_long:
            rejected.append(RejectedRow(line, "text_too_long", {"column": too_long}))
            continue
        key = (code, criterion)
        if key in seen:
            rejected.append(
                RejectedRow(line, "duplicate_row", {"unit": code, "criterion": criterion, "first": seen[key]})
            )
            continue
        seen[key] = line
        valid.append(
            SelfAssessedRow(
                line, code, criterion, value, evidence, explanation, points_for(node.scoring, value, node.points)
            )
        )
    return Checked(valid, rejected)


def check_cyberspace(
    rows: Iterable[Mapping[str, Any]], framework: Framework, units: Iterable[str], *, first_line: int = 2
) -> Checked:
    """Check cyberspace sentiment row by row: a unit, a main index (or another node measured on cyberspace)
    and a value in [0, 1] (or a percentage written with %).

    :return: the valid rows, and each rejected row with the reason: ``unknown_unit``, ``unknown_node``,
        ``missing_value``, ``invalid_value``, ``value_out_of_range`` or ``duplicate_row``
    """
    allowed = set(units)
    nodes = {node.code for node in cyberspace_nodes(framework)}
    seen: dict[tuple[str, str], int] = {}
    valid: list[CyberspaceRow] = []
    rejected: list[RejectedRow] = []
    for line, row in _rows(rows, first_line):
        code, node = row.get("unit", ""), row.get("node", "")
        text = row.get("value", "")
        if code not in allowed:
            rejected.append(RejectedRow(line, "unknown_unit", {"unit": code}))
            continue
        if node not in nodes:
            rejected.append(RejectedRow(line, "unknown_node", {"node": node}))
            continue
        if not text:
            rejected.append(RejectedRow(line, "missing_value", {"criterion": node}))
            continue
        cleaned = text.replace(" ", "").replace(",", ".")
        percent = cleaned.endswith("%")
        cleaned = cleaned.removesuffix("%")
        if not _NUMBER.match(cleaned):
            rejected.append(RejectedRow(line, "invalid_value", {"criterion": node, "value": text[:50]}))
            continue
        value = float(cleaned) / (100 if percent else 1)
        if not 0 <= value <= 1:
            rejected.append(RejectedRow(line, "value_out_of_range", {"node": node, "value": text[:50]}))
            continue
        key = (code, node)
        if key in seen:
            rejected.append(RejectedRow(line, "duplicate_row", {"unit": code, "criterion": node, "first": seen[key]}))
            continue
        seen[key] = line
        valid.append(CyberspaceRow(line, code, node, value))
    return Checked(valid, rejected)
