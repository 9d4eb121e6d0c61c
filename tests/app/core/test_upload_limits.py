"""Uploads past the limits are refused before any of them is read: a body over MAX_CONTENT_LENGTH, and a
multipart request of thousands of parts (Flask's form-parts limit), each with the translated 413 page, and
nothing stored."""

import io
import time

from sqlalchemy import func, select

from survey_app.core.extensions import db
from survey_app.scoring.models import SelfAssessment
from tests.conftest import csrf_token


def test_a_file_over_the_size_limit_gets_a_translated_413(app, survey, client, create_user, login):
    from survey_app.rounds import operations as rounds
    from survey_app.units import operations as units

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    rounds.create_round("limits-2023", 2023, "Thử", "Test", survey.framework, unit_list, actor=None)
    db.session.commit()
    login(create_user("scoring_officer"))
    token = csrf_token(client, "/scoring/limits-2023")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    big = b"unit,criterion,value\n" + b"01,AW.1,1\n" * 20000
    response = client.post(
        "/scoring/limits-2023/self-assessment",
        content_type="multipart/form-data",
        data={"self-csrf_token": token, "self-file": (io.BytesIO(big), "big.csv")},
    )
    assert response.status_code == 413
    assert "Tệp quá lớn" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SelfAssessment.id))) == 0


def test_thousands_of_form_parts_are_refused_quickly(client):
    boundary = "xyz"
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="f{n}"\r\n\r\nv\r\n' for n in range(5000))
    body = (parts + f"--{boundary}--\r\n").encode()
    started = time.perf_counter()
    response = client.post("/login", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413 and time.perf_counter() - started < 2


def _workbook_of(rows: int, *, padding: int = 0) -> bytes:
    """A real one-sheet .xlsx (written by openpyxl) whose sheet is replaced by ``rows`` rows, and an extra
    entry of ``padding`` zero bytes: a few hundred KB that expand far beyond that."""
    import zipfile

    from openpyxl import Workbook

    book = io.BytesIO()
    Workbook().save(book)
    source = zipfile.ZipFile(io.BytesIO(book.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                head, _, tail = data.partition(b"<sheetData/>")
                body = b"".join(
                    b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>01</t></is></c></row>' % (n, n)
                    for n in range(1, rows + 1)
                )
                data = head + b"<sheetData>" + body + b"</sheetData>" + tail
            target.writestr(entry, data)
        if padding:
            target.writestr("xl/media/padding.bin", b"\0" * padding)
    return out.getvalue()


def _scoring_round(survey):
    from survey_app.rounds import operations as rounds
    from survey_app.units import operations as units

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    rounds.create_round("limits-2023", 2023, "Thử", "Test", survey.framework, unit_list, actor=None)
    db.session.commit()


def test_a_spreadsheet_that_expands_past_the_limits_is_refused_before_it_is_parsed(
    app, survey, client, create_user, login
):
    _scoring_round(survey)
    login(create_user("scoring_officer"))
    app.config.update(MAX_UPLOAD_ROWS=50_000, MAX_UNCOMPRESSED_MB=20)
    many_rows = _workbook_of(60_000)
    expanding = _workbook_of(10, padding=30 * 1024 * 1024)
    assert len(many_rows) < 400_000 and len(expanding) < 100_000
    for data, problem in ((many_rows, "nhiều hơn 50.000 dòng"), (expanding, "hơn 20 MB")):
        token = csrf_token(client, "/scoring/limits-2023")
        started = time.perf_counter()
        response = client.post(
            "/scoring/limits-2023/self-assessment",
            content_type="multipart/form-data",
            data={"self-csrf_token": token, "self-file": (io.BytesIO(data), "bomb.xlsx")},
        )
        assert response.status_code == 413 and problem in response.get_data(as_text=True)
        assert time.perf_counter() - started < 3
        assert db.session.scalar(select(func.count(SelfAssessment.id))) == 0


def test_a_csv_with_too_many_rows_is_refused_and_one_within_the_limit_is_read(app, survey, client, create_user, login):
    _scoring_round(survey)
    login(create_user("scoring_officer"))
    app.config["MAX_UPLOAD_ROWS"] = 1000
    token = csrf_token(client, "/scoring/limits-2023")
    lines = b"unit,criterion,value\n" + b"01,AW.1,1\n" * 1001
    refused = client.post(
        "/scoring/limits-2023/self-assessment",
        content_type="multipart/form-data",
        data={"self-csrf_token": token, "self-file": (io.BytesIO(lines), "rows.csv")},
    )
    assert refused.status_code == 413 and "1.000" in refused.get_data(as_text=True)
    read = client.post(
        "/scoring/limits-2023/self-assessment",
        content_type="multipart/form-data",
        data={"self-csrf_token": token, "self-file": (io.BytesIO(lines[:-10]), "rows.csv")},
    )
    assert read.status_code != 413


def test_a_workbook_within_the_limits_is_measured_exactly():
    from survey_app.core.uploads import workbook_excess

    data = _workbook_of(1000)
    assert workbook_excess(io.BytesIO(data), max_bytes=10**8, max_rows=1000) is None
    assert workbook_excess(io.BytesIO(data), max_bytes=10**8, max_rows=999) == ("rows", 1000)
    assert workbook_excess(io.BytesIO(b"not a zip"), max_bytes=1, max_rows=1) is None


def test_a_method_not_allowed_says_which_are(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
