"""The rules a framework must satisfy before it is stored: each broken rule is an :class:`Issue` naming the
node and the rule (and, for a workbook, the sheet and row), so that an official can find and mend it in the file.

Every rule is checked, so that a file is mended in one pass; a rule is left out only where a value it needs could
not be read, since its outcome would then say nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping

from questionnaires.framework import Channel, Framework, Node, NodeKind, ScoringMethod, SurveyRule

#: the points of a parent and the sum of its children may differ by rounding only
POINT_TOLERANCE = 1e-6

_MESSAGES = {
    "missing_field": "field '{field}' is missing",
    "invalid_value": "field '{field}' has an invalid value: {value!r}",
    "duplicate_code": "code is used by more than one node",
    "bad_nesting": "a {child_kind} cannot stand under a {parent_kind}",
    "criterion_with_children": "a criterion cannot have children",
    "negative_points": "points cannot be negative ({points})",
    "unscored_with_points": "a node collected but not scored carries no points ({points})",
    "points_mismatch": "children's points add up to {actual:g}, expected {expected:g}",
    "total_mismatch": "top-level points add up to {actual:g}, expected {expected:g}",
    "share_mismatch": "share {share:g} of {parent_points:g} is {expected:g} points, the node has {actual:g}",
    "channel_shares_total": "channel shares add up to {total:g}, expected 1",
    "missing_channel": "a scored leaf names no channel that measures it",
    "missing_scoring": "a scored leaf names no scoring method",
    "survey_without_groups": "the survey channel names no respondent group",
    "survey_scoring_without_survey": "survey scoring on a node the survey does not measure",
    "scoring_invalid": "scoring method '{method}' is incomplete: {reason}",
    "step_above_maximum": "a threshold step gives {step_points:g} points, above the node's {points:g}",
    "view_unknown_node": "pillar view includes unknown node '{included}'",
    "view_points_mismatch": "pillar view's nodes add up to {actual:g}, expected {expected:g}",
    "year_range": "last year {last_year} is before the first year {year}",
    "parent_loop": "parent '{parent}' leads back to this node",
}

#: why a scoring method is incomplete (the ``reason`` of a ``scoring_invalid`` issue)
_REASONS = {
    "target_not_positive": "the target must be positive",
    "no_steps": "no threshold steps",
    "steps_not_rising": "the steps must rise strictly",
    "no_rule": "no survey rule",
    "bad_scale": "a scale [low, high] with low < high is needed",
    "no_threshold": "a threshold is needed",
}


@dataclass(frozen=True)
class Issue:
    """One broken rule.

    :param code: the rule, one of the keys of the module's message table
    :param node: the code (or, lacking one, the position) of the node, None for the framework itself
    :param params: the values the message names
    :param sheet: the workbook sheet the node or field stands on, None for a YAML document
    :param row: the row of that sheet (1 is the header)
    """

    code: str
    node: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    sheet: str | None = None
    row: int | None = None

    def __str__(self) -> str:
        where = f"{self.node}: " if self.node else ""
        if self.sheet is not None:
            where = f"sheet {self.sheet}, row {self.row}: {where}"
        params = dict(self.params)
        if "reason" in params:
            params["reason"] = _REASONS[params["reason"]]
        return where + _MESSAGES[self.code].format(**params)


class FrameworkInvalid(ValueError):
    """Raised when a framework file or document breaks one or more rules; ``issues`` lists them all."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues))


def _close(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=POINT_TOLERANCE, abs_tol=POINT_TOLERANCE)


class _Known:
    """Whether a reader could read the values a rule needs."""

    def __init__(self, unreadable: Collection[tuple[str | None, str]]):
        self._unreadable = set(unreadable)

    def __call__(self, node: str | None, *fields: str) -> bool:
        return not any((node, name) in self._unreadable for name in fields)


def validate(framework: Framework, unreadable: Collection[tuple[str | None, str]] = ()) -> list[Issue]:
    """Check every rule of a parsed framework.

    :param framework: the framework to check
    :param unreadable: the ``(node, field)`` pairs the reader could not read (node None for the framework's own
        fields; ``parent`` for a node whose parent is unknown): the rules that need them are left out
    :return: the broken rules, empty when the framework is valid
    """
    known = _Known(unreadable)
    issues: list[Issue] = []
    shares = framework.channel_shares
    if shares is not None and known(None, "channel_shares"):
        total = shares.assessment + shares.cyberspace + shares.expert
        if not _close(total, 1.0):
            issues.append(Issue("channel_shares_total", None, {"total": total}))
    if framework.last_year is not None and framework.last_year < framework.year:
        issues.append(Issue("year_range", None, {"year": framework.year, "last_year": framework.last_year}))

    seen: set[str] = set()
    for node, parent in framework.walk():
        if node.code in seen:
            issues.append(Issue("duplicate_code", node.code))
        seen.add(node.code)
        issues.extend(_node_issues(framework, node, parent, known))

    top = [node for node in framework.nodes if known(node.code, "parent")]
    if known(None, "total_points", "nodes", "channel_shares") and all(
        known(node.code, "points", "scored") for node in top
    ):
        top_points = sum(node.points for node in top if node.scored)
        expected_top = framework.total_points
        if shares is not None and shares.level == "framework":
            expected_top *= shares.assessment
        if not _close(top_points, expected_top):
            issues.append(Issue("total_mismatch", None, {"actual": top_points, "expected": expected_top}))
    issues.extend(_view_issues(framework, known))
    return issues


def _node_issues(framework: Framework, node: Node, parent: Node | None, known: _Known) -> list[Issue]:
    issues: list[Issue] = []
    kind_known = known(node.code, "kind")
    if parent is not None and kind_known and known(parent.code, "kind") and node.kind.depth <= parent.kind.depth:
        issues.append(Issue("bad_nesting", node.code, {"child_kind": node.kind, "parent_kind": parent.kind}))
    if node.kind is NodeKind.CRITERION and node.children and kind_known:
        issues.append(Issue("criterion_with_children", node.code))
    if node.points < 0:
        issues.append(Issue("negative_points", node.code, {"points": node.points}))
    if not node.scored:
        if node.points:
            issues.append(Issue("unscored_with_points", node.code, {"points": node.points}))
        return issues

    if (
        node.share is not None
        and known(node.code, "points", "parent")
        and (known(parent.code, "points") if parent is not None else known(None, "total_points"))
    ):
        parent_points = parent.points if parent is not None else framework.total_points
        expected = node.share * parent_points
        if not _close(node.points, expected):
            issues.append(
                Issue(
                    "share_mismatch",
                    node.code,
                    {"share": node.share, "parent_points": parent_points, "expected": expected, "actual": node.points},
                )
            )

    if node.children:
        shares = framework.channel_shares
        by_pillar = shares is not None and shares.level == "pillar"
        # with shares by pillar a pillar's children carry only its assessment share: what they should add up to
        # needs the node's kind and the shares
        if not known(None, "channel_shares"):
            expected_known = kind_known and node.kind is not NodeKind.PILLAR
        else:
            expected_known = kind_known or not by_pillar
        if (
            known(node.code, "points", "children")
            and expected_known
            and all(known(child.code, "points", "scored") for child in node.children)
        ):
            expected = node.points
            if by_pillar and node.kind is NodeKind.PILLAR:
                expected *= shares.assessment
            actual = sum(child.points for child in node.children if child.scored)
            if not _close(actual, expected):
                issues.append(Issue("points_mismatch", node.code, {"actual": actual, "expected": expected}))
    elif known(node.code, "children"):
        issues.extend(_leaf_issues(node, known))
    return issues


def _leaf_issues(node: Node, known: _Known) -> list[Issue]:
    issues: list[Issue] = []
    channels_known = known(node.code, "channels")
    if not node.channels and channels_known:
        issues.append(Issue("missing_channel", node.code))
    for use in node.channels:
        if use.channel is Channel.SURVEY and not use.groups:
            issues.append(Issue("survey_without_groups", node.code))
    scoring = node.scoring
    if not known(node.code, "scoring"):
        return issues
    if scoring is None:
        issues.append(Issue("missing_scoring", node.code))
        return issues

    def incomplete(reason: str) -> Issue:
        return Issue("scoring_invalid", node.code, {"method": scoring.method, "reason": reason})

    if scoring.method is ScoringMethod.RATIO:
        if scoring.target is not None and scoring.target <= 0:
            issues.append(incomplete("target_not_positive"))
    elif scoring.method is ScoringMethod.THRESHOLDS:
        if not scoring.steps:
            issues.append(incomplete("no_steps"))
        bounds = [step.at_least for step in scoring.steps]
        if bounds != sorted(set(bounds)):
            issues.append(incomplete("steps_not_rising"))
        for step in scoring.steps:
            if step.points > node.points + POINT_TOLERANCE and known(node.code, "points"):
                issues.append(
                    Issue("step_above_maximum", node.code, {"step_points": step.points, "points": node.points})
                )
    elif scoring.method is ScoringMethod.SURVEY:
        if Channel.SURVEY not in node.channel_kinds() and channels_known:
            issues.append(Issue("survey_scoring_without_survey", node.code))
        if scoring.rule is None:
            issues.append(incomplete("no_rule"))
        elif scoring.rule is SurveyRule.MEAN_SCALE:
            if scoring.scale is None or scoring.scale[0] >= scoring.scale[1]:
                issues.append(incomplete("bad_scale"))
        elif scoring.rule is SurveyRule.SHARE_AT_LEAST and scoring.threshold is None:
            issues.append(incomplete("no_threshold"))
    return issues


def _view_issues(framework: Framework, known: _Known) -> list[Issue]:
    issues: list[Issue] = []
    points = {node.code: node.points for node, _ in framework.walk()}
    for view in framework.pillar_views:
        unknown = [code for code in view.includes if code not in points]
        for code in unknown:
            issues.append(Issue("view_unknown_node", view.code, {"included": code}))
        if (
            unknown
            or not known(view.code, "points", "includes")
            or not all(known(code, "points") for code in view.includes)
        ):
            continue
        actual = sum(points[code] for code in view.includes)
        if not _close(actual, view.points):
            issues.append(Issue("view_points_mismatch", view.code, {"actual": actual, "expected": view.points}))
    return issues
