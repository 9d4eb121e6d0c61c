"""The experts' questionnaire ("phiếu ý kiến chuyên gia", SPEC.md §4), generated from the framework.

It asks for a score on every main index, sub-index or criterion the framework marks as expert-measured, on a
stated scale whose every point has words, with an optional comment; "I cannot judge this" is a choice of its
own and is not a score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Mapping

from questionnaires.framework import Channel, Framework, NodeKind, Text
from questionnaires.questions import MAX_TEXT_LENGTH, has_control_characters, typed_text
from questionnaires.validation import FrameworkInvalid, Issue

#: the questionnaire's group in published snapshots, beside the survey's respondent groups
EXPERT_GROUP = "experts"
#: the answer that says the expert cannot judge an item
CANNOT_JUDGE = "cannot_judge"


@dataclass(frozen=True)
class Anchor:
    value: int
    label: Text


@dataclass(frozen=True)
class ExpertScale:
    """Whole-number scores from ``low`` to ``high``, each with words."""

    low: int
    high: int
    anchors: tuple[Anchor, ...]

    def values(self) -> range:
        return range(self.low, self.high + 1)


DEFAULT_SCALE = ExpertScale(
    1,
    5,
    (
        Anchor(1, Text("Rất yếu: hầu như chưa triển khai", "Very weak: hardly begun")),
        Anchor(2, Text("Yếu: mới bắt đầu, kết quả ít", "Weak: begun, few results")),
        Anchor(3, Text("Trung bình: đã triển khai, kết quả chưa đồng đều", "Fair: under way, uneven results")),
        Anchor(4, Text("Tốt: triển khai rộng, có kết quả rõ", "Good: widely done, clear results")),
        Anchor(5, Text("Rất tốt: nổi bật, có thể nhân rộng", "Very good: outstanding, a model for others")),
    ),
)


@dataclass(frozen=True)
class ExpertItem:
    """A node of the framework the expert scores."""

    code: str
    kind: NodeKind
    name: Text
    points: float


@dataclass(frozen=True)
class ExpertSection:
    code: str
    title: Text
    items: tuple[ExpertItem, ...]


@dataclass(frozen=True)
class ExpertQuestionnaire:
    framework_code: str
    framework_year: int
    framework_version: int
    scale: ExpertScale
    sections: tuple[ExpertSection, ...]
    group: str = EXPERT_GROUP

    def items(self) -> list[ExpertItem]:
        return [item for section in self.sections for item in section.items]


def generate_expert(framework: Framework, scale: ExpertScale = DEFAULT_SCALE) -> ExpertQuestionnaire:
    """The experts' questionnaire: every scored, expert-measured node in framework order, a section per parent
    (the framework's own name heads the nodes at its top)."""
    sections: dict[str, tuple[Text, list[ExpertItem]]] = {}
    for node, parent in framework.walk():
        if node.scored and Channel.EXPERT in node.channel_kinds():
            code, title = (parent.code, parent.name) if parent is not None else (framework.code, framework.name)
            sections.setdefault(code, (title, []))[1].append(ExpertItem(node.code, node.kind, node.name, node.points))
    return ExpertQuestionnaire(
        framework.code,
        framework.year,
        framework.version,
        scale,
        tuple(ExpertSection(code, title, tuple(items)) for code, (title, items) in sections.items()),
    )


class ExpertAnswerProblem(StrEnum):
    REQUIRED = "required"
    NOT_A_CHOICE = "not_a_choice"
    TOO_LONG = "too_long"
    CONTROL_CHARACTERS = "control_characters"


@dataclass(frozen=True)
class CheckedExpertAnswers:
    #: item → {"score": int} or {"cannot_judge": True}, with "comment" when one was written
    answers: dict[str, dict[str, Any]]
    problems: dict[str, ExpertAnswerProblem]


def check_expert_answers(
    questionnaire: ExpertQuestionnaire, raw: Mapping[str, Mapping[str, Any]], *, complete: bool
) -> CheckedExpertAnswers:
    """Validate what the expert gave: per item a ``choice`` (a score of the scale or ``cannot_judge``) and an
    optional ``comment``. Items not in the questionnaire are ignored.

    :param complete: the final submission: every item needs a score or "cannot judge"; a draft may leave any
        item blank
    """
    allowed = {str(value): value for value in questionnaire.scale.values()}
    answers: dict[str, dict[str, Any]] = {}
    problems: dict[str, ExpertAnswerProblem] = {}
    for item in questionnaire.items():
        given = raw.get(item.code) or {}
        choice = str(given.get("choice") or "").strip()
        comment = typed_text(str(given.get("comment") or ""))
        answer: dict[str, Any] = {}
        if choice == CANNOT_JUDGE:
            answer[CANNOT_JUDGE] = True
        elif choice in allowed:
            answer["score"] = allowed[choice]
        elif choice:
            problems[item.code] = ExpertAnswerProblem.NOT_A_CHOICE
        elif complete:
            problems[item.code] = ExpertAnswerProblem.REQUIRED
        if len(comment) > MAX_TEXT_LENGTH:
            problems[item.code] = ExpertAnswerProblem.TOO_LONG
        elif has_control_characters(comment):
            problems[item.code] = ExpertAnswerProblem.CONTROL_CHARACTERS
        elif comment:
            answer["comment"] = comment
        if answer:
            answers[item.code] = answer
    return CheckedExpertAnswers(answers, problems)


def expert_scores(questionnaire: ExpertQuestionnaire, answers: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Per item the score, NaN for "cannot judge" or no answer: the long rows ``analysis.experts`` reads."""
    scores = {}
    for item in questionnaire.items():
        score = (answers.get(item.code) or {}).get("score")
        scores[item.code] = float(score) if score is not None else math.nan
    return scores


def expert_questionnaire_to_dict(questionnaire: ExpertQuestionnaire) -> dict[str, Any]:
    """The questionnaire as a plain document: what a published snapshot stores."""
    scale = questionnaire.scale
    return {
        "framework": {
            "code": questionnaire.framework_code,
            "year": questionnaire.framework_year,
            "version": questionnaire.framework_version,
        },
        "group": EXPERT_GROUP,
        "scale": {
            "low": scale.low,
            "high": scale.high,
            "anchors": [{"value": a.value, "label": {"vi": a.label.vi, "en": a.label.en}} for a in scale.anchors],
        },
        "sections": [
            {
                "code": section.code,
                "title": {"vi": section.title.vi, "en": section.title.en},
                "items": [
                    {
                        "code": item.code,
                        "kind": str(item.kind),
                        "points": item.points,
                        "name": {"vi": item.name.vi, "en": item.name.en},
                    }
                    for item in section.items
                ],
            }
            for section in questionnaire.sections
        ],
    }


def expert_questionnaire_from_dict(doc: Mapping[str, Any]) -> ExpertQuestionnaire:
    """The experts' questionnaire of a stored document.

    :raises FrameworkInvalid: when the document is not one
    """
    try:
        scale_doc = doc["scale"]
        scale = ExpertScale(
            int(scale_doc["low"]),
            int(scale_doc["high"]),
            tuple(
                Anchor(int(a["value"]), Text(a["label"]["vi"], a["label"].get("en", ""))) for a in scale_doc["anchors"]
            ),
        )
        sections = tuple(
            ExpertSection(
                str(section["code"]),
                Text(section["title"]["vi"], section["title"].get("en", "")),
                tuple(
                    ExpertItem(
                        str(item["code"]),
                        NodeKind(item["kind"]),
                        Text(item["name"]["vi"], item["name"].get("en", "")),
                        float(item["points"]),
                    )
                    for item in section["items"]
                ),
            )
            for section in doc["sections"]
        )
        framework = doc["framework"]
        if doc.get("group") != EXPERT_GROUP or not scale.high > scale.low:
            raise ValueError("not an experts' questionnaire")
        return ExpertQuestionnaire(
            str(framework["code"]), int(framework["year"]), int(framework["version"]), scale, sections
        )
    except (KeyError, TypeError, ValueError) as error:
        raise FrameworkInvalid(
            [Issue("invalid_value", None, {"field": "questionnaire", "value": str(error)[:200]})]
        ) from error
