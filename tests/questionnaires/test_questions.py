"""The question bank, generated questionnaires, coverage, answer checks and respondent values."""

from pathlib import Path

import pytest

from questionnaires import FrameworkInvalid, RespondentGroup, SurveyRule, read_yaml
from questionnaires.bank_files import read_bank
from questionnaires.questions import (
    AnswerProblem,
    CoverageGap,
    check_answer,
    coverage,
    generate,
    is_relevant,
    respondent_value,
)

DEMO = Path(__file__).resolve().parents[2] / "survey_app" / "core" / "demo"
FRAMEWORK = read_yaml(DEMO / "national-province-2021-demo.yaml")
BANK = read_bank(DEMO / "question-bank.yaml")


def test_demo_bank_covers_every_survey_criterion():
    assert coverage(FRAMEWORK, BANK.questions) == []


def test_coverage_lists_each_missing_criterion_and_group():
    without = [q for q in BANK.questions if q.code != "q_dg3"]
    assert coverage(FRAMEWORK, without) == [
        CoverageGap("DG.3", RespondentGroup.CITIZENS),
        CoverageGap("DG.3", RespondentGroup.BUSINESSES),
    ]


def test_citizen_questionnaire_in_framework_order_with_background():
    questionnaire = generate(FRAMEWORK, BANK.questions, RespondentGroup.CITIZENS, BANK.background)
    assert [s.code for s in questionnaire.sections] == ["AW", "INFRA", "HR", "DG", "DS", "background"]
    assert [q.code for q in questionnaire.questions()] == [
        "q_aw3",
        "q_infra2",
        "q_hr2",
        "q_dg3",
        "q_dg4",
        "q_ds1",
        "q_ds2",
        "attention",
        "province",
        "urban",
        "sex",
        "age",
        "comments",
    ]


def test_business_questionnaire():
    questionnaire = generate(FRAMEWORK, BANK.questions, RespondentGroup.BUSINESSES, BANK.background)
    assert [q.code for q in questionnaire.questions()] == [
        "q_dg3",
        "q_dg4",
        "q_de1",
        "q_de2",
        "attention",
        "province",
        "size",
        "sector",
        "ownership",
        "comments",
    ]


@pytest.mark.parametrize(
    "code, value, expected",
    [
        ("q_dg3", "yes", ("yes", None)),
        ("q_dg3", "maybe", (None, AnswerProblem.NOT_A_CHOICE)),
        ("q_dg3", "", (None, AnswerProblem.REQUIRED)),
        ("q_dg4", "6", (None, AnswerProblem.NOT_A_CHOICE)),
        ("q_hr2", ["payment", "email"], (["email", "payment"], None)),
        ("q_hr2", ["email", "hack"], (None, AnswerProblem.NOT_A_CHOICE)),
        ("q_hr2", ["none"], (["none"], None)),
        ("q_hr2", ["none", "search"], (None, AnswerProblem.EXCLUSIVE_CHOICE)),
    ],
)
def test_answers_are_checked(code, value, expected):
    question = next(q for q in BANK.questions if q.code == code)
    assert check_answer(question, value) == expected


def test_number_and_percentage_bounds():
    from questionnaires import Text
    from questionnaires.questions import Question, QuestionType

    share = Question("p", Text("x", "x"), QuestionType.PERCENTAGE, (RespondentGroup.CITIZENS,))
    assert check_answer(share, "12,5") == (12.5, None)
    assert check_answer(share, "101") == (None, AnswerProblem.ABOVE_MAXIMUM)
    assert check_answer(share, "nan") == (None, AnswerProblem.NOT_A_NUMBER)


def test_a_number_sent_as_a_number_is_checked_as_its_text_would_be():
    """check_answer decides a JSON number on a short path of its own: it must end as the text path does."""
    from questionnaires import Text
    from questionnaires.questions import Question, QuestionType

    groups = (RespondentGroup.CITIZENS,)
    questions = [
        Question("p", Text("x", "x"), QuestionType.PERCENTAGE, groups),
        Question("n", Text("x", "x"), QuestionType.NUMBER, groups, minimum=-5, maximum=1000),
        Question("u", Text("x", "x"), QuestionType.NUMBER, groups, required=False),
    ]
    values = [0, 1, -0.0, 12.5, 100, 100.0, 100.000001, 101, -1, -5, -5.000001, 1000, 1001, 2**53 + 1, 10**20,
              10**400, -(10**400), 1e308, 1.7976931348623157e308, 5e-324, 0.1 + 0.2]  # fmt: skip
    for question in questions:
        for value in values:
            assert check_answer(question, value) == check_answer(question, str(value)), (question.code, value)
    assert check_answer(questions[1], 2**53 + 1) == (None, AnswerProblem.ABOVE_MAXIMUM)
    assert check_answer(questions[2], 10**400) == (None, AnswerProblem.NOT_A_NUMBER)
    assert check_answer(questions[0], True) == check_answer(questions[0], "True") == (None, AnswerProblem.NOT_A_NUMBER)


@pytest.mark.parametrize("value", ["yes", " yes ", "no", "maybe", "", "   ", "YES"])
def test_a_choice_sent_as_its_value_is_checked_as_any_other_value(value):
    """The short path for a choice's value ends as the general one: stripped, refused unless a choice, empty
    is no answer."""
    question = next(q for q in BANK.questions if q.code == "q_dg3")
    stripped = value.strip()
    expected = (
        (None, AnswerProblem.REQUIRED)
        if not stripped
        else (stripped, None)
        if stripped in ("yes", "no")
        else (None, AnswerProblem.NOT_A_CHOICE)
    )
    assert check_answer(question, value) == expected


def test_relevance_asks_satisfaction_only_of_users():
    satisfaction = next(q for q in BANK.questions if q.code == "q_dg4")
    assert is_relevant(satisfaction, {"q_dg3": "yes"}) and not is_relevant(satisfaction, {"q_dg3": "no"})


def test_respondent_values_for_each_rule():
    skills = next(q for q in BANK.questions if q.code == "q_hr2")
    assert respondent_value(skills, SurveyRule.SHARE_YES, ["none"]) == 0.0
    assert respondent_value(skills, SurveyRule.SHARE_YES, ["search"]) == 1.0
    satisfaction = next(q for q in BANK.questions if q.code == "q_dg4")
    assert respondent_value(satisfaction, SurveyRule.MEAN_SCALE, "4") == 4.0
    assert respondent_value(satisfaction, SurveyRule.SHARE_AT_LEAST, "4", threshold=4) == 1.0
    assert respondent_value(satisfaction, SurveyRule.MEAN_SCALE, None) is None


def test_bad_bank_names_each_question():
    with pytest.raises(FrameworkInvalid) as caught:
        read_bank(
            "questions:\n  - {code: a, type: telepathy, groups: [citizens], text: {vi: x}}\n"
            "  - {code: b, type: single, groups: [citizens], text: {vi: y}}\n"
        )
    assert [(i.code, i.node) for i in caught.value.issues] == [("invalid_value", "a"), ("missing_field", "b")]


def test_a_text_cut_at_an_unquoted_comma_is_refused_naming_the_question():
    with pytest.raises(FrameworkInvalid) as caught:
        read_bank(
            "background:\n  - {code: province, type: text, groups: [citizens],\n"
            "     text: {vi: Tỉnh, thành phố nơi ở, en: Province}}\n"
            "  - code: sector\n    type: single\n    groups: [businesses]\n    text: {vi: Ngành, en: Sector}\n"
            "    choices:\n      - {value: a, label: {vi: Nông, lâm nghiệp, en: Farming}}\n"
        )
    assert [(i.code, i.node, i.params) for i in caught.value.issues] == [
        ("invalid_value", "province", {"field": "text", "value": "thành phố nơi ở"}),
        ("invalid_value", "sector", {"field": "choices", "value": "lâm nghiệp"}),
    ]


def test_the_demo_bank_keeps_its_texts_whole():
    sector = next(q for q in BANK.background if q.code == "sector")
    assert sector.choices[0].label.vi == "Nông, lâm nghiệp và thủy sản"
    assert sector.choices[0].label.en == "Agriculture, forestry and fishing"
    assert next(q for q in BANK.background if q.code == "province").text.vi.endswith("sinh sống, hoạt động")


def test_exclusive_is_a_declared_property_of_a_choice():
    skills = next(q for q in BANK.questions if q.code == "q_hr2")
    assert [c.value for c in skills.choices if c.exclusive] == ["none"]
    with pytest.raises(FrameworkInvalid) as caught:
        read_bank(
            "questions:\n  - {code: m, type: multiple, groups: [citizens], text: {vi: x},\n"
            "     choices: [{value: none, exclusive: maybe, label: {vi: Không}}]}\n"
        )
    assert [(i.code, i.node) for i in caught.value.issues] == [("invalid_value", "m")]


def test_a_unit_question_takes_the_fieldwork_units_not_choices_of_its_own():
    with pytest.raises(FrameworkInvalid) as caught:
        read_bank(
            "background:\n  - {code: p, type: unit, groups: [citizens], text: {vi: Tỉnh},\n"
            "     choices: [{value: '01', label: {vi: Hà Nội}}]}\n"
        )
    assert [(i.code, i.node, i.params["field"]) for i in caught.value.issues] == [("invalid_value", "p", "choices")]


def test_a_text_is_asked_for_in_vietnamese_or_english_only():
    from questionnaires import Text

    assert Text("Có", "Yes").in_language("en") == "Yes" and Text("Có", "").in_language("en") == "Có"
    with pytest.raises(ValueError):
        Text("Có", "Yes").in_language(None)  # a template that lost its language must not fall back silently
