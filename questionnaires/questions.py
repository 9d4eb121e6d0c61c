"""The question bank and the questionnaires generated from it.

Every question belongs to one criterion (or to the background block that weighting needs) and to one or
more respondent groups, carries its wording in Vietnamese and English, its type, validation and optional
relevance condition, and turns a respondent's answer into the value its criterion's survey rule averages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Iterable

from questionnaires.framework import Channel, Framework, RespondentGroup, SurveyRule, Text


class QuestionType(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    LIKERT = "likert"
    YES_NO = "yes_no"
    NUMBER = "number"
    PERCENTAGE = "percentage"
    TEXT = "text"
    #: the unit the response is about (the province, the ministry): one of the fieldwork's units, given by the
    #: link or the submission, never typed; it is the response's unit, not stored among its answers
    UNIT = "unit"


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text
    #: a choice that excludes every other of a multiple choice ("None of these")
    exclusive: bool = False


YES_NO_CHOICES = (Choice("yes", Text("Có", "Yes")), Choice("no", Text("Không", "No")))


@dataclass(frozen=True)
class Relevance:
    """Ask the question only when the answer to ``question`` is one of ``values``."""

    question: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    code: str
    text: Text
    type: QuestionType
    groups: tuple[RespondentGroup, ...]
    #: the criterion the answer measures; None for background questions
    criterion: str | None = None
    choices: tuple[Choice, ...] = ()
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    relevance: Relevance | None = None
    #: choices that count as "yes" for a share (single, multiple and yes/no questions)
    positive: tuple[str, ...] = ("yes",)
    #: what weighting needs this background answer for ("province", "sex", ...)
    background: str | None = None
    #: a check of attention: the choice an attentive respondent gives
    attention_answer: str | None = None

    def bounds(self) -> tuple[float | None, float | None]:
        """The accepted range of a numeric answer: a percentage lies in [0, 100] unless the question says more."""
        percentage = self.type is QuestionType.PERCENTAGE
        low = self.minimum if self.minimum is not None else (0 if percentage else None)
        high = self.maximum if self.maximum is not None else (100 if percentage else None)
        return low, high

    def all_choices(self) -> tuple[Choice, ...]:
        return YES_NO_CHOICES if self.type is QuestionType.YES_NO and not self.choices else self.choices

    @cached_property
    def choice_values(self) -> frozenset[str]:
        """The values a choice answer may take, worked out once: every submission checks against them."""
        return frozenset(choice.value for choice in self.all_choices())


@dataclass(frozen=True)
class Section:
    code: str
    title: Text
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Questionnaire:
    """The questionnaire of one respondent group, generated from a framework version."""

    framework_code: str
    framework_year: int
    framework_version: int
    group: RespondentGroup
    sections: tuple[Section, ...]

    def questions(self) -> list[Question]:
        return [question for section in self.sections for question in section.questions]

    @cached_property
    def scale_questions(self) -> tuple[Question, ...]:
        """The Likert questions that are not attention checks: straight-lining is read from their answers."""
        return tuple(q for q in self.questions() if q.type is QuestionType.LIKERT and q.attention_answer is None)

    @cached_property
    def attention_checks(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions() if q.attention_answer is not None)


class AnswerProblem(StrEnum):
    """Why an answer is refused; the service translates the code next to the field."""

    REQUIRED = "required"
    NOT_A_CHOICE = "not_a_choice"
    NOT_A_NUMBER = "not_a_number"
    BELOW_MINIMUM = "below_minimum"
    ABOVE_MAXIMUM = "above_maximum"
    TOO_LONG = "too_long"
    CONTROL_CHARACTERS = "control_characters"
    #: an exclusive choice ("None of these") given together with another
    EXCLUSIVE_CHOICE = "exclusive_choice"


MAX_TEXT_LENGTH = 2000

#: characters no database text, XML or spreadsheet cell can hold (tab and line breaks are fine)
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def typed_text(text: str) -> str:
    """Typed text in its stored form: line breaks as LF (browsers send CR LF, some tools a bare CR, and a
    spreadsheet keeps only LF) and no white space around it (SPSS and Stata pad text with spaces, so they
    could not give it back)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def has_control_characters(text: str) -> bool:
    """Whether typed text holds invisible control characters (a NUL, a form feed, ...), which cannot be stored
    or exported: such an answer is refused so that every stored answer can be."""
    return _CONTROL_CHARACTERS.search(text) is not None


def is_relevant(question: Question, answers: dict[str, Any]) -> bool:
    """Whether the question is asked, given the answers so far."""
    if question.relevance is None:
        return True
    given = answers.get(question.relevance.question)
    given = given if isinstance(given, (list, tuple)) else [given]
    return any(str(value) in question.relevance.values for value in given if value is not None)


#: the question types answered by one choice's value, and by a number
_ONE_CHOICE = frozenset({QuestionType.SINGLE, QuestionType.YES_NO, QuestionType.LIKERT})
_NUMERIC = frozenset({QuestionType.NUMBER, QuestionType.PERCENTAGE})


def check_answer(question: Question, value: Any) -> tuple[Any, AnswerProblem | None]:
    """Validate and normalise one answer.

    :return: the answer in its stored form (a string, a list of strings or a number, None for no answer) and
        the problem, if any
    """
    # The two answers every submission is made of come first, each decided in a few steps (a 40-question
    # submission checks 40 of them, and this check was a fifth of the submission API's CPU): a choice sent as
    # its value, and a number sent as a JSON number. Each ends as the general path below would.
    kind = question.type
    if value.__class__ is str and kind in _ONE_CHOICE:
        text = value.strip()
        if text:
            return (text, None) if text in question.choice_values else (None, AnswerProblem.NOT_A_CHOICE)
    elif (value.__class__ is int or value.__class__ is float) and kind in _NUMERIC:
        try:
            number = float(value)  # the float its text would give, or an overflow where the text gives inf
        except OverflowError:
            return None, AnswerProblem.NOT_A_NUMBER
        return _within_bounds(question, number)
    if kind is QuestionType.UNIT:
        return None, None  # the response's unit is its answer: whatever was sent for it is not kept
    empty = value is None or (isinstance(value, str) and not value.strip()) or value == []
    if empty:
        return None, AnswerProblem.REQUIRED if question.required else None
    if kind in _ONE_CHOICE:
        text = str(value).strip()
        return (text, None) if text in question.choice_values else (None, AnswerProblem.NOT_A_CHOICE)
    if kind is QuestionType.MULTIPLE:
        values = [str(v).strip() for v in (value if isinstance(value, (list, tuple)) else [value])]
        if not set(values) <= question.choice_values:
            return None, AnswerProblem.NOT_A_CHOICE
        if len(set(values)) > 1 and any(c.exclusive and c.value in values for c in question.all_choices()):
            return None, AnswerProblem.EXCLUSIVE_CHOICE
        return sorted(set(values), key=[c.value for c in question.all_choices()].index), None
    if kind in _NUMERIC:
        try:
            number = float(str(value).replace(",", ".").strip())
        except ValueError:
            return None, AnswerProblem.NOT_A_NUMBER
        return _within_bounds(question, number)
    text = typed_text(str(value))
    if len(text) > MAX_TEXT_LENGTH:
        return None, AnswerProblem.TOO_LONG
    if has_control_characters(text):
        return None, AnswerProblem.CONTROL_CHARACTERS
    return text, None


def _within_bounds(question: Question, number: float) -> tuple[float | None, AnswerProblem | None]:
    if not math.isfinite(number):
        return None, AnswerProblem.NOT_A_NUMBER
    low, high = question.bounds()
    if low is not None and number < low:
        return None, AnswerProblem.BELOW_MINIMUM
    if high is not None and number > high:
        return None, AnswerProblem.ABOVE_MAXIMUM
    return number, None


def respondent_value(question: Question, rule: SurveyRule, answer: Any, threshold: float | None = None) -> float | None:
    """The value a respondent contributes to the criterion's weighted estimate: 1 or 0 for a share, the
    answer's number for a mean, None when the question was not answered (left out of the estimate)."""
    if answer is None:
        return None
    if rule is SurveyRule.SHARE_YES:
        answers = answer if isinstance(answer, list) else [answer]
        return 1.0 if any(str(a) in question.positive for a in answers) else 0.0
    number = float(answer)
    if rule is SurveyRule.SHARE_AT_LEAST:
        return 1.0 if number >= (threshold if threshold is not None else math.inf) else 0.0
    return number


_BACKGROUND_TITLE = Text("Thông tin chung", "About you")


def generate(
    framework: Framework, bank: Iterable[Question], group: RespondentGroup, background: Iterable[Question] = ()
) -> Questionnaire:
    """The questionnaire of a respondent group: every survey-measured criterion the group answers, in
    framework order, a section per main index, then the background block weighting needs.

    :param bank: the question bank; questions of other groups are left out
    :param background: the background questions (province, urban/rural, sex, age group; size, sector,
        ownership), kept for the group
    """
    bank = [question for question in bank if group in question.groups]
    by_criterion: dict[str, list[Question]] = {}
    for question in bank:
        if question.criterion:
            by_criterion.setdefault(question.criterion, []).append(question)
    sections: list[Section] = []
    for node, _parent in framework.walk():
        if node.children and any(child.is_leaf for child in node.children):
            questions = [
                question
                for child in node.children
                if child.is_leaf and child.scored and group in child.survey_groups()
                for question in by_criterion.get(child.code, [])
            ]
            if questions:
                sections.append(Section(node.code, node.name, tuple(questions)))
    own_background = tuple(question for question in background if group in question.groups)
    if own_background:
        sections.append(Section("background", _BACKGROUND_TITLE, own_background))
    return Questionnaire(framework.code, framework.year, framework.version, group, tuple(sections))


@dataclass(frozen=True)
class CoverageGap:
    """A survey-measured criterion a group must answer with no question for that group."""

    criterion: str
    group: RespondentGroup


def coverage(framework: Framework, bank: Iterable[Question]) -> list[CoverageGap]:
    """The survey-measured criteria that have no question for a group that must answer them."""
    asked = {(question.criterion, group) for question in bank for group in question.groups}
    gaps = []
    for node in framework.leaves():
        if node.scored and Channel.SURVEY in node.channel_kinds():
            for group in node.survey_groups():
                if (node.code, group) not in asked:
                    gaps.append(CoverageGap(node.code, group))
    return gaps


@dataclass
class QuestionBank:
    """A bank of questions with its background block, as read from a file."""

    questions: list[Question] = field(default_factory=list)
    background: list[Question] = field(default_factory=list)
