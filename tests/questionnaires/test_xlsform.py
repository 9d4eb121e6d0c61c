"""The XLSForm export compiles with pyxform for every demo questionnaire."""

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from questionnaires import RespondentGroup, read_yaml
from questionnaires.bank_files import read_bank
from questionnaires.questions import QuestionType, generate
from questionnaires.xlsform import form_id, to_xlsform

DEMO = Path(__file__).resolve().parents[2] / "survey_app" / "core" / "demo"
FRAMEWORK = read_yaml(DEMO / "national-province-2021-demo.yaml")
BANK = read_bank(DEMO / "question-bank.yaml")


@pytest.mark.parametrize("group", [RespondentGroup.CITIZENS, RespondentGroup.BUSINESSES])
def test_xlsform_compiles_with_pyxform(group):
    questionnaire = generate(FRAMEWORK, BANK.questions, group, BANK.background)
    workbook = to_xlsform(questionnaire)
    result = convert(xlsform=io.BytesIO(workbook), file_type=".xlsx", form_name=form_id(questionnaire))
    xml = result.xform
    for question in questionnaire.questions():
        # the unit comes with the collected file, as it comes with a web link
        assert (f"/{question.code}" in xml) != (question.type is QuestionType.UNIT)
    assert "Tiếng Việt (vi)" in xml and "English (en)" in xml


def test_relevance_and_choices_are_carried():
    questionnaire = generate(FRAMEWORK, BANK.questions, RespondentGroup.CITIZENS, BANK.background)
    book = load_workbook(io.BytesIO(to_xlsform(questionnaire)))
    rows = {row[1]: row for row in book["survey"].iter_rows(min_row=2, values_only=True) if row[1]}
    assert rows["q_dg4"][0] == "select_one list_q_dg4"
    assert rows["q_dg4"][5] == "selected(${q_dg3}, 'yes')"
    choices = [row for row in book["choices"].iter_rows(min_row=2, values_only=True) if row[0] == "list_q_dg4"]
    assert [row[1] for row in choices] == ["1", "2", "3", "4", "5"]


def test_none_of_these_is_exclusive_in_the_form_too():
    questionnaire = generate(FRAMEWORK, BANK.questions, RespondentGroup.CITIZENS, BANK.background)
    book = load_workbook(io.BytesIO(to_xlsform(questionnaire)))
    rows = {row[1]: row for row in book["survey"].iter_rows(min_row=2, values_only=True) if row[1]}
    assert rows["q_hr2"][6] == "not((selected(., 'none')) and count-selected(.) > 1)"
    assert rows["q_hr2"][8] == "“None of these” cannot be chosen with another answer."
