"""Why a unit ranks where it does: the path from its rank down to every criterion, with what each channel
measured, what was missing, excluded or set by a rule, and its strongest and weakest main indices against the
median of its level.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis._errors import EstimationError
from analysis.contrasts import difference
from analysis.index import Scores
from questionnaires import Framework, NodeKind

#: how many main indices the explanation names as strongest and as weakest
STRONGEST = 2


def _number(value) -> float | None:
    """A JSON-safe number: None for NaN or absent."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _of_unit(table: pd.DataFrame | None, unit: str, key: str) -> dict[str, list[dict[str, Any]]]:
    """The unit's rows of a table, by the value of ``key`` (a criterion or item code)."""
    if table is None or table.empty:
        return {}
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in table[table["unit"].astype(str) == unit].to_dict("records"):
        rows.setdefault(str(row[key]), []).append(row)
    return rows


def explain(
    framework: Framework,
    scores: Scores,
    unit: str,
    *,
    points: pd.DataFrame,
    assessed: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    expert: pd.DataFrame | None = None,
    agreement: pd.DataFrame | None = None,
    previous_survey: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The explanation of one unit's result, as plain data (the web page and the JSON API show it).

    Parameters
    ----------
    framework, scores
        The framework and ``analysis.compute``'s result.
    unit : str
    points : DataFrame
        ``analysis.criterion_points``' table (``unit``, ``node``, ``points``, ``source``, optionally ``rule``).
    assessed : DataFrame, optional
        Self-assessed rows: ``unit``, ``criterion``, ``value``, ``points``, ``appraised_points``,
        ``appraisal_reason``, ``evidence``, ``explanation``.
    survey : DataFrame, optional
        Survey estimates (``criterion``, ``unit``, ``group``, ``weighted``, ``ci_low``, ``ci_high``,
        ``respondents``, ``points``).
    expert : DataFrame, optional
        Expert aggregates per item (``unit``, ``item``, ``n``, ``trimmed_mean``, ``points``).
    agreement : DataFrame, optional
        The panels' agreement (``unit``, ``kendall_w``, ``raters``).
    previous_survey : DataFrame, optional
        Last year's survey estimates, as ``survey``: a criterion's estimate then gets its change since, with the
        standard error of the difference of two independent samples and whether it is significant at 5%
        (``analysis.difference``).

    Returns
    -------
    dict
        ``unit``, ``index``, ``rank``, ``units``; ``nodes``: every node in framework order with its points,
        maximum, value, rank and (for criteria) ``source``, ``missing``, ``rule`` and the channels' figures;
        ``excluded``; ``strongest`` and ``weakest``: main indices by their value minus the level's median.
    """
    if unit not in scores.index_value.index:
        raise EstimationError("unknown_unit", "unit {unit} has no score", unit=unit)
    values = scores.values()
    ranks = scores.ranks()
    medians = values.median()
    merged = points[points["unit"].astype(str) == unit].set_index("node")
    panel = next(iter(_of_unit(agreement, unit, "unit").values()), [None])[0]
    measured = (
        _of_unit(assessed, unit, "criterion"),
        _of_unit(survey, unit, "criterion"),
        _of_unit(expert, unit, "item"),
        _of_unit(previous_survey, unit, "criterion"),
    )
    nodes = []
    for node, parent in framework.walk():
        entry: dict[str, Any] = {
            "code": node.code,
            "kind": str(node.kind),
            "name": {"vi": node.name.vi, "en": node.name.en},
            "parent": parent.code if parent else None,
            "maximum": node.points,
            "scored": node.scored,
            "excluded": node.code in scores.excluded,
        }
        if node.code in values.columns:
            entry.update(
                points=_number(scores.points.loc[unit, node.code]),
                value=_number(values.loc[unit, node.code]),
                rank=int(ranks.loc[unit, node.code]),
                median=_number(medians[node.code]),
            )
        if node.is_leaf and node.scored:
            found = merged.loc[node.code] if node.code in merged.index else None
            source = found["source"] if found is not None else None
            entry.update(
                source=source if isinstance(source, str) else None,
                missing=bool(scores.missing.loc[unit, node.code]) if node.code in scores.missing.columns else True,
                rule=found.get("rule") if found is not None and isinstance(found.get("rule"), str) else None,
                channels=_channels(node.code, *measured, panel),
            )
        nodes.append(entry)
    main = [
        node.code
        for node, _ in framework.walk()
        if node.kind is NodeKind.MAIN_INDEX and node.scored and node.code in values.columns
    ]
    gaps = sorted(((values.loc[unit, code] - medians[code], code) for code in main), reverse=True)
    gaps = [
        {
            "code": code,
            "value": _number(values.loc[unit, code]),
            "median": _number(medians[code]),
            "difference": _number(gap),
        }
        for gap, code in gaps
    ]
    return {
        "unit": unit,
        "index": _number(scores.index_value[unit]),
        "rank": int(ranks.loc[unit, "index"]),
        "units": len(scores.index_value),
        "nodes": nodes,
        "excluded": sorted(scores.excluded),
        "strongest": gaps[:STRONGEST],
        "weakest": gaps[::-1][:STRONGEST],
    }


#: the level at which a change from last year is called significant
SIGNIFICANCE = 0.05


def _change(row: dict[str, Any], previous: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The change of a survey estimate since last year's of the same respondent group, if there was one: this
    year's and last year's samples are drawn independently, so the difference's variance is the sum of theirs."""
    before = next((r for r in previous if r.get("group") == row.get("group")), None)
    if before is None or _number(before.get("weighted")) is None or _number(row.get("weighted")) is None:
        return None
    tables = [pd.DataFrame({"estimate": [r.get("weighted")], "se": [r.get("se")]}, dtype=float) for r in (row, before)]
    found = difference(*tables).iloc[0]
    if not math.isfinite(found["p_value"]):
        return None  # a standard error unknown on either side: no test to show
    return {
        "previous": _number(before.get("weighted")),
        "difference": _number(found["estimate"]),
        "se": _number(found["se"]),
        "p_value": _number(found["p_value"]),
        "significant": bool(found["p_value"] < SIGNIFICANCE),
    }


def _channels(criterion: str, assessed, survey, expert, previous_survey, panel) -> dict[str, Any]:
    found: dict[str, Any] = {}
    row = assessed.get(criterion, [None])[0]
    if row is not None:
        found["self_assessment"] = {
            "value": _number(row.get("value")),
            "points": _number(row.get("points")),
            "evidence": row.get("evidence") or "",
            "explanation": row.get("explanation") or "",
        }
        if _number(row.get("appraised_points")) is not None:
            found["appraisal"] = {
                "points": _number(row["appraised_points"]),
                "reason": row.get("appraisal_reason") or "",
            }
    if criterion in survey:
        found["survey"] = [
            {
                "group": r.get("group"),
                "estimate": _number(r.get("weighted")),
                "ci_low": _number(r.get("ci_low")),
                "ci_high": _number(r.get("ci_high")),
                "respondents": int(r.get("respondents") or 0),
                "points": _number(r.get("points")),
                "interval": r.get("interval") if isinstance(r.get("interval"), str) else "normal",
                "change": _change(r, previous_survey.get(criterion, [])),
            }
            for r in survey[criterion]
        ]
    row = expert.get(criterion, [None])[0]
    if row is not None:
        found["expert"] = {
            "experts": int(row.get("n") or 0),
            "score": _number(row.get("trimmed_mean")),
            "points": _number(row.get("points")),
            "agreement": _number(panel.get("kendall_w")) if panel else None,
        }
    return found
