"""How a published round's results were made, read from its run: the framework tree with the points each node
counted for, the channel shares, the rules the run applied (missing data scored 0, exclusions with their reading
and reason, Tuyên Quang's rules), the normalisation, and the sources and dates of the round, the run and each
channel. The public methodology page and its PDF show this; texts stored in both languages stay in both
(``{"vi": ..., "en": ...}``) so that the page shows the visitor's.

Also the national index's series: the country's value, year after year, from the published national rounds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from questionnaires import Framework, Node, Text
from survey_app.core.extensions import db
from survey_app.experts.models import ExpertForm, ExpertPanel, PanelSeat
from survey_app.publication.operations import exclusion_decisions, published_rounds
from survey_app.rounds.models import EvaluationRound
from survey_app.sampling.models import WeightingRun
from survey_app.scoring.channel_inputs import units_by_code
from survey_app.scoring.models import CyberspaceValue, ScoringRun, SelfAssessment
from survey_app.scoring.operations import exclusion_reading, published_run, ranking_nodes, result
from survey_app.survey.models import Fieldwork

#: the level whose one unit is the country [1726 II.1.e]: published as a value and a series, not a ranking
NATIONAL = "national"
#: what separates a note's Vietnamese from its English in a framework file ("... chờ phụ lục / ... the annex")
NOTE_SEPARATOR = " / "


def bilingual(text: Text) -> dict[str, str]:
    return {"vi": text.vi, "en": text.en or text.vi}


def note_texts(note: str | None) -> dict[str, str] | None:
    """A framework file's note in its two languages: the files write ``Vietnamese / English``; a note without the
    separator is in Vietnamese only and shown as written in both."""
    if not note:
        return None
    vi, separator, en = note.partition(NOTE_SEPARATOR)
    return {"vi": vi.strip(), "en": en.strip() or vi.strip()} if separator else {"vi": note, "en": note}


def counted_points(framework: Framework, excluded: set[str], reading: str) -> dict[str, float]:
    """The points each node counts for in the run once the exclusions are out (as ``analysis.compute`` scores):
    under "redistribute" an excluded node's points pass to its kept siblings in proportion to theirs, so every
    parent keeps its points; under "remove" they leave every parent above it and the total. Excluded nodes, and
    nodes collected but not scored, are absent.

    Hand check on SEC (100 = SEC.1 60 + SEC.2 40) without SEC.2: redistribute, SEC.1 counts 100 and SEC 100;
    remove, SEC.1 counts 60 and SEC 60."""
    found: dict[str, float] = {}

    def kept(node: Node) -> bool:
        if not node.scored:
            return False
        if node.is_leaf:
            return node.code not in excluded
        return any(kept(child) for child in node.children)

    def visit(node: Node, factor: float) -> float:
        """Counts a kept node and its kept descendants; returns the points it lost under "remove"."""
        if node.is_leaf:
            found[node.code] = node.points * factor
            return 0.0
        scored = sum(child.points for child in node.children if child.scored)
        remaining = sum(child.points for child in node.children if kept(child))
        children = [child for child in node.children if kept(child)]
        if reading == "redistribute":
            for child in children:
                visit(child, factor * scored / remaining if remaining else factor)
            found[node.code] = node.points * factor
            return 0.0
        lost = scored - remaining + sum(visit(child, factor) for child in children)
        found[node.code] = node.points - lost
        return lost

    top = [node for node in framework.nodes if kept(node)]
    factor = 1.0
    shares = framework.channel_shares
    if reading == "redistribute" and shares is not None and shares.level == "framework" and sum(n.points for n in top):
        # only a framework split by channel as a whole scales its top nodes up when one of them is out
        factor = sum(node.points for node in framework.nodes if node.scored) / sum(node.points for node in top)
    for node in top:
        visit(node, factor)
    return found


def counted_total(framework: Framework, counted: dict[str, float], reading: str) -> float:
    """The total the index value divides by: the framework's under "redistribute", lowered by every point the
    exclusions removed under "remove" (``analysis.compute``)."""
    if reading == "redistribute":
        return framework.total_points
    return framework.total_points - sum(
        node.points - counted.get(node.code, 0.0) for node in framework.nodes if node.scored
    )


def _depths(framework: Framework) -> dict[str, int]:
    depth: dict[str, int] = {}
    for node, parent in framework.walk():
        depth[node.code] = 0 if parent is None else depth[parent.code] + 1
    return depth


def methodology(run: ScoringRun) -> dict[str, Any]:
    """Everything the methodology page of a published run says, as plain data (see the module's docstring).

    :return: ``round``, ``run``, ``framework``, ``tree`` (every node with ``points`` as the framework gives them and
        ``counted`` as the run counted them, and for a scored criterion ``missing``: the units without data that
        scored 0 on it), ``total``, ``notes``, ``shares``, ``exclusions``, ``rules``, ``pillar_views``,
        ``normalisation``, ``sources``
    """
    evaluation_round = run.evaluation_round
    found = result(run)
    framework, scores = found.framework, found.scores
    reading = exclusion_reading(run)
    excluded = set(run.excluded)
    counted = counted_points(framework, excluded, reading)
    depths = _depths(framework)
    units = units_by_code(evaluation_round)
    with_data = found.points.dropna(subset=["points"]).groupby("node")["unit"].nunique() if len(found.points) else {}
    tree = []
    for node, _parent in framework.walk():
        row = {
            "code": node.code,
            "kind": str(node.kind),
            "depth": depths[node.code],
            "name": bilingual(node.name),
            "points": node.points,
            "share": node.share,
            "counted": counted.get(node.code),
            "scored": node.scored,
            "excluded": node.code in scores.excluded,
            "channels": [str(channel) for channel in node.channel_kinds()],
            "method": str(node.scoring.method) if node.scoring else None,
            "measure": node.measure,
            "note": note_texts(node.note),
            "missing": None,
        }
        if node.is_leaf and node.scored and not row["excluded"] and node.code in scores.missing.columns:
            row["missing"] = int(scores.missing[node.code].sum())
        tree.append(row)
    notes = [{"code": None, "name": bilingual(framework.name), "note": note_texts(framework.note)}] * bool(
        framework.note
    ) + [{"code": row["code"], "name": row["name"], "note": row["note"]} for row in tree if row["note"]]
    decisions = {entry["node"]: entry for entry in exclusion_decisions(run)}

    def exclusion_row(code: str) -> dict[str, Any]:
        node = framework.find(code)
        measured = int(with_data.get(code, 0))
        return {
            "code": code,
            "name": bilingual(node.name),
            "points": node.points,
            "units_with_data": measured,
            "units": len(units),
            "share": measured / len(units) if units else 0.0,
            # [1726 II.2.b.vi]: data for fewer than half of the units
            "proposed": code in decisions,
        }

    shares = framework.channel_shares
    return {
        "round": {
            "code": evaluation_round.code,
            "year": evaluation_round.year,
            "level": evaluation_round.level,
            "name": {"vi": evaluation_round.name("vi"), "en": evaluation_round.name("en")},
            "unit_list": {"vi": evaluation_round.unit_list.name("vi"), "en": evaluation_round.unit_list.name("en")},
            "units": len(units),
            "created_at": evaluation_round.created_at,
            "published_at": evaluation_round.published_at,
        },
        "run": {
            "number": run.number,
            "created_at": run.created_at,
            "published_at": run.published_at,
            "note": run.note,
        },
        "framework": {
            "code": framework.code,
            "year": framework.year,
            "last_year": framework.last_year,
            "version": framework.version,
            "name": bilingual(framework.name),
            "source": framework.source,
            "total_points": framework.total_points,
            "published_as": str(framework.published_as),
            "hash": (run.versions.get("framework") or {}).get("hash"),
            "loaded_at": evaluation_round.framework.loaded_at,
        },
        "tree": tree,
        "total": counted_total(framework, counted, reading),
        "notes": notes,
        "shares": None
        if shares is None
        else {
            "assessment": shares.assessment,
            "cyberspace": shares.cyberspace,
            "expert": shares.expert,
            "level": shares.level,
            # the points each channel carries where the shares apply
            "applied": [
                {
                    "code": node.code,
                    "name": bilingual(node.name),
                    "points": node.points,
                    "channels": {
                        channel: node.points * getattr(shares, channel)
                        for channel in ("assessment", "cyberspace", "expert")
                    },
                }
                for node in framework.nodes
                if shares.level == "pillar" and node.kind == "pillar" and node.scored
            ]
            or [
                {
                    "code": None,
                    "name": bilingual(framework.name),
                    "points": framework.total_points,
                    "channels": {
                        channel: framework.total_points * getattr(shares, channel)
                        for channel in ("assessment", "cyberspace", "expert")
                    },
                }
            ],
        },
        "exclusions": {
            "reading": reading,
            "framework_reading": framework.exclusion,
            "excluded": [exclusion_row(code) for code in run.excluded],
            "kept": [exclusion_row(code) for code, entry in decisions.items() if entry["decision"] == "kept"],
            "reason": run.note,
        },
        "rules": [
            {
                "rule": name,
                "units": [units[code].name if code in units else code for code in rule.get("units", [])],
                "criteria": list(rule.get("criteria", [])),
            }
            for name, rule in (run.rules or {}).items()
            if rule.get("units") and rule.get("criteria")
        ],
        "pillar_views": [
            {"code": view.code, "name": bilingual(view.name), "points": view.points, "includes": list(view.includes)}
            for view in framework.pillar_views
        ],
        "normalisation": {"run": run.normalisation, "framework": framework.normalisation},
        "sources": channel_sources(run),
    }


def channel_sources(run: ScoringRun) -> dict[str, Any]:
    """What each channel of the run read, with its dates: the self-assessed values (reported, appraised), the
    cyberspace values (loaded), each survey fieldwork (open, closing, weighted) and the expert forms (submitted).
    A published round's inputs are frozen, so the dates are those of what the run read."""
    evaluation_round = run.evaluation_round
    versions = run.versions or {}
    first, last, appraised = db.session.execute(
        select(
            func.min(SelfAssessment.reported_at),
            func.max(SelfAssessment.reported_at),
            func.max(SelfAssessment.appraised_at),
        ).where(SelfAssessment.round_id == evaluation_round.id)
    ).one()
    loaded = db.session.scalar(
        select(func.max(CyberspaceValue.loaded_at)).where(CyberspaceValue.round_id == evaluation_round.id)
    )
    submitted_first, submitted_last = db.session.execute(
        select(func.min(ExpertForm.submitted_at), func.max(ExpertForm.submitted_at))
        .join(PanelSeat, ExpertForm.seat_id == PanelSeat.id)
        .join(ExpertPanel, PanelSeat.panel_id == ExpertPanel.id)
        .where(ExpertPanel.round_id == evaluation_round.id, ExpertForm.submitted_at.is_not(None))
    ).one()
    survey = []
    for source in (versions.get("survey") or {}).get("sources", []):
        fieldwork = db.session.scalar(select(Fieldwork).where(Fieldwork.code == source["fieldwork"]))
        weighting = db.session.get(WeightingRun, source["weighting_run"]) if source.get("weighting_run") else None
        survey.append(
            {
                "fieldwork": source["fieldwork"],
                "name": {"vi": fieldwork.name("vi"), "en": fieldwork.name("en")} if fieldwork else None,
                "opened_at": fieldwork.opened_at if fieldwork else None,
                "closes_at": fieldwork.closes_at if fieldwork else None,
                "weighted": bool(source.get("weighted")),
                "weighted_at": weighting.created_at if weighting else None,
                "responses": source.get("responses"),
            }
        )
    assessed = versions.get("self_assessment") or {}
    return {
        "self_assessment": {
            "rows": assessed.get("rows", 0),
            "appraised": assessed.get("appraised", 0),
            "first": first,
            "last": last,
            "appraised_at": appraised,
        },
        "cyberspace": {"rows": (versions.get("cyberspace") or {}).get("rows", 0), "loaded_at": loaded},
        "survey": {"rows": (versions.get("survey") or {}).get("rows", 0), "fieldworks": survey},
        "expert": {
            "forms": (versions.get("expert") or {}).get("forms", 0),
            "trim": (versions.get("expert") or {}).get("trim"),
            "first": submitted_first,
            "last": submitted_last,
        },
    }


def national_series(evaluation_round: EvaluationRound) -> dict[str, Any]:
    """The national index year after year up to ``evaluation_round``'s year, from the published rounds of the
    national level: each year's index value and its pillars' (or main indices') values, the columns those of every
    framework the series crosses (a code absent from a year's framework has no value that year).

    :return: ``rows`` oldest first, each ``year``, ``code``, ``name``, ``index``, ``values`` {code: value};
        ``columns`` [{``code``, ``name``}], the newest framework's first
    """
    rounds = [
        found
        for found in published_rounds()
        if found.level == NATIONAL and found.year <= evaluation_round.year and published_run(found) is not None
    ]
    rows, columns = [], {}
    for found in sorted(rounds, key=lambda r: r.year, reverse=True):
        run = published_run(found)
        scored = result(run).scores
        values = scored.values()
        country = next(iter(run.index))
        nodes = [node for node in ranking_nodes(run) if node.code in values.columns]
        for node in nodes:
            columns.setdefault(node.code, {"code": node.code, "name": bilingual(node.name)})
        rows.append(
            {
                "year": found.year,
                "code": found.code,
                "name": {"vi": found.name("vi"), "en": found.name("en")},
                "index": float(run.index[country]),
                "values": {node.code: float(values.loc[country, node.code]) for node in nodes},
            }
        )
    return {"rows": rows[::-1], "columns": list(columns.values())}


def national_key() -> tuple:
    """What the national pages' content depends on beyond their own run: the published national rounds."""
    return tuple((found.id, found.published_at.isoformat()) for found in published_rounds() if found.level == NATIONAL)
