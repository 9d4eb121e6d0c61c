"""Every upload reads its table one way (``questionnaires.tables``): population and list frames, the service's
uploads (quotas, invitations, nominations, self-assessment, cyberspace) and ODK/Kobo exports accept the same
CSV forms and workbooks, compare headers alike, and name a bad row alike (the header is row 1)."""

import csv
import io
import unicodedata

import openpyxl
import pytest

from questionnaires import RespondentGroup, read_bank, read_yaml, to_odk_csv
from questionnaires.collected import read_collected_csv
from questionnaires.questions import generate
from sampling import SamplingError, read_list_frame, read_population_frame
from sampling.nominations import check_nominations
from survey_app.core.demo import demo_bank_path, demo_framework_path
from survey_app.core.errors import ServiceError
from survey_app.survey import operations as collection
from tests.conftest import CITIZEN_ANSWERS

FRAME = [
    ["province", "urban", "population"],
    ["01", "urban", "4000300"],
    ["01", "rural", "4093600"],
    ["02", "urban", "137200"],
]
FORMS = ["comma", "semicolon", "semicolon with a byte-order mark", "Excel"]


def _file(rows: list[list[str]], form: str) -> tuple[bytes, str]:
    """The rows as a user's file: CSV as Excel saves it in either separator (``;`` where the decimal mark is a
    comma), or a workbook."""
    if form == "Excel":
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), "table.xlsx"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="," if form == "comma" else ";").writerows(rows)
    return ("\ufeff" if "mark" in form else "").encode() + buffer.getvalue().encode(), "table.csv"


@pytest.mark.parametrize("form", FORMS)
def test_a_population_frame_reads_alike_in_every_form(form):
    data, name = _file(FRAME, form)
    frame = read_population_frame(data, ["province", "urban"], name=name)
    assert frame.to_dict() == {("01", "urban"): 4000300, ("01", "rural"): 4093600, ("02", "urban"): 137200}
    listed = read_list_frame(data, ["province"], size="population", name=name)
    assert listed["province"].tolist() == ["01", "01", "02"]


@pytest.mark.parametrize("form", FORMS)
def test_an_uploaded_list_reads_alike_in_every_form(form):
    data, name = _file(
        [
            ["Unit", "Name", "Category", "Email"],
            ["01", "Nguyễn Văn A", "retired_leader", "a@x.vn"],
            ["01", "Trần Thị B", "business_leader", "b@x.vn"],
        ],
        form,
    )
    assert collection.read_rows(data, name) == [
        {"unit": "01", "name": "Nguyễn Văn A", "category": "retired_leader", "email": "a@x.vn"},
        {"unit": "01", "name": "Trần Thị B", "category": "business_leader", "email": "b@x.vn"},
    ]


@pytest.mark.parametrize("form", FORMS[:3])
def test_an_odk_export_reads_alike_in_every_csv_form(form):
    bank = read_bank(demo_bank_path())
    citizens = generate(read_yaml(demo_framework_path()), bank.questions, RespondentGroup.CITIZENS, bank.background)
    answers = CITIZEN_ANSWERS
    rows = list(csv.reader(io.StringIO(to_odk_csv(citizens, [("uuid:1", answers)]))))
    collected = read_collected_csv(citizens, _file(rows, form)[0])
    assert collected.problem is None and [r.answers for r in collected.responses] == [answers]


def test_frame_headers_are_found_whatever_their_case_and_spacing():
    data = b" Province ;URBAN;Population\n01;urban;5\n02;rural;7\n"
    frame = read_population_frame(data, ["province", "urban"], "population", name="frame.csv")
    assert frame.index.names == ["province", "urban"] and frame.tolist() == [5, 7]


def test_vietnamese_headers_typed_decomposed_are_understood():
    """Some keyboards and Macs write Vietnamese decomposed (a letter, then its marks): the header maps still
    recognise it."""
    header = unicodedata.normalize("NFD", "Họ và tên,Nhóm,Điện thoại\n").encode()
    rows = collection.read_rows(header + "Lê C,retired_leader,0912345678\n".encode(), "list.csv")
    checked = check_nominations(rows, ["01"], unit="01")
    assert checked.rejected == [] and [(row.name, row.phone) for row in checked.valid] == [("Lê C", "0912345678")]


#: (file, the row a spreadsheet shows the problem on, the code); the frame's columns, a CSV with a cell
#: holding a line break on row 2 so that the file's lines and rows differ
BAD_ROWS = [
    (b'province,urban,population\n01,"urban\nnorth",5\n02,urban,7\n03,rural,Nguy\xean\n', 4, "not_utf8"),
    (b"province,urban,population\n01,urban,5\n02,urban,\x00\n", 3, "not_utf8"),
    (b'province,urban,population\n01,"urban\nnorth",5\n02,"urban,7\n', 3, "unreadable_row"),
    (b"province,urban,population\n01,urban,5\n02,urban,85,5\n", 3, "extra_cells"),
]


@pytest.mark.parametrize("data, row, code", BAD_ROWS)
def test_a_bad_row_is_named_by_its_row_by_every_reader(data, row, code):
    with pytest.raises(SamplingError) as frame:
        read_population_frame(data, ["province", "urban"], name="frame.csv")
    with pytest.raises(ServiceError) as upload:
        collection.read_rows(data, "table.csv")
    assert (
        (frame.value.code, frame.value.params["row"]) == (upload.value.code, upload.value.params["row"]) == (code, row)
    )
    collected = read_collected_csv(
        generate(read_yaml(demo_framework_path()), read_bank(demo_bank_path()).questions, RespondentGroup.CITIZENS),
        data,
    )
    assert (collected.problem, collected.details) == (code, upload.value.params)


def test_a_row_below_a_blank_row_is_named_by_its_row():
    data = b"unit,name,category,email\n01,A,retired_leader,a@x.vn\n\n99,B,retired_leader,b@x.vn\n"
    checked = check_nominations(collection.read_rows(data, "list.csv"), ["01"])
    assert [(problem.line, problem.code) for problem in checked.rejected] == [(4, "unknown_unit")]


def test_a_column_named_twice_is_refused_not_read_half():
    data = b"province,urban,population,Population\n01,urban,5,6\n"
    with pytest.raises(SamplingError) as caught:
        read_population_frame(data, ["province", "urban"], name="frame.csv")
    assert (caught.value.code, caught.value.params) == ("duplicate_column", {"column": "Population"})
