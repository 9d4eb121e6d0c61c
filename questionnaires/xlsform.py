"""A questionnaire as an XLSForm, the form definition ODK and KoboToolbox collect with: a ``survey`` sheet
(one row per question, grouped by section), a ``choices`` sheet and a ``settings`` sheet, both languages
as ``label::Tiếng Việt (vi)`` and ``label::English (en)`` columns."""

from __future__ import annotations

import io

from openpyxl import Workbook

from questionnaires.questions import Question, Questionnaire, QuestionType, Section

VI, EN = "label::Tiếng Việt (vi)", "label::English (en)"
_TYPES = {
    QuestionType.SINGLE: "select_one",
    QuestionType.LIKERT: "select_one",
    QuestionType.YES_NO: "select_one",
    QuestionType.MULTIPLE: "select_multiple",
    QuestionType.NUMBER: "decimal",
    QuestionType.PERCENTAGE: "decimal",
    QuestionType.TEXT: "text",
}


def form_id(questionnaire: Questionnaire) -> str:
    return (
        f"dti_{questionnaire.framework_code}_{questionnaire.framework_year}_v{questionnaire.framework_version}_"
        f"{questionnaire.group}"
    ).replace("-", "_")


def group_name(section: Section) -> str:
    """The XLSForm group of a section, whose name prefixes the section's columns in the tools' exports."""
    return f"section_{section.code}".replace(".", "_")


def _list_name(question: Question) -> str:
    return f"list_{question.code}"


def _constraint(question: Question) -> tuple[str | None, str | None, str | None]:
    exclusive = [choice for choice in question.all_choices() if choice.exclusive]
    if question.type is QuestionType.MULTIPLE and exclusive:
        tests = " or ".join(f"selected(., '{choice.value}')" for choice in exclusive)
        vi = " / ".join(f"“{choice.label.vi}”" for choice in exclusive)
        en = " / ".join(f"“{choice.label.en or choice.label.vi}”" for choice in exclusive)
        return (
            f"not(({tests}) and count-selected(.) > 1)",
            f"Không thể chọn {vi} cùng với câu trả lời khác.",
            f"{en} cannot be chosen with another answer.",
        )
    low, high = question.bounds()
    if question.type not in (QuestionType.NUMBER, QuestionType.PERCENTAGE) or (low is None and high is None):
        return None, None, None
    parts = ([f". >= {low:g}"] if low is not None else []) + ([f". <= {high:g}"] if high is not None else [])
    span_vi = f"từ {low:g}" if low is not None else ""
    span_vi += f" đến {high:g}" if high is not None else ""
    span_en = f"from {low:g}" if low is not None else ""
    span_en += f" to {high:g}" if high is not None else ""
    return " and ".join(parts), f"Hãy nhập số {span_vi.strip()}.", f"Enter a number {span_en.strip()}."


def _relevant(question: Question) -> str | None:
    if question.relevance is None:
        return None
    tests = [f"selected(${{{question.relevance.question}}}, '{value}')" for value in question.relevance.values]
    return " or ".join(tests)


def to_xlsform(questionnaire: Questionnaire) -> bytes:
    """The questionnaire as an XLSForm workbook that ``pyxform`` compiles."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    header = [
        "type",
        "name",
        VI,
        EN,
        "required",
        "relevant",
        "constraint",
        "constraint_message::Tiếng Việt (vi)",
        "constraint_message::English (en)",
    ]
    survey.append(header)
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", VI, EN])
    for section in questionnaire.sections:
        survey.append(["begin_group", group_name(section), section.title.vi, section.title.en or section.title.vi])
        for question in section.questions:
            if question.type is QuestionType.UNIT:
                continue  # the unit comes with the collected file (its unit column, or the unit chosen on import)
            kind = _TYPES[question.type]
            if kind.startswith("select"):
                kind = f"{kind} {_list_name(question)}"
                for choice in question.all_choices():
                    choices.append(
                        [_list_name(question), choice.value, choice.label.vi, choice.label.en or choice.label.vi]
                    )
            constraint, message_vi, message_en = _constraint(question)
            survey.append(
                [
                    kind,
                    question.code,
                    question.text.vi,
                    question.text.en or question.text.vi,
                    "yes" if question.required else "no",
                    _relevant(question),
                    constraint,
                    message_vi,
                    message_en,
                ]
            )
        survey.append(["end_group"])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append(
        [
            f"DTI {questionnaire.framework_year} ({questionnaire.group})",
            form_id(questionnaire),
            str(questionnaire.framework_version),
            "Tiếng Việt (vi)",
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
