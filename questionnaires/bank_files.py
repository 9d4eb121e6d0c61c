"""Question banks as YAML documents (a list of questions and the background block), and questionnaires as
the plain documents a published snapshot stores."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from questionnaires._yaml import load_document
from questionnaires.framework import RespondentGroup, Text
from questionnaires.questions import (
    Choice,
    Question,
    QuestionBank,
    Questionnaire,
    QuestionType,
    Relevance,
    Section,
    has_control_characters,
)
from questionnaires.validation import FrameworkInvalid, Issue


def _question(doc: Any, where: str, issues: list[Issue]) -> Question | None:
    if not isinstance(doc, dict):
        issues.append(Issue("invalid_value", where, {"field": "question", "value": str(doc)[:200]}))
        return None
    code = str(doc.get("code") or where)
    try:
        return _read_question(doc, code, issues)
    except KeyError as error:  # a nested mapping without a key it needs (a choice without its label)
        issues.append(Issue("missing_field", code, {"field": str(error.args[0])[:100]}))
    except (TypeError, AttributeError, ValueError) as error:  # a list where a mapping belongs, and the like
        issues.append(Issue("invalid_value", code, {"field": "question", "value": str(error)[:200]}))
    return None


def _read_question(doc: dict, code: str, issues: list[Issue]) -> Question | None:
    try:
        kind = QuestionType(doc.get("type"))
        groups = tuple(RespondentGroup(g) for g in doc.get("groups") or [])
    except ValueError as error:
        issues.append(Issue("invalid_value", code, {"field": "type/groups", "value": str(error)}))
        return None
    text = doc.get("text") or {}
    if not isinstance(text, dict) or not str(text.get("vi") or "").strip():
        issues.append(Issue("missing_field", code, {"field": "text.vi"}))
        return None
    labels = [("text", text)] + [
        ("choices", choice.get("label"))
        for choice in doc.get("choices") or []
        if isinstance(choice, dict) and isinstance(choice.get("label"), dict)
    ]
    for field_name, both in labels:
        if stray := [str(key) for key in both if key not in _LANGUAGES]:
            # YAML cuts an unquoted text at its comma in {vi: ..., en: ...}; the rest becomes stray keys
            issues.append(Issue("invalid_value", code, {"field": field_name, "value": ", ".join(stray)[:200]}))
            return None
    typed = [str(text.get("vi")), str(text.get("en") or "")]
    if isinstance(doc.get("choices"), list):
        typed += [
            str(label)
            for choice in doc["choices"]
            if isinstance(choice, dict)
            for label in (choice.get("label") or {}).values()
        ]
    if any(has_control_characters(one) for one in typed):
        issues.append(Issue("invalid_value", code, {"field": "text", "value": "control characters"}))
        return None
    if not groups:
        issues.append(Issue("missing_field", code, {"field": "groups"}))
    choices = tuple(
        Choice(
            str(c["value"]),
            Text(str(c["label"]["vi"]), str(c["label"].get("en", ""))),
            exclusive=_flag(c.get("exclusive", False)),
        )
        for c in doc.get("choices") or []
    )
    if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.LIKERT) and not choices:
        issues.append(Issue("missing_field", code, {"field": "choices"}))
    if kind is QuestionType.UNIT and choices:
        # its choices are the units of the fieldwork that asks it
        issues.append(Issue("invalid_value", code, {"field": "choices", "value": str(len(choices))}))
    relevance = doc.get("relevance")
    return Question(
        code=code,
        text=Text(str(text["vi"]), str(text.get("en", ""))),
        type=kind,
        groups=groups,
        criterion=doc.get("criterion"),
        choices=choices,
        required=bool(doc.get("required", True)),
        minimum=doc.get("minimum"),
        maximum=doc.get("maximum"),
        relevance=Relevance(relevance["question"], tuple(str(v) for v in relevance["values"])) if relevance else None,
        positive=tuple(str(v) for v in doc.get("positive", ["yes"])),
        background=doc.get("background"),
        attention_answer=doc.get("attention_answer"),
    )


#: the languages of a bilingual text: any other key is a mistake
_LANGUAGES = ("vi", "en")


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"exclusive: {value!r} is not true or false")
    return value


def read_bank(source: str | Path) -> QuestionBank:
    """Read a question bank.

    :raises FrameworkInvalid: listing every problem, each naming the question
    """
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    doc = load_document(text) or {}
    if not isinstance(doc, dict):
        raise FrameworkInvalid([Issue("invalid_value", None, {"field": "file", "value": str(doc)[:200]})])
    issues: list[Issue] = []
    blocks = {}
    for block in ("questions", "background"):
        blocks[block] = doc.get(block) or []
        if not isinstance(blocks[block], list):
            issues.append(Issue("invalid_value", block, {"field": block, "value": str(blocks[block])[:200]}))
            blocks[block] = []
    questions = [_question(q, f"questions/{i + 1}", issues) for i, q in enumerate(blocks["questions"])]
    background = [_question(q, f"background/{i + 1}", issues) for i, q in enumerate(blocks["background"])]
    codes = [q.code for q in questions + background if q is not None]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        issues.append(Issue("duplicate_code", code))
    if issues:
        raise FrameworkInvalid(issues)
    return QuestionBank([q for q in questions if q], [q for q in background if q])


def question_to_dict(question: Question) -> dict[str, Any]:
    """A question as the document ``read_bank`` reads, leaving out what is at its default."""
    doc: dict[str, Any] = {
        "code": question.code,
        "type": str(question.type),
        "groups": [str(group) for group in question.groups],
        "text": {"vi": question.text.vi, "en": question.text.en},
    }
    optional = {
        "criterion": question.criterion,
        "minimum": question.minimum,
        "maximum": question.maximum,
        "background": question.background,
        "attention_answer": question.attention_answer,
    }
    doc.update({key: value for key, value in optional.items() if value is not None})
    if question.choices:
        doc["choices"] = [
            {
                "value": c.value,
                "label": {"vi": c.label.vi, "en": c.label.en},
                **({"exclusive": True} if c.exclusive else {}),
            }
            for c in question.choices
        ]
    if not question.required:
        doc["required"] = False
    if question.relevance:
        doc["relevance"] = {"question": question.relevance.question, "values": list(question.relevance.values)}
    if question.positive != ("yes",):
        doc["positive"] = list(question.positive)
    return doc


def questionnaire_to_dict(questionnaire: Questionnaire) -> dict[str, Any]:
    """The questionnaire as a plain document: what a published snapshot stores."""
    return {
        "framework": {
            "code": questionnaire.framework_code,
            "year": questionnaire.framework_year,
            "version": questionnaire.framework_version,
        },
        "group": str(questionnaire.group),
        "sections": [
            {
                "code": section.code,
                "title": {"vi": section.title.vi, "en": section.title.en},
                "questions": [question_to_dict(q) for q in section.questions],
            }
            for section in questionnaire.sections
        ],
    }


def questionnaire_from_dict(doc: dict[str, Any]) -> Questionnaire:
    """The questionnaire of a stored document.

    :raises FrameworkInvalid: when the document is not a questionnaire
    """
    issues: list[Issue] = []
    sections = []
    try:
        for section in doc["sections"]:
            questions = [_question(q, f"{section['code']}/{i + 1}", issues) for i, q in enumerate(section["questions"])]
            sections.append(
                Section(
                    str(section["code"]),
                    Text(section["title"]["vi"], section["title"].get("en", "")),
                    tuple(q for q in questions if q),
                )
            )
        framework = doc["framework"]
        group = RespondentGroup(doc["group"])
    except (KeyError, TypeError, ValueError) as error:
        raise FrameworkInvalid(
            [Issue("invalid_value", None, {"field": "questionnaire", "value": str(error)[:200]})]
        ) from error
    if issues:
        raise FrameworkInvalid(issues)
    return Questionnaire(
        str(framework["code"]), int(framework["year"]), int(framework["version"]), group, tuple(sections)
    )


def document_hash(doc: dict[str, Any]) -> str:
    """SHA-256 of a document's canonical JSON: equal documents, equal hashes."""
    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
