"""Every parser of user files in the domain packages, fed hostile input (Hypothesis): each either reads the input
or refuses it with its documented error, naming the problem; no other exception escapes.

The service's uploads over HTTP are tested the same way in ``tests/app/core/test_hostile_uploads.py``."""

from __future__ import annotations

import io
import string

import openpyxl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from analysis import check_cyberspace, check_self_assessment
from analysis.inputs import parse_number
from questionnaires import RespondentGroup, read_bank, read_yaml
from questionnaires.collected import read_collected_csv
from questionnaires.framework_files import framework_to_dict, read_workbook, to_workbook
from questionnaires.questions import generate
from questionnaires.validation import FrameworkInvalid
from sampling import SamplingError
from sampling.frames import read_list_frame, read_population_frame
from sampling.nominations import check_nominations
from survey_app.core.demo import demo_bank_path, demo_framework_path
from tests.app.core.test_hostile_uploads import HEADERS, NASTY, _csv, _xlsx, cells, tables

FRAMEWORK = read_yaml(demo_framework_path())
BANK = read_bank(demo_bank_path())
QUESTIONNAIRE = generate(FRAMEWORK, BANK.questions, RespondentGroup.CITIZENS, BANK.background)
UNITS = ["01", "02", "04"]

#: YAML-shaped values: what a hand-edited file may hold in any place
documents = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.sampled_from(NASTY), st.text(max_size=10)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(
                st.sampled_from(
                    [
                        "code",
                        "type",
                        "groups",
                        "text",
                        "vi",
                        "en",
                        "choices",
                        "value",
                        "label",
                        "questions",
                        "background",
                        "criterion",
                        "relevance",
                        "values",
                        "question",
                        "minimum",
                        "maximum",
                        "children",
                        "points",
                        "method",
                        "year",
                        "level",
                        "name",
                        "nodes",
                        "channels",
                    ]
                ),
                st.text(max_size=6),
            ),
            inner,
            max_size=6,
        ),
    ),
    max_leaves=25,
)
rows = st.lists(
    st.dictionaries(st.sampled_from(HEADERS + ["unit", "criterion", "node", "value"]), cells, max_size=8), max_size=10
)


def _mutated(document: dict, path: list, value):
    """``document`` with the value at ``path`` (keys and indexes, as far as they go) replaced."""
    node = document
    for step in path[:-1]:
        if isinstance(node, dict) and node:
            node = node[list(node)[step % len(node)]]
        elif isinstance(node, list) and node:
            node = node[step % len(node)]
    if isinstance(node, dict) and node:
        node[list(node)[path[-1] % len(node)]] = value
    elif isinstance(node, list) and node:
        node[path[-1] % len(node)] = value
    return document


def _read_or_refuse(read, text: str) -> None:
    """``read(text)`` either returns or raises FrameworkInvalid with at least one issue."""
    try:
        read(text)
    except FrameworkInvalid as error:
        assert error.issues


@given(document=documents)
def test_a_bank_is_read_or_refused_with_its_problems(document):
    _read_or_refuse(read_bank, yaml.safe_dump(document, allow_unicode=True))


@given(path=st.lists(st.integers(0, 50), min_size=1, max_size=6), value=documents)
def test_a_damaged_real_bank_is_read_or_refused_with_its_problems(path, value):
    document = _mutated(yaml.safe_load(demo_bank_path().read_text()), path, value)
    _read_or_refuse(read_bank, yaml.safe_dump(document, allow_unicode=True))


@given(path=st.lists(st.integers(0, 50), min_size=1, max_size=7), value=documents)
def test_a_damaged_real_framework_is_read_or_refused_with_its_problems(path, value):
    document = _mutated(framework_to_dict(FRAMEWORK), path, value)
    _read_or_refuse(read_yaml, yaml.safe_dump(document, allow_unicode=True))


@given(text=st.text(max_size=300))
def test_any_text_as_a_framework_or_a_bank_is_read_or_refused(text):
    for read in (read_yaml, read_bank):
        _read_or_refuse(read, text)


def test_yaml_aliases_are_refused_before_they_expand():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
    )
    for read in (read_yaml, read_bank):
        with pytest.raises(FrameworkInvalid) as refused:
            read(bomb)
        assert "aliases" in str(refused.value.issues[0].params["value"])


@settings(max_examples=60)  # a workbook takes long to write
@given(
    sheet=st.sampled_from(["framework", "nodes", "pillar_views"]),
    row=st.integers(1, 12),
    column=st.integers(1, 12),
    value=cells,
)
def test_a_damaged_framework_workbook_is_read_or_refused(sheet, row, column, value):
    book = openpyxl.load_workbook(io.BytesIO(to_workbook(FRAMEWORK)))
    target = book[sheet] if sheet in book.sheetnames else book.worksheets[0]
    target.cell(row=row, column=column, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    out = io.BytesIO()
    book.save(out)
    try:
        read_workbook(out.getvalue())
    except FrameworkInvalid as error:
        assert error.issues


@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.builds(lambda t: _xlsx(t), tables),
        st.builds(lambda d: b"PK\x03\x04" + d, st.binary(max_size=200)),
    )
)
def test_any_bytes_as_a_framework_workbook_are_refused_with_a_problem(data):
    with pytest.raises(FrameworkInvalid):
        read_workbook(data)


@given(
    table=tables, name=st.sampled_from(["f.csv", "f.xlsx"]), binary=st.binary(max_size=200), use_binary=st.booleans()
)
def test_frames_are_read_or_refused_naming_the_problem(table, name, binary, use_binary):
    data = binary if use_binary else (_xlsx(table) if name.endswith("xlsx") else _csv(table))
    for read in (
        lambda: read_population_frame(data, ["province", "urban"], "population", name=name),
        lambda: read_list_frame(data, ["province"], size="population", name=name),
    ):
        try:
            read()
        except SamplingError as error:
            assert error.code


@given(rows=rows, unit=st.sampled_from([None, "01", "99"]))
def test_nominations_are_checked_row_by_row(rows, unit):
    checked = check_nominations(rows, UNITS, unit=unit)
    for problem in checked.rejected:
        assert problem.code and problem.line >= 2


@given(rows=rows, unit=st.sampled_from([None, "01", "99"]))
def test_self_assessment_and_cyberspace_rows_are_checked_row_by_row(rows, unit):
    for checked in (check_self_assessment(rows, FRAMEWORK, UNITS, unit=unit), check_cyberspace(rows, FRAMEWORK, UNITS)):
        for problem in checked.rejected:
            assert problem.code
        for row in checked.valid:
            assert row.unit in UNITS


@given(
    text=st.one_of(
        st.sampled_from(NASTY), st.text(max_size=30), st.text(alphabet=string.digits + ".,%-+e ", max_size=20)
    )
)
def test_numbers_are_parsed_or_refused(text):
    value = parse_number(text)
    assert value is None or value == value  # never NaN


@given(table=tables, binary=st.binary(max_size=300), use_binary=st.booleans())
def test_collected_csv_files_are_read_or_refused(table, binary, use_binary):
    header, body = table
    data = binary if use_binary else _csv((header + ["KEY", "unit", "q_aw3"], body))
    result = read_collected_csv(QUESTIONNAIRE, data)
    if result.problem is None:
        for problem in result.rejected:
            assert problem.reasons and all(code for _, code in problem.reasons)


@settings(max_examples=40)  # pyxform takes a while per form
@given(label=st.one_of(st.sampled_from(NASTY), st.text(max_size=40)), position=st.integers(0, 200))
def test_any_label_a_bank_accepts_gives_an_xlsform_that_compiles(label, position):
    """A bank's texts go into the XLSForm for ODK as typed: whatever a bank the reader accepts holds (markup,
    ${...}, formulas, any script), the form compiles."""
    from pyxform.xls2xform import convert

    from questionnaires.xlsform import form_id, to_xlsform

    document = yaml.safe_load(demo_bank_path().read_text())
    question = document["questions"][position % len(document["questions"])]
    question["text"] = {"vi": label, "en": label}
    try:
        bank = read_bank(yaml.safe_dump(document, allow_unicode=True))
    except FrameworkInvalid as refused:
        assert refused.issues
        return
    questionnaire = generate(FRAMEWORK, bank.questions, RespondentGroup.CITIZENS, bank.background)
    convert(xlsform=io.BytesIO(to_xlsform(questionnaire)), file_type=".xlsx", form_name=form_id(questionnaire))
