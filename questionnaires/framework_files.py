"""Frameworks in the forms people exchange: YAML documents (the product's own files) and Excel workbooks
with one row per node (the form officials exchange). Both read through one parser that collects every
problem before refusing, so that a file is mended in one pass."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, Iterable

import yaml
from openpyxl import Workbook, load_workbook

from questionnaires._yaml import load_document
from questionnaires.framework import (
    ABOUT_TAGS,
    EXCLUSION_READINGS,
    NORMALISATIONS,
    Channel,
    ChannelShares,
    ChannelUse,
    Framework,
    Node,
    NodeKind,
    PillarView,
    PublishedAs,
    RespondentGroup,
    Scoring,
    ScoringMethod,
    Step,
    SurveyRule,
    Text,
    UnitLevel,
)
from questionnaires.validation import FrameworkInvalid, Issue, validate

#: the columns of a workbook's node sheet, in order
NODE_COLUMNS = (
    "code",
    "parent_code",
    "kind",
    "name_vi",
    "name_en",
    "points",
    "share",
    "scored",
    "channels",
    "scoring_method",
    "scoring_target",
    "scoring_steps",
    "survey_rule",
    "survey_scale",
    "survey_threshold",
    "measure",
    "criteria_count",
    "note",
    "about",
)
NODE_SHEET = "nodes"
META_SHEET = "framework"
VIEW_SHEET = "pillar_views"

_CHANNEL_PATTERN = re.compile(r"^\s*(\w+)\s*(?:\(([^)]*)\))?\s*$")

#: the value a rule needs that a field spoils when it cannot be read (the field itself when not named here)
_SPOILS = {
    "method": "scoring",
    "target": "scoring",
    "steps": "scoring",
    "rule": "scoring",
    "scale": "scoring",
    "threshold": "scoring",
    "assessment": "channel_shares",
    "cyberspace": "channel_shares",
    "expert": "channel_shares",
    "channel_shares.level": "channel_shares",
}


class _Row(dict):
    """A row of a workbook sheet as a document, knowing where it stands so that its problems can say so."""

    def __init__(self, values: dict, sheet: str, row: int):
        super().__init__(values)
        self.sheet = sheet
        self.row = row
        #: the row names a parent that is not in the sheet, or one that leads back to it
        self.detached = False


class _Reader:
    """Turns a plain document into a :class:`Framework`, collecting every structural problem."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        #: (node, field) the reader could not read, so that validation leaves out the rules that need them
        self.unreadable: set[tuple[str | None, str]] = set()
        #: node or view → the (sheet, row) of each workbook row that holds it, in reading order
        self.places: dict[str, list[tuple[str, int]]] = {}

    def problem(self, code: str, where: str | None, **params: Any) -> None:
        self.issues.append(Issue(code, where, params))
        if "field" in params:
            self.unreadable.add((where, _SPOILS.get(params["field"], params["field"])))

    def enter(self, doc: dict, where: str) -> None:
        """Note where a node or view read from a workbook row stands."""
        if isinstance(doc, _Row):
            self.places.setdefault(where, []).append((doc.sheet, doc.row))
            if doc.detached:
                self.unreadable.add((where, "parent"))

    def locate(self, issues: list[Issue]) -> list[Issue]:
        """The issues with the sheet and row of the node they name, where a workbook row holds it alone; the
        n-th repeat of a code is the n-th later row that holds it."""
        repeats: dict[str, int] = {}
        located = []
        for issue in issues:
            places = self.places.get(issue.node) if issue.node is not None and issue.sheet is None else None
            if places:
                place = places[0] if len(places) == 1 else None
                if issue.code == "duplicate_code":
                    repeats[issue.node] = repeats.get(issue.node, 0) + 1
                    place = places[min(repeats[issue.node], len(places) - 1)]
                if place is not None:
                    issue = replace(issue, sheet=place[0], row=place[1])
            located.append(issue)
        return located

    def required(self, doc: dict, key: str, where: str | None) -> Any:
        value = doc.get(key)
        if value is None or value == "":
            self.problem("missing_field", where, field=key)
        return value

    def number(self, doc: dict, key: str, where: str | None, *, required: bool = True, integer: bool = False) -> Any:
        value = self.required(doc, key, where) if required else doc.get(key)
        if value is None or value == "":
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.problem("invalid_value", where, field=key, value=value)
            return None
        if number != number or number in (float("inf"), float("-inf")):
            self.problem("invalid_value", where, field=key, value=value)
            return None
        if integer:
            if not number.is_integer():
                self.problem("invalid_value", where, field=key, value=value)
                return None
            return int(number)
        return number

    def choice(self, doc: dict, key: str, enum: type, where: str | None, *, required: bool = True) -> Any:
        value = self.required(doc, key, where) if required else doc.get(key)
        if value is None or value == "":
            return None
        try:
            return enum(str(value).strip())
        except ValueError:
            self.problem("invalid_value", where, field=key, value=value)
            return None

    def text(self, doc: dict, key: str, where: str | None) -> Text:
        value = self.required(doc, key, where)
        if isinstance(value, dict):
            vi, en = value.get("vi"), value.get("en")
            if not vi:
                self.problem("missing_field", where, field=f"{key}.vi")
            return Text(str(vi or ""), str(en or ""))
        if value is None:
            return Text("", "")
        self.problem("invalid_value", where, field=key, value=value)
        return Text(str(value), "")

    def flag(self, doc: dict, key: str, where: str | None, default: bool) -> bool:
        value = doc.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "1", "có"}:
            return True
        if text in {"false", "no", "0", "không"}:
            return False
        self.problem("invalid_value", where, field=key, value=value)
        return default

    def channels(self, value: Any, where: str) -> tuple[ChannelUse, ...]:
        if value is None or value == "":
            return ()
        items = value.split(";") if isinstance(value, str) else value
        if not isinstance(items, list):
            self.problem("invalid_value", where, field="channels", value=value)
            return ()
        uses = []
        for item in items:
            if isinstance(item, dict) and len(item) == 1:
                ((name, groups),) = item.items()
                item = f"{name}({', '.join(groups or [])})"
            match = _CHANNEL_PATTERN.match(str(item))
            if not match:
                self.problem("invalid_value", where, field="channels", value=item)
                continue
            name, group_text = match.groups()
            try:
                channel = Channel(name)
                groups = tuple(RespondentGroup(g.strip()) for g in (group_text or "").split(",") if g.strip())
            except ValueError:
                self.problem("invalid_value", where, field="channels", value=item)
                continue
            uses.append(ChannelUse(channel, groups))
        return tuple(uses)

    def scoring(self, doc: dict, where: str) -> Scoring | None:
        method = self.choice(doc, "method", ScoringMethod, where, required=False)
        if method is None:
            return None
        steps: list[Step] = []
        raw_steps = doc.get("steps") or []
        if isinstance(raw_steps, str):
            raw_steps = [part.split(":") for part in raw_steps.split(";") if part.strip()]
        for raw in raw_steps:
            pair = (raw.get("at_least"), raw.get("points")) if isinstance(raw, dict) else raw
            try:
                at_least, points = (float(x) for x in pair)
            except (TypeError, ValueError):
                self.problem("invalid_value", where, field="steps", value=raw)
                continue
            steps.append(Step(at_least, points))
        scale = doc.get("scale")
        if isinstance(scale, str):
            scale = scale.replace("–", "-").split("-")
        if scale is not None:
            try:
                low, high = (float(x) for x in scale)
                scale = (low, high)
            except (TypeError, ValueError):
                self.problem("invalid_value", where, field="scale", value=doc.get("scale"))
                scale = None
        return Scoring(
            method=method,
            target=self.number(doc, "target", where, required=False),
            steps=tuple(steps),
            rule=self.choice(doc, "rule", SurveyRule, where, required=False),
            scale=scale,
            threshold=self.number(doc, "threshold", where, required=False),
        )

    def node(self, doc: Any, where: str) -> Node | None:
        if not isinstance(doc, dict):
            self.problem("invalid_value", where, field="node", value=doc)
            return None
        code = doc.get("code")
        where = str(code) if code else where
        self.enter(doc, where)
        self.required(doc, "code", where)
        kind = self.choice(doc, "kind", NodeKind, where)
        scored = self.flag(doc, "scored", where, True)
        points = self.number(doc, "points", where, required=scored)
        scoring_doc = doc.get("scoring") or {}
        if not isinstance(scoring_doc, dict):
            self.problem("invalid_value", where, field="scoring", value=scoring_doc)
            scoring_doc = {}
        children_doc = doc.get("children") or []
        if not isinstance(children_doc, list):
            self.problem("invalid_value", where, field="children", value=children_doc)
            children_doc = []
        children = [self.node(child, f"{where}/{i + 1}") for i, child in enumerate(children_doc)]
        if None in children:
            self.unreadable.add((where, "children"))
        return Node(
            code=str(code or where),
            kind=kind or NodeKind.CRITERION,
            name=self.text(doc, "name", where),
            points=points or 0.0,
            share=self.number(doc, "share", where, required=False),
            scored=scored,
            channels=self.channels(doc.get("channels"), where),
            scoring=self.scoring(scoring_doc, where),
            measure=_optional_text(doc.get("measure")),
            criteria_count=self.number(doc, "criteria_count", where, required=False, integer=True),
            note=_optional_text(doc.get("note")),
            about=self.about(doc.get("about"), where),
            children=[child for child in children if child is not None],
        )

    def about(self, value: Any, where: str) -> tuple[str, ...]:
        """What a criterion is about: a list, or in a workbook the tags separated by ";"."""
        if value in (None, ""):
            return ()
        tags = [part.strip() for part in value.split(";")] if isinstance(value, str) else value
        if not isinstance(tags, list) or any(tag not in ABOUT_TAGS for tag in tags):
            self.problem("invalid_value", where, field="about", value=value)
            return ()
        return tuple(tag for tag in tags if tag)

    def framework(self, doc: Any) -> Framework | None:
        if not isinstance(doc, dict):
            self.problem("invalid_value", None, field="framework", value=type(doc).__name__)
            return None
        shares = None
        shares_doc = doc.get("channel_shares")
        if isinstance(shares_doc, dict):
            level = shares_doc.get("level", "pillar")
            if level not in ("pillar", "framework"):
                self.problem("invalid_value", None, field="channel_shares.level", value=level)
            shares = ChannelShares(
                assessment=self.number(shares_doc, "assessment", None) or 0.0,
                cyberspace=self.number(shares_doc, "cyberspace", None) or 0.0,
                expert=self.number(shares_doc, "expert", None) or 0.0,
                level=level,
            )
        elif shares_doc is not None:
            self.problem("invalid_value", None, field="channel_shares", value=shares_doc)
        views = []
        for i, view in enumerate(doc.get("pillar_views") or []):
            where = str(view.get("code") or f"pillar_views/{i + 1}") if isinstance(view, dict) else None
            if not isinstance(view, dict):
                self.problem("invalid_value", None, field="pillar_views", value=view)
                continue
            self.enter(view, where)
            includes = view.get("includes") or []
            if isinstance(includes, str):
                includes = [part.strip() for part in includes.split(";") if part.strip()]
            if not isinstance(includes, list) or not all(isinstance(code, (str, int)) for code in includes):
                self.problem("invalid_value", where, field="includes", value=includes)
                includes = []
            includes = [str(code) for code in includes]
            views.append(
                PillarView(
                    str(self.required(view, "code", where)),
                    self.text(view, "name", where),
                    self.number(view, "points", where) or 0.0,
                    tuple(includes),
                )
            )
        nodes_doc = self.required(doc, "nodes", None) or []
        if not isinstance(nodes_doc, list):
            self.problem("invalid_value", None, field="nodes", value=type(nodes_doc).__name__)
            nodes_doc = []
        nodes = [self.node(node, str(i + 1)) for i, node in enumerate(nodes_doc)]
        if None in nodes:
            self.unreadable.add((None, "nodes"))
        normalisation = str(doc.get("normalisation") or "none")
        if normalisation not in NORMALISATIONS:
            self.problem("invalid_value", None, field="normalisation", value=normalisation)
            normalisation = "none"
        exclusion = str(doc.get("exclusion") or "redistribute")
        if exclusion not in EXCLUSION_READINGS:
            self.problem("invalid_value", None, field="exclusion", value=exclusion)
            exclusion = "redistribute"
        return Framework(
            code=str(self.required(doc, "code", None) or ""),
            level=self.choice(doc, "level", UnitLevel, None) or UnitLevel.PROVINCE,
            year=self.number(doc, "year", None, integer=True) or 0,
            version=self.number(doc, "version", None, required=False, integer=True) or 1,
            name=self.text(doc, "name", None),
            total_points=self.number(doc, "total_points", None) or 0.0,
            nodes=[node for node in nodes if node is not None],
            last_year=self.number(doc, "last_year", None, required=False, integer=True),
            source=str(doc.get("source") or ""),
            note=_optional_text(doc.get("note")),
            published_as=self.choice(doc, "published_as", PublishedAs, None, required=False) or PublishedAs.POINTS,
            channel_shares=shares,
            pillar_views=tuple(views),
            normalisation=normalisation,
            exclusion=exclusion,
        )


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def framework_from_dict(doc: Any) -> Framework:
    """Parse and validate a framework document.

    :param doc: the document as read from YAML or JSON
    :return: the framework
    :raises FrameworkInvalid: listing every broken rule
    """
    reader = _Reader()
    framework = reader.framework(doc)
    issues = list(reader.issues)
    if framework is not None:
        issues += validate(framework, reader.unreadable)
    if issues or framework is None:
        raise FrameworkInvalid(reader.locate(issues))
    return framework


def channel_text(use: ChannelUse) -> str:
    """A channel use as written in files: ``survey(citizens, businesses)``."""
    if use.groups:
        return f"{use.channel}({', '.join(use.groups)})"
    return str(use.channel)


def scoring_to_dict(scoring: Scoring) -> dict:
    """A scoring method as a plain document."""
    doc: dict[str, Any] = {"method": str(scoring.method)}
    if scoring.target is not None:
        doc["target"] = _cell(scoring.target)
    if scoring.steps:
        doc["steps"] = [{"at_least": _cell(step.at_least), "points": _cell(step.points)} for step in scoring.steps]
    if scoring.rule is not None:
        doc["rule"] = str(scoring.rule)
    if scoring.scale is not None:
        doc["scale"] = [_cell(bound) for bound in scoring.scale]
    if scoring.threshold is not None:
        doc["threshold"] = _cell(scoring.threshold)
    return doc


def _node_dict(node: Node) -> dict:
    doc: dict[str, Any] = {
        "code": node.code,
        "kind": str(node.kind),
        "name": {"vi": node.name.vi, "en": node.name.en},
        "points": _cell(node.points),
    }
    if node.share is not None:
        doc["share"] = node.share
    if not node.scored:
        doc["scored"] = False
    if node.channels:
        doc["channels"] = [channel_text(use) for use in node.channels]
    if node.scoring is not None:
        doc["scoring"] = scoring_to_dict(node.scoring)
    for key in ("measure", "criteria_count", "note"):
        if getattr(node, key) is not None:
            doc[key] = getattr(node, key)
    if node.about:
        doc["about"] = list(node.about)
    if node.children:
        doc["children"] = [_node_dict(child) for child in node.children]
    return doc


def framework_to_dict(framework: Framework) -> dict:
    """The framework as a plain document that :func:`framework_from_dict` reads back unchanged."""
    doc: dict[str, Any] = {
        "code": framework.code,
        "level": str(framework.level),
        "year": framework.year,
        "version": framework.version,
        "name": {"vi": framework.name.vi, "en": framework.name.en},
        "total_points": _cell(framework.total_points),
        "published_as": str(framework.published_as),
    }
    if framework.last_year is not None:
        doc["last_year"] = framework.last_year
    if framework.source:
        doc["source"] = framework.source
    if framework.note:
        doc["note"] = framework.note
    if framework.channel_shares is not None:
        shares = framework.channel_shares
        doc["channel_shares"] = {
            "assessment": shares.assessment,
            "cyberspace": shares.cyberspace,
            "expert": shares.expert,
            "level": shares.level,
        }
    if framework.normalisation != "none":
        doc["normalisation"] = framework.normalisation
    if framework.exclusion != "redistribute":
        doc["exclusion"] = framework.exclusion
    if framework.pillar_views:
        doc["pillar_views"] = [
            {
                "code": v.code,
                "name": {"vi": v.name.vi, "en": v.name.en},
                "points": _cell(v.points),
                "includes": list(v.includes),
            }
            for v in framework.pillar_views
        ]
    doc["nodes"] = [_node_dict(node) for node in framework.nodes]
    return doc


def read_yaml(source: str | Path | BinaryIO) -> Framework:
    """Read a framework from a YAML file or text.

    :raises FrameworkInvalid: on a file that is not YAML, or a framework that breaks a rule
    """
    if isinstance(source, Path):
        try:
            source = source.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise FrameworkInvalid(
                [Issue("invalid_value", None, {"field": "file", "value": str(error)[:200]})]
            ) from error
    doc = load_document(source)
    return framework_from_dict(doc)


def to_yaml(framework: Framework) -> str:
    return yaml.safe_dump(framework_to_dict(framework), allow_unicode=True, sort_keys=False, width=110)


def shipped_framework_files() -> list[Path]:
    """The framework files that ship with the product, in name order."""
    folder = resources.files("questionnaires") / "frameworks"
    return sorted(Path(str(path)) for path in folder.iterdir() if path.name.endswith(".yaml"))


# --- Excel: one row per node ------------------------------------------------------------------------------

_META_KEYS = (
    "code",
    "level",
    "year",
    "last_year",
    "version",
    "name_vi",
    "name_en",
    "total_points",
    "published_as",
    "source",
    "note",
    "assessment_share",
    "cyberspace_share",
    "expert_share",
    "channel_share_level",
    "normalisation",
    "exclusion",
)


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def to_workbook(framework: Framework) -> bytes:
    """The framework as an Excel workbook: a sheet of framework fields and a sheet with one row per node."""
    book = Workbook()
    meta = book.active
    meta.title = META_SHEET
    shares = framework.channel_shares
    values = {
        "code": framework.code,
        "level": str(framework.level),
        "year": framework.year,
        "last_year": framework.last_year,
        "version": framework.version,
        "name_vi": framework.name.vi,
        "name_en": framework.name.en,
        "total_points": _cell(framework.total_points),
        "published_as": str(framework.published_as),
        "source": framework.source,
        "note": framework.note,
        "assessment_share": shares.assessment if shares else None,
        "cyberspace_share": shares.cyberspace if shares else None,
        "expert_share": shares.expert if shares else None,
        "channel_share_level": shares.level if shares else None,
        "normalisation": framework.normalisation if framework.normalisation != "none" else None,
        "exclusion": framework.exclusion if framework.exclusion != "redistribute" else None,
    }
    meta.append(["field", "value"])
    for key in _META_KEYS:
        meta.append([key, values[key]])

    sheet = book.create_sheet(NODE_SHEET)
    sheet.append(list(NODE_COLUMNS))
    for node, parent in framework.walk():
        scoring = node.scoring
        sheet.append(
            [
                node.code,
                parent.code if parent else None,
                str(node.kind),
                node.name.vi,
                node.name.en,
                _cell(node.points),
                node.share,
                "yes" if node.scored else "no",
                "; ".join(channel_text(use) for use in node.channels) or None,
                str(scoring.method) if scoring else None,
                scoring.target if scoring else None,
                "; ".join(f"{_cell(s.at_least)}:{_cell(s.points)}" for s in scoring.steps)
                if scoring and scoring.steps
                else None,
                str(scoring.rule) if scoring and scoring.rule else None,
                f"{_cell(scoring.scale[0])}-{_cell(scoring.scale[1])}" if scoring and scoring.scale else None,
                scoring.threshold if scoring else None,
                node.measure,
                node.criteria_count,
                node.note,
                "; ".join(node.about) or None,
            ]
        )
    if framework.pillar_views:
        views = book.create_sheet(VIEW_SHEET)
        views.append(["code", "name_vi", "name_en", "points", "includes"])
        for view in framework.pillar_views:
            views.append([view.code, view.name.vi, view.name.en, _cell(view.points), "; ".join(view.includes)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rows(sheet) -> Iterable[tuple[int, dict]]:
    """The sheet's rows that hold anything, each with its number (the header is row 1) and its values by column."""
    rows = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    for number, row in enumerate(rows, start=2):
        if row is None or all(value is None or str(value).strip() == "" for value in row):
            continue
        yield number, {key: value for key, value in zip(header, row) if key}


def _workbook_document(data: bytes | BinaryIO) -> tuple[dict, list[Issue]]:
    """Read an Excel workbook written by :func:`to_workbook` (or by hand in its form) into a document.

    :return: the document, and an issue for each row whose parent is not in the sheet or leads back to it (such
        a row is read as a top-level node left out of the total, so that its own problems are reported too)
    :raises FrameworkInvalid: when the file is not a workbook of that form
    """
    try:
        book = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise FrameworkInvalid(
            [Issue("invalid_value", None, {"field": "file", "value": type(error).__name__})]
        ) from error
    missing = [name for name in (META_SHEET, NODE_SHEET) if name not in book.sheetnames]
    if missing:
        raise FrameworkInvalid([Issue("missing_field", None, {"field": f"sheet {name}"}) for name in missing])

    meta = {str(row.get("field")): row.get("value") for _, row in _rows(book[META_SHEET])}
    doc: dict[str, Any] = {
        key: meta.get(key)
        for key in (
            "code",
            "level",
            "year",
            "last_year",
            "version",
            "total_points",
            "published_as",
            "source",
            "note",
            "normalisation",
            "exclusion",
        )
    }
    doc["name"] = {"vi": meta.get("name_vi"), "en": meta.get("name_en") or ""}
    if meta.get("assessment_share") not in (None, ""):
        doc["channel_shares"] = {
            "assessment": meta.get("assessment_share"),
            "cyberspace": meta.get("cyberspace_share"),
            "expert": meta.get("expert_share"),
            "level": meta.get("channel_share_level") or "pillar",
        }

    rows: list[_Row] = []
    by_code: dict[str, _Row] = {}
    parent_codes: dict[int, str] = {}
    for number, row in _rows(book[NODE_SHEET]):
        node = _Row(
            {
                "code": _optional_text(row.get("code")),
                "kind": row.get("kind"),
                "name": {"vi": row.get("name_vi"), "en": row.get("name_en") or ""},
                "points": row.get("points"),
                "share": row.get("share"),
                "scored": row.get("scored"),
                "channels": row.get("channels"),
                "measure": row.get("measure"),
                "criteria_count": row.get("criteria_count"),
                "note": row.get("note"),
                "about": row.get("about"),
                "children": [],
                "scoring": {
                    "method": row.get("scoring_method"),
                    "target": row.get("scoring_target"),
                    "steps": row.get("scoring_steps"),
                    "rule": row.get("survey_rule"),
                    "scale": row.get("survey_scale"),
                    "threshold": row.get("survey_threshold"),
                },
            },
            NODE_SHEET,
            number,
        )
        rows.append(node)
        if node["code"]:
            by_code.setdefault(node["code"], node)
        parent = _optional_text(row.get("parent_code"))
        if parent:
            parent_codes[id(node)] = parent

    issues: list[Issue] = []
    top: list[_Row] = []
    parents: dict[int, _Row] = {}
    for node in rows:
        parent_code = parent_codes.get(id(node))
        if parent_code is None:
            top.append(node)
        elif parent_code in by_code:
            parents[id(node)] = by_code[parent_code]
            by_code[parent_code]["children"].append(node)
        else:
            issues.append(
                Issue(
                    "invalid_value", node["code"], {"field": "parent_code", "value": parent_code}, NODE_SHEET, node.row
                )
            )
            node.detached = True
            top.append(node)
    for loop in _parent_loops(rows, top, parents):
        for node in loop:
            parent = parents[id(node)]
            parent["children"] = [child for child in parent["children"] if child is not node]
            issues.append(Issue("parent_loop", node["code"], {"parent": parent_codes[id(node)]}, NODE_SHEET, node.row))
            node.detached = True
            top.append(node)
    doc["nodes"] = top
    if VIEW_SHEET in book.sheetnames:
        doc["pillar_views"] = [
            _Row(
                {
                    "code": row.get("code"),
                    "name": {"vi": row.get("name_vi"), "en": row.get("name_en") or ""},
                    "points": row.get("points"),
                    "includes": str(row.get("includes") or ""),
                },
                VIEW_SHEET,
                number,
            )
            for number, row in _rows(book[VIEW_SHEET])
        ]
    return doc, issues


def _parent_loops(rows: list[_Row], top: list[_Row], parents: dict[int, _Row]) -> list[list[_Row]]:
    """The rows whose parent codes go round in a loop, which no top-level row reaches; each loop once."""
    reached: set[int] = set()
    stack = list(top)
    while stack:
        node = stack.pop()
        reached.add(id(node))
        stack.extend(node["children"])
    loops = []
    walked: dict[int, int] = {}
    for start, first in enumerate(rows):
        path: list[_Row] = []
        node = first
        while id(node) not in reached and id(node) not in walked:
            walked[id(node)] = start
            path.append(node)
            node = parents[id(node)]
        if id(node) not in reached and walked[id(node)] == start:
            ids = [id(step) for step in path]
            loops.append(path[ids.index(id(node)) :])
    return loops


def read_workbook(data: bytes | BinaryIO) -> Framework:
    """Read and validate a framework from an Excel workbook.

    :raises FrameworkInvalid: listing every broken rule, each naming the sheet and row
    """
    doc, issues = _workbook_document(data)
    try:
        framework = framework_from_dict(doc)
    except FrameworkInvalid as invalid:
        issues += invalid.issues
    if issues:
        raise FrameworkInvalid(issues)
    return framework
