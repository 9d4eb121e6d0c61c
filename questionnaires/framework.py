"""The index framework as data: the tree pillar → main index → sub-index → criterion (SPEC.md §1).

A framework belongs to one level (province, ministry, ...) and one year, and is versioned: once a year's
results are published it is frozen and a change makes a new version. Every node carries its maximum
points; the leaves (criteria, or main indices where the source documents stop there) also carry the
channels that measure them and the method that turns a measured value into points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Iterator


class UnitLevel(StrEnum):
    """The administrative level of the units a framework scores; ``national`` scores the country itself, one
    unit [1726 II.1.e]."""

    NATIONAL = "national"
    MINISTRY = "ministry"
    PROVINCE = "province"
    DEPARTMENT = "department"
    DISTRICT = "district"
    COMMUNE = "commune"


class NodeKind(StrEnum):
    """A node's place in the tree.

    ``group`` stands where the source document groups main indices without calling the groups pillars
    (the foundation and activity groups of the 2021-2023 province index and of Tuyên Quang's district index).
    """

    GROUP = "group"
    PILLAR = "pillar"
    MAIN_INDEX = "main_index"
    SUB_INDEX = "sub_index"
    CRITERION = "criterion"

    @property
    def depth(self) -> int:
        return _DEPTH[self]


_DEPTH = {
    NodeKind.GROUP: 1,
    NodeKind.PILLAR: 1,
    NodeKind.MAIN_INDEX: 2,
    NodeKind.SUB_INDEX: 3,
    NodeKind.CRITERION: 4,
}


class Channel(StrEnum):
    """Where a criterion's measurement comes from [1726 II.2.b]."""

    SELF_ASSESSMENT = "self_assessment"
    APPRAISAL = "appraisal"
    SURVEY = "survey"
    CYBERSPACE = "cyberspace"
    EXPERT = "expert"


class RespondentGroup(StrEnum):
    """Who answers the sociological survey [1726 II.2.b.iii]."""

    CITIZENS = "citizens"
    BUSINESSES = "businesses"
    CIVIL_SERVANTS = "civil_servants"


class ScoringMethod(StrEnum):
    """How a criterion's measured value becomes points."""

    RATIO = "ratio"  # value / target, capped at 1, times the maximum
    THRESHOLDS = "thresholds"  # the points of the highest step the value reaches
    YES_NO = "yes_no"  # full points for yes, none for no
    SURVEY = "survey"  # a rule over the weighted answers of the unit's respondents


class SurveyRule(StrEnum):
    """The rules that turn a weighted survey estimate into a criterion's points."""

    SHARE_YES = "share_yes"  # weighted share answering yes, times the maximum
    MEAN_SCALE = "mean_scale"  # weighted mean of a scale, rescaled from [low, high] to [0, maximum]
    SHARE_AT_LEAST = "share_at_least"  # weighted share answering at or above a threshold, times the maximum


class PublishedAs(StrEnum):
    """How the index's total is published."""

    POINTS = "points"
    VALUE = "value"  # total / maximum, in [0, 1] with four decimals


@dataclass(frozen=True)
class Text:
    """A label in the two languages of the product."""

    vi: str
    en: str

    def in_language(self, language: str) -> str:
        """The text in ``language``, Vietnamese where the English is missing.

        :raises ValueError: for anything but "vi" or "en": a page that lost its language fails rather than
            silently showing Vietnamese
        """
        if language not in ("vi", "en"):
            raise ValueError(f"no text in language {language!r}")
        return self.en if language == "en" and self.en else self.vi


@dataclass(frozen=True)
class ChannelUse:
    """One channel measuring a node; the survey channel names the respondent groups that answer."""

    channel: Channel
    groups: tuple[RespondentGroup, ...] = ()


@dataclass(frozen=True)
class Step:
    """A threshold step: a value of at least ``at_least`` earns ``points``."""

    at_least: float
    points: float


@dataclass(frozen=True)
class Scoring:
    """The method that turns a node's measured value into points, with its parameters."""

    method: ScoringMethod
    #: ratio: the value that earns full marks (1 for a share or a value in [0, 1])
    target: float | None = None
    #: thresholds: the steps, ascending
    steps: tuple[Step, ...] = ()
    #: survey: which rule
    rule: SurveyRule | None = None
    #: survey, mean_scale: the scale's lowest and highest answer
    scale: tuple[float, float] | None = None
    #: survey, share_at_least: the lowest answer that counts
    threshold: float | None = None


#: how criterion values may be normalised across units before they add up [1726 II.2.c]
NORMALISATIONS = ("none", "min-max", "z-score")
#: what excluding a criterion does to the total [1726 II.2.b.vi, "out of the evaluation"]: its points pass to
#: its siblings so that every parent keeps its points ("redistribute"), or they leave the total for every unit
#: ("remove")
EXCLUSION_READINGS = ("redistribute", "remove")


@dataclass(frozen=True)
class ChannelShares:
    """Shares of the final score by channel group [1726 II.2.a]: reported data, appraisal and survey
    together; cyberspace sentiment; expert interviews. They apply to every node at ``level``."""

    assessment: float
    cyberspace: float
    expert: float
    #: "framework" (one tree, as the ministry index) or "pillar" (each pillar, as the province index)
    level: str = "pillar"


@dataclass(frozen=True)
class PillarView:
    """A pillar read across groups: Tuyên Quang's district pillars each take the shared foundation group
    and one activity index [742 Art. 5.2]."""

    code: str
    name: Text
    points: float
    includes: tuple[str, ...]


#: what a criterion may be about, each tied to a unit attribute by Tuyên Quang's rules [742 Art. 7]: criteria
#: about subordinate units (a unit without any gets the best score any unit reached), about online public
#: services (likewise for a unit providing none), and those unrelated to a special-purpose unit's functions (such
#: a unit gets full marks)
ABOUT_TAGS = ("subordinate_units", "online_services", "unrelated_to_special_purpose")


@dataclass
class Node:
    """A node of the tree; its score is the sum of its children's, or its scoring method's if a leaf."""

    code: str
    kind: NodeKind
    name: Text
    points: float
    #: share of the parent's points the source document prescribes, when it prescribes one
    share: float | None = None
    #: False for nodes collected but not scored (smart city in the 2021-2023 province index)
    scored: bool = True
    channels: tuple[ChannelUse, ...] = ()
    scoring: Scoring | None = None
    #: unit of measure of the reported value ("%", "number", "yes/no", ...)
    measure: str | None = None
    #: the number of criteria the source document gives for a node shipped without them
    criteria_count: int | None = None
    note: str | None = None
    #: what a criterion is about, for the rules that turn on a unit's attributes (``ABOUT_TAGS``, 742 Art. 7)
    about: tuple[str, ...] = ()
    children: list[Node] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def channel_kinds(self) -> tuple[Channel, ...]:
        return tuple(use.channel for use in self.channels)

    def survey_groups(self) -> tuple[RespondentGroup, ...]:
        for use in self.channels:
            if use.channel is Channel.SURVEY:
                return use.groups
        return ()


@dataclass
class Framework:
    """A versioned index framework for one level and year."""

    code: str
    level: UnitLevel
    year: int
    version: int
    name: Text
    total_points: float
    nodes: list[Node]
    #: the last round the framework applies to, when it serves several years
    last_year: int | None = None
    source: str = ""
    note: str | None = None
    published_as: PublishedAs = PublishedAs.POINTS
    channel_shares: ChannelShares | None = None
    pillar_views: tuple[PillarView, ...] = ()
    #: how criterion values are normalised across units before they add up, unless the officer chooses
    #: otherwise: "none", "min-max" or "z-score" [1726 II.2.c]
    normalisation: str = "none"
    #: what excluding a criterion does, unless a run says otherwise: one of ``EXCLUSION_READINGS``
    exclusion: str = "redistribute"

    def walk(self) -> Iterator[tuple[Node, Node | None]]:
        """Every node with its parent (None at the top), depth first in framework order."""
        stack: list[tuple[Node, Node | None]] = [(node, None) for node in reversed(self.nodes)]
        while stack:
            node, parent = stack.pop()
            yield node, parent
            stack.extend((child, node) for child in reversed(node.children))

    def leaves(self) -> list[Node]:
        """The nodes that get a score of their own, in framework order."""
        return [node for node, _ in self.walk() if node.is_leaf]

    def find(self, code: str) -> Node:
        for node, _ in self.walk():
            if node.code == code:
                return node
        raise KeyError(code)

    def years(self) -> range:
        return range(self.year, (self.last_year or self.year) + 1)
