"""Every export format gives back what went in: any answer the questionnaire accepts — text with line
breaks, a bare CR, quotes, commas, formula starts, Vietnamese — is one cell of one row in CSV, Excel, SPSS and
Stata, and reads back as it was stored."""

from __future__ import annotations

import csv
import io
import os
import tempfile

import pyreadstat
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from questionnaires import RespondentGroup
from questionnaires.exports import choice_column, response_table, to_csv, to_spss, to_stata, to_xlsx, unsafe_cell
from questionnaires.questions import Choice, Question, Questionnaire, QuestionType, Section, Text, check_answer

CITIZENS = RespondentGroup.CITIZENS
SINGLE = Question(
    "q_single",
    Text("Một lựa chọn", "One choice"),
    QuestionType.SINGLE,
    (CITIZENS,),
    choices=(Choice("a", Text("A", "A")), Choice("b", Text("B", "B")), Choice("c", Text("C", "C"))),
)
MULTIPLE = Question(
    "q_multi",
    Text("Nhiều lựa chọn", "Several"),
    QuestionType.MULTIPLE,
    (CITIZENS,),
    choices=(
        Choice("x", Text("X", "X")),
        Choice("y", Text("Y", "Y")),
        Choice("none", Text("Không có", "None"), exclusive=True),
    ),
)
NUMBER = Question("q_number", Text("Số", "Number"), QuestionType.NUMBER, (CITIZENS,), minimum=0, maximum=1e6)
TEXT = Question("q_text", Text("Ý kiến", "Comment"), QuestionType.TEXT, (CITIZENS,), required=False)
QUESTIONNAIRE = Questionnaire(
    "demo", 2023, 1, CITIZENS, (Section("s", Text("Phần", "Part"), (SINGLE, MULTIPLE, NUMBER, TEXT)),)
)


#: text as respondents type it, weighted towards what breaks files, in the form the text question stores it
typed_text = (
    st.one_of(
        st.text(alphabet=st.sampled_from(list("ab ,;\"'=+-@\t\r\n\\ệĐưỡ€😀")), min_size=1, max_size=30),
        st.text(min_size=1, max_size=60),
    )
    .map(lambda text: check_answer(TEXT, text))
    .filter(lambda checked: checked[1] is None and checked[0])
)
typed_text = typed_text.map(lambda checked: checked[0])

answers = st.fixed_dictionaries(
    {
        "q_single": st.sampled_from(["a", "b", "c"]),
        "q_multi": st.one_of(st.just(["none"]), st.lists(st.sampled_from(["x", "y"]), min_size=1, unique=True)),
        "q_number": st.one_of(st.integers(0, 10**6), st.floats(0, 1e6, allow_nan=False).map(lambda v: round(v, 6))),
        "q_text": typed_text,
    }
)


def _records(all_answers: list[dict]) -> list[dict]:
    return [
        {
            "response_id": i + 1,
            "unit": "01",
            "submitted_at": "2026-11-30 08:00:00",
            "duration_seconds": 60.0,
            "source": "web",
            "flags": [],
            "excluded": False,
            "answers": answers,
        }
        for i, answers in enumerate(all_answers)
    ]


def _read_back(write, read, table) -> tuple:
    handle, path = tempfile.mkstemp()
    os.close(handle)
    try:
        with open(path, "wb") as file:
            file.write(write(QUESTIONNAIRE, table))
        return read(path)
    finally:
        os.unlink(path)


# every example writes four files: fewer examples than the other property tests, the same strategies
@settings(max_examples=max(settings().max_examples // 4, 10))
@given(st.lists(answers, min_size=1, max_size=6))
def test_every_format_gives_back_every_accepted_answer(all_answers):
    table = response_table(QUESTIONNAIRE, _records(all_answers))
    texts = [a["q_text"] for a in all_answers]

    rows = list(csv.DictReader(io.StringIO(to_csv(table).decode("utf-8-sig"), newline="")))
    assert len(rows) == len(all_answers), "a field split a row"
    for row, given_answers in zip(rows, all_answers):
        assert unsafe_cell(row["q_text"]) == given_answers["q_text"]
        assert row["q_single"] == given_answers["q_single"]
        assert float(row["q_number"]) == given_answers["q_number"]
        for choice in ("x", "y", "none"):
            assert row[choice_column("q_multi", choice)] == str(int(choice in given_answers["q_multi"]))

    sheet = load_workbook(io.BytesIO(to_xlsx(table)), read_only=True).active
    header, *cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert len(cells) == len(all_answers)
    column = header.index("q_text")
    assert [row[column] or "" for row in cells] == texts
    assert [row[header.index("q_number")] for row in cells] == [a["q_number"] for a in all_answers]

    for write, read in ((to_spss, pyreadstat.read_sav), (to_stata, pyreadstat.read_dta)):
        data, meta = _read_back(write, read, table)
        assert len(data) == len(all_answers)
        assert list(data["q_text"]) == texts
        assert list(data["q_number"]) == [float(a["q_number"]) for a in all_answers]
        labels = meta.variable_value_labels["q_single"]
        assert [labels[code] for code in data["q_single"]] == [a["q_single"].upper() for a in all_answers]


def test_a_bare_carriage_return_stays_inside_its_field():
    table = response_table(
        QUESTIONNAIRE,
        _records(
            [
                {"q_single": "a", "q_multi": ["x"], "q_number": 1, "q_text": "first\rsecond"},
                {"q_single": "b", "q_multi": ["none"], "q_number": 2, "q_text": "'quoted"},
            ]
        ),
    )
    exported = to_csv(table).decode("utf-8-sig")
    assert '"first\rsecond"' in exported
    rows = list(csv.reader(io.StringIO(exported, newline="")))
    assert len(rows) == 3 and rows[1][-1] == "first\rsecond" and rows[2][-1] == "''quoted"


def test_typed_text_is_stored_with_lf_line_breaks_and_no_surrounding_space():
    assert check_answer(TEXT, "  one\r\ntwo\rthree\n ") == ("one\ntwo\nthree", None)
