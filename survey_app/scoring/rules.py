"""Tuyên Quang's scoring rules [742 Art. 7] on a run's points: those the units' attributes call for on the
criteria the framework tags, and those an officer names on the run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis import apply_full_marks, apply_peer_maximum
from questionnaires import Framework
from survey_app.core.errors import ServiceError
from survey_app.units.models import Unit

#: the rules an officer may name on a run
RULES = ("peer_maximum", "full_marks")

#: the unit attribute, the value that calls for a rule, the criteria's tag it applies to, and the rule [742 Art. 7]:
#: a unit without subordinate units, or providing no online public services, gets on the criteria about them the
#: best score any other unit reached; a special-purpose unit gets full marks on criteria unrelated to its
#: functions
ATTRIBUTE_RULES = (
    ("has_subordinate_units", False, "subordinate_units", "peer_maximum"),
    ("provides_online_services", False, "online_services", "peer_maximum"),
    ("special_purpose", True, "unrelated_to_special_purpose", "full_marks"),
)


def from_attributes(framework: Framework, units: Mapping[str, Unit]) -> list[dict[str, Any]]:
    """Which rule applies to which units on which criteria, from the units' attributes (``units.RULE_ATTRIBUTES``)
    and what the framework's criteria are about (``questionnaires.ABOUT_TAGS``): each case apart, so that a
    unit without subordinate units is held to its peers on those criteria only. A unit whose list does not say
    (the national lists) is under none."""
    found = []
    for attribute, calls, tag, rule in ATTRIBUTE_RULES:
        criteria = [node.code for node in framework.leaves() if node.scored and tag in node.about]
        chosen = [code for code, unit in units.items() if (unit.attributes or {}).get(attribute) is calls]
        if criteria and chosen:
            found.append({"rule": rule, "attribute": attribute, "tag": tag, "units": chosen, "criteria": criteria})
    return found


def apply_attribute_rules(framework: Framework, points: pd.DataFrame, cases: list[dict[str, Any]]) -> pd.DataFrame:
    for case in cases:
        if case["rule"] == "peer_maximum":
            points = apply_peer_maximum(points, case["units"], case["criteria"])
        else:
            points = apply_full_marks(framework, points, case["units"], case["criteria"])
        points.loc[points["rule"] == case["rule"], "source"] = case["rule"]
    return points


def apply_rules(
    framework: Framework, points: pd.DataFrame, rules: Mapping[str, Mapping[str, list[str]]], units: list[str]
) -> pd.DataFrame:
    leaves = {node.code for node in framework.leaves() if node.scored}
    for name, rule in rules.items():
        if name not in RULES:
            raise ServiceError("unknown_rule", rule=name)
        unknown_unit = next((u for u in rule.get("units", []) if u not in units), None)
        if unknown_unit:
            raise ServiceError("unknown_unit", unit=unknown_unit)
        unknown = next((c for c in rule.get("criteria", []) if c not in leaves), None)
        if unknown:
            raise ServiceError("unknown_criterion", criterion=unknown)
        if not rule.get("units") or not rule.get("criteria"):
            continue
        if name == "peer_maximum":
            points = apply_peer_maximum(points, rule["units"], rule["criteria"])
        else:
            points = apply_full_marks(framework, points, rule["units"], rule["criteria"])
        points.loc[points["rule"] == name, "source"] = name
    return points
