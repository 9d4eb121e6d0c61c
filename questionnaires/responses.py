"""A respondent's answers as a whole: checked against the questionnaire they answered, and the quality flags
that mark a response for review.

Flags never remove a response: staff decide whether a flagged response is excluded.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterable, Mapping

from questionnaires.questions import AnswerProblem, Question, Questionnaire, check_answer, is_relevant


@dataclass
class CheckedAnswers:
    """Answers in their stored form, and the problem of every refused one (by question code)."""

    answers: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, AnswerProblem] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.problems


def check_answers(
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    *,
    questions: Iterable[Question] | None = None,
    complete: bool = True,
) -> CheckedAnswers:
    """Check the answers to some questions (a section's, or all of them).

    Questions that the answers so far make irrelevant are dropped, answered or not; codes the questionnaire
    does not have are ignored.

    :param questions: the questions to check, all of the questionnaire's by default
    :param complete: False while the respondent is still answering: a missing required answer is then
        not a problem yet (a draft is saved as it is)
    """
    checked = CheckedAnswers()
    stored, problems, given = checked.answers, checked.problems, answers.get
    context = dict(answers)
    for question in questionnaire.questions() if questions is None else questions:
        code = question.code
        if question.relevance is not None and not is_relevant(question, context):
            context.pop(code, None)
            continue
        value, problem = check_answer(question, given(code))
        if problem is None:
            if value is not None:
                stored[code] = value
        elif complete or problem is not AnswerProblem.REQUIRED:
            problems[code] = problem
        context[code] = value
    return checked


def stratum_of(answers: Mapping[str, Any], dimensions: Iterable[str]) -> tuple[str, ...] | None:
    """The stratum a respondent falls in: their answers to the quota's background questions, in order, or
    None while one of them is unanswered."""
    values = []
    for dimension in dimensions:
        value = answers.get(dimension)
        if value is None or value == "":
            return None
        values.append(str(value))
    return tuple(values)


class QualityFlag(StrEnum):
    SPEEDING = "speeding"
    STRAIGHT_LINING = "straight_lining"
    ATTENTION = "attention"


#: at least this many scale answers before identical ones count as straight-lining
STRAIGHT_LINING_MIN_ITEMS = 3
#: a response faster than this share of the median duration is speeding
SPEEDING_SHARE = 0.5


def quality_flags(
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    duration_seconds: float | None,
    median_seconds: float | None,
) -> list[QualityFlag]:
    """The reasons to review a response.

    - speeding: completed in under half the median duration of the fieldwork's completed responses;
    - straight-lining: the same answer on every Likert question, when at least three were answered;
    - attention: an attention check answered otherwise than an attentive respondent would.
    """
    flags = []
    if duration_seconds is not None and median_seconds and duration_seconds < SPEEDING_SHARE * median_seconds:
        flags.append(QualityFlag.SPEEDING)
    scale = [answers[q.code] for q in questionnaire.scale_questions if answers.get(q.code) is not None]
    if len(scale) >= STRAIGHT_LINING_MIN_ITEMS and len(set(scale)) == 1:
        flags.append(QualityFlag.STRAIGHT_LINING)
    if any(q.code in answers and str(answers[q.code]) != q.attention_answer for q in questionnaire.attention_checks):
        flags.append(QualityFlag.ATTENTION)
    return flags


def median_duration(durations: Iterable[float | None]) -> float | None:
    """The median of the known durations, None when there is none."""
    known = [d for d in durations if d is not None]
    return statistics.median(known) if known else None
