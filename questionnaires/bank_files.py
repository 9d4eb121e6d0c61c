"""Question banks as YAML documents: a list of questions and the background block."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from questionnaires.framework import RespondentGroup, Text
from questionnaires.questions import Choice, Question, QuestionBank, QuestionType, Relevance
from questionnaires.validation import FrameworkInvalid, Issue


def _question(doc: Any, where: str, issues: list[Issue]) -> Question | None:
    if not isinstance(doc, dict):
        issues.append(Issue("invalid_value", where, {"field": "question", "value": doc}))
        return None
    code = str(doc.get("code") or where)
    try:
        kind = QuestionType(doc.get("type"))
        groups = tuple(RespondentGroup(g) for g in doc.get("groups") or [])
    except ValueError as error:
        issues.append(Issue("invalid_value", code, {"field": "type/groups", "value": str(error)}))
        return None
    text = doc.get("text") or {}
    if not isinstance(text, dict) or not text.get("vi"):
        issues.append(Issue("missing_field", code, {"field": "text.vi"}))
        return None
    if not groups:
        issues.append(Issue("missing_field", code, {"field": "groups"}))
    choices = tuple(Choice(str(c["value"]), Text(str(c["label"]["vi"]), str(c["label"].get("en", ""))))
                    for c in doc.get("choices") or [])
    if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.LIKERT) and not choices:
        issues.append(Issue("missing_field", code, {"field": "choices"}))
    relevance = doc.get("relevance")
    return Question(
        code=code, text=Text(str(text["vi"]), str(text.get("en", ""))), type=kind, groups=groups,
        criterion=doc.get("criterion"), choices=choices, required=bool(doc.get("required", True)),
        minimum=doc.get("minimum"), maximum=doc.get("maximum"),
        relevance=Relevance(relevance["question"], tuple(str(v) for v in relevance["values"])) if relevance else None,
        positive=tuple(str(v) for v in doc.get("positive", ["yes"])), background=doc.get("background"),
        attention_answer=doc.get("attention_answer"))


def read_bank(source: str | Path) -> QuestionBank:
    """Read a question bank.

    :raises FrameworkInvalid: listing every problem, each naming the question
    """
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise FrameworkInvalid([Issue("invalid_value", None, {"field": "file", "value": str(error)[:200]})])
    issues: list[Issue] = []
    questions = [_question(q, f"questions/{i + 1}", issues) for i, q in enumerate(doc.get("questions") or [])]
    background = [_question(q, f"background/{i + 1}", issues) for i, q in enumerate(doc.get("background") or [])]
    codes = [q.code for q in questions + background if q is not None]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        issues.append(Issue("duplicate_code", code))
    if issues:
        raise FrameworkInvalid(issues)
    return QuestionBank([q for q in questions if q], [q for q in background if q])
