"""Whole responses: snapshots, checks with relevance, quality flags, ODK/Kobo imports and data-file exports."""

import csv
import io
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from openpyxl import load_workbook

from questionnaires import RespondentGroup, read_yaml
from questionnaires.bank_files import document_hash, questionnaire_from_dict, questionnaire_to_dict, read_bank
from questionnaires.collected import read_collected_csv, to_odk_csv
from questionnaires.exports import response_table, to_csv, to_spss, to_stata, to_xlsx
from questionnaires.questions import AnswerProblem, QuestionType, generate
from questionnaires.responses import QualityFlag, check_answers, median_duration, quality_flags, stratum_of

DEMO = Path(__file__).resolve().parents[2] / "survey_app" / "core" / "demo"
FRAMEWORK = read_yaml(DEMO / "national-province-2021-demo.yaml")
BANK = read_bank(DEMO / "question-bank.yaml")
CITIZENS = generate(FRAMEWORK, BANK.questions, RespondentGroup.CITIZENS, BANK.background)
COMPLETE = {
    "q_aw3": "yes",
    "q_infra2": "no",
    "q_hr2": ["email", "payment"],
    "q_dg3": "yes",
    "q_dg4": "4",
    "q_ds1": "yes",
    "q_ds2": "no",
    "attention": "agree",
    "urban": "rural",
    "sex": "female",
    "age": "25-34",
}


def test_snapshot_document_round_trip():
    document = questionnaire_to_dict(CITIZENS)
    assert questionnaire_from_dict(document) == CITIZENS
    assert document_hash(document) == document_hash(questionnaire_to_dict(questionnaire_from_dict(document)))


def test_complete_answers_pass_and_keep_their_stored_form():
    checked = check_answers(CITIZENS, COMPLETE | {"q_hr2": ["payment", "email"], "unknown": "x"})
    assert checked.valid
    assert checked.answers == COMPLETE


def test_the_unit_question_is_answered_by_the_unit_not_by_what_was_typed():
    [unit] = [q for q in CITIZENS.questions() if q.type is QuestionType.UNIT]
    assert unit.code == "province" and not unit.choices
    checked = check_answers(CITIZENS, COMPLETE | {"province": "Hà Giang"})
    assert checked.valid and checked.answers == COMPLETE


def test_none_of_these_excludes_every_other_choice():
    assert check_answers(CITIZENS, COMPLETE | {"q_hr2": ["none"]}).valid
    checked = check_answers(CITIZENS, COMPLETE | {"q_hr2": ["email", "none"]})
    assert checked.problems == {"q_hr2": AnswerProblem.EXCLUSIVE_CHOICE} and "q_hr2" not in checked.answers
    assert check_answers(CITIZENS, COMPLETE | {"q_hr2": ["none", "none"]}).valid


def test_an_irrelevant_answer_is_dropped_and_not_required():
    answers = COMPLETE | {"q_dg3": "no"}
    checked = check_answers(CITIZENS, answers)
    assert checked.valid and "q_dg4" not in checked.answers
    del answers["q_dg4"]
    assert check_answers(CITIZENS, answers).valid


def test_problems_name_each_question():
    checked = check_answers(CITIZENS, COMPLETE | {"q_aw3": "perhaps", "age": ""})
    assert checked.problems == {"q_aw3": AnswerProblem.NOT_A_CHOICE, "age": AnswerProblem.REQUIRED}


def test_a_draft_may_leave_required_questions_open_but_not_give_wrong_answers():
    section = CITIZENS.sections[0].questions
    assert check_answers(CITIZENS, {}, questions=section, complete=False).valid
    assert not check_answers(CITIZENS, {"q_aw3": "x"}, questions=section, complete=False).valid


def test_stratum():
    assert stratum_of(COMPLETE, ["urban", "sex", "age"]) == ("rural", "female", "25-34")
    assert stratum_of({"urban": "rural"}, ["urban", "sex"]) is None


def test_quality_flags():
    assert quality_flags(CITIZENS, COMPLETE, 300, 400) == []
    assert quality_flags(CITIZENS, COMPLETE, 199, 400) == [QualityFlag.SPEEDING]
    assert quality_flags(CITIZENS, COMPLETE | {"attention": "disagree"}, 400, 400) == [QualityFlag.ATTENTION]
    assert median_duration([10, None, 30, 20]) == 20
    assert median_duration([None]) is None


def test_straight_lining_needs_three_identical_scale_answers():
    from dataclasses import replace

    from questionnaires.questions import Questionnaire, Section

    likert = next(q for q in BANK.questions if q.code == "q_dg4")
    scales = tuple(replace(likert, code=f"s{i}", relevance=None) for i in range(3))
    questionnaire = Questionnaire("x", 2023, 1, RespondentGroup.CITIZENS, (Section("s", likert.text, scales),))
    assert quality_flags(questionnaire, {"s0": "5", "s1": "5", "s2": "5"}, None, None) == [QualityFlag.STRAIGHT_LINING]
    assert quality_flags(questionnaire, {"s0": "5", "s1": "4", "s2": "5"}, None, None) == []
    assert quality_flags(questionnaire, {"s0": "5", "s1": "5"}, None, None) == []


def test_odk_csv_imports_back_with_the_same_answers():
    second = COMPLETE | {"q_dg3": "no", "q_hr2": ["none"], "sex": "male"}
    second.pop("q_dg4")
    data = to_odk_csv(CITIZENS, [("uuid:1", COMPLETE), ("uuid:2", second)]).encode()
    collected = read_collected_csv(CITIZENS, data)
    assert collected.problem is None and collected.rejected == []
    assert [(r.submission_id, r.answers) for r in collected.responses] == [("uuid:1", COMPLETE), ("uuid:2", second)]


def test_kobo_csv_with_semicolons_slashes_and_choice_columns():
    header = [
        "start",
        "end",
        "section_AW/q_aw3",
        "section_INFRA/q_infra2",
        "section_HR/q_hr2",
        "section_HR/q_hr2/email",
        "section_DG/q_dg3",
        "section_DG/q_dg4",
        "section_DS/q_ds1",
        "section_DS/q_ds2",
        "section_background/attention",
        "section_background/province",
        "section_background/urban",
        "section_background/sex",
        "section_background/age",
        "_uuid",
        "_submission_time",
    ]
    row = [
        "2026-03-01T08:00:00.000+07:00",
        "2026-03-01T08:06:40.000+07:00",
        "yes",
        "no",
        "email payment",
        "1",
        "yes",
        "4",
        "yes",
        "no",
        "agree",
        "Hà Giang",
        "rural",
        "female",
        "25-34",
        "abc-1",
        "2026-03-01T01:07:00",
    ]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([header, row])
    collected = read_collected_csv(CITIZENS, buffer.getvalue().encode())
    assert collected.rejected == []
    [response] = collected.responses
    assert response.submission_id == "abc-1" and response.answers == COMPLETE
    assert response.duration_seconds == 400


def test_bad_rows_are_rejected_with_reasons_and_the_good_ones_kept():
    bad = COMPLETE | {"q_dg4": "9", "sex": ""}
    data = to_odk_csv(CITIZENS, [("uuid:1", COMPLETE), ("uuid:2", bad), ("uuid:1", COMPLETE), ("", COMPLETE)])
    collected = read_collected_csv(CITIZENS, data.encode())
    assert [r.submission_id for r in collected.responses] == ["uuid:1"]
    assert [(r.line, r.reasons) for r in collected.rejected] == [
        (3, [("q_dg4", "not_a_choice"), ("sex", "required")]),
        (4, [("meta-instanceID", "duplicate_identifier")]),
        (5, [("meta-instanceID", "missing_identifier")]),
    ]


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"\xff\xfe\x00", "not_utf8"),
        (b"", "empty_file"),
        (b"a,b\n1,2\n", "no_identifier_column"),
        (b"KEY,x\n1,2\n", "no_question_column"),
    ],
)
def test_files_that_are_not_exports_are_refused(data, problem):
    assert read_collected_csv(CITIZENS, data).problem == problem


RECORDS = [
    {
        "response_id": 1,
        "unit": "HGI",
        "submitted_at": "2026-03-01T01:00:00+00:00",
        "duration_seconds": 300.0,
        "source": "web",
        "flags": [],
        "excluded": False,
        "answers": COMPLETE,
    },
    {
        "response_id": 2,
        "unit": "HGI",
        "submitted_at": "2026-03-01T02:00:00+00:00",
        "duration_seconds": 90.0,
        "source": "web",
        "flags": ["speeding"],
        "excluded": False,
        "answers": COMPLETE | {"comments": "=HYPERLINK(\"http://x\")", "q_hr2": ["none"], "province": "Hà Giang"},
    },
]


def test_table_has_a_column_per_choice_of_a_multiple_choice_question():
    table = response_table(CITIZENS, RECORDS)
    assert list(table.loc[0, ["q_hr2__email", "q_hr2__search", "q_hr2__payment", "q_hr2__none"]]) == [1, 0, 1, 0]
    assert table.loc[1, "flags"] == "speeding"


def test_the_unit_question_column_is_the_response_unit_whatever_was_stored():
    assert list(response_table(CITIZENS, RECORDS)["province"]) == ["HGI", "HGI"]


def test_csv_and_excel_exports_keep_formulas_as_text():
    table = response_table(CITIZENS, RECORDS)
    rows = list(csv.DictReader(io.StringIO(to_csv(table).decode("utf-8-sig"))))
    assert rows[1]["comments"] == "'=HYPERLINK(\"http://x\")"
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    column = [c.value for c in sheet[1]].index("comments") + 1
    cell = sheet.cell(3, column)
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s"


@pytest.mark.parametrize(
    "write, read, suffix", [(to_spss, pyreadstat.read_sav, ".sav"), (to_stata, pyreadstat.read_dta, ".dta")]
)
def test_spss_and_stata_files_carry_labels(tmp_path, write, read, suffix):
    path = tmp_path / f"responses{suffix}"
    path.write_bytes(write(CITIZENS, response_table(CITIZENS, RECORDS)))
    frame, meta = read(str(path))
    labels = dict(zip(meta.column_names, meta.column_labels))
    # Stata keeps the first 80 bytes of a label
    assert "Ông/bà có biết đến chương trình chuyển đổi số của tỉnh không?".startswith(labels["q_aw3"])
    assert len(labels["q_aw3"]) > 40
    assert meta.variable_value_labels["q_dg4"][5] == "Rất hài lòng"
    assert meta.variable_value_labels["sex"] == {1: "Nữ", 2: "Nam"}
    assert list(frame["q_dg4"]) == [4, 4]
    assert list(frame["sex"]) == [1, 1]
    assert list(frame["q_hr2__none"]) == [0, 1]
    assert pd.isna(frame["q_dg4"]).sum() == 0
