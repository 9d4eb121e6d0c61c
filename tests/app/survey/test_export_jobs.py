"""National exports: the CSV written by PostgreSQL's COPY is the file the batch path writes; a large export is
a job whose file is kept in the database, in chunks, for the one who asked (and administrators) until it
expires; the SPSS and Stata table is held once, narrow; the dashboard counts speeding from the index."""

import csv
import io
from datetime import datetime, timedelta, timezone

import pandas as pd
import pyreadstat
import pytest
from sqlalchemy import func, select

from survey_app.core.extensions import db
from survey_app.survey import operations as collection
from survey_app.survey.models import ExportFile, ExportFileChunk, Response
from survey_app.survey.operations import export_copy, export_files, exports, review
from tests.conftest import CITIZEN_ANSWERS, PASSWORD, csrf_token

#: free texts that CSV quoting, the formula guard and the line ends must keep as typed
TEXTS = [
    "Hà Nội, quận 1",
    'nói "tốt"',
    "dòng một\r\ndòng hai",
    "chỉ LF\nở giữa",
    "=1+1",
    "-3 điểm",
    "'trích",
    "",
    "@SUM(A1)",
]


def _submit_texts(survey):
    for index, text in enumerate(TEXTS):
        collection.submit(
            survey.invited,
            survey.units[index % 3],
            CITIZEN_ANSWERS | {"comments": text} | ({"attention": "disagree"} if index == 2 else {}),
            f"t{index}",
            source="api",
            duration_seconds=[30.0, 400.5, 500.0, None, 600.0, 700.25, 800.0, 410.0, 420.0][index],
        )
    db.session.commit()
    # one response submitted at a whole second, the others with microseconds (isoformat leaves them out)
    first = db.session.scalar(select(Response).where(Response.submission_id == "t0"))
    first.submitted_at = datetime(2023, 6, 1, 8, 0, 0, tzinfo=timezone.utc)
    first.excluded = True
    db.session.commit()


def _rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8").lstrip("\ufeff"), newline="")))


def test_copy_writes_the_csv_the_batch_path_writes(app, survey):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    _submit_texts(survey)
    source = collection.export_source(survey.invited)
    by_copy = b"".join(export_copy.copy_csv_chunks(source, block=300))  # blocks end mid-row and mid-cell
    by_batches = b"".join(exports.csv_chunks(source))
    assert by_copy == by_batches
    # a job's two COPYs at once, each of half the responses, write the same file
    assert b"".join(export_copy.copy_csv_halves(source, block=300)) == by_copy
    rows = _rows(by_copy)
    assert [row["comments"] for row in rows] == [
        "Hà Nội, quận 1",
        'nói "tốt"',
        "dòng một\ndòng hai",  # a typed CR LF is stored as LF
        "chỉ LF\nở giữa",
        "'=1+1",
        "'-3 điểm",
        "''trích",
        "",
        "'@SUM(A1)",
    ]
    # the median of 30, 400.5, 410, 420, 500, 600, 700.25, 800 is 460: under 460 / 3 is speeding
    assert [row["flags"] for row in rows][:3] == ["speeding", "", "attention"]
    assert rows[0]["submitted_at"] == "2023-06-01T08:00:00+00:00" and rows[0]["excluded"] == "True"
    assert len(rows[1]["submitted_at"]) == len("2023-06-01T08:00:00.123456+00:00")
    assert [row["duration_seconds"] for row in rows][:4] == ["30.0", "400.5", "500.0", ""]
    assert by_copy.count(b"\r\n") == 1 + len(TEXTS) and by_copy.count(b"\n") == 1 + len(TEXTS) + 2


def test_line_ends_get_their_cr_outside_quoted_cells_only():
    block, quoted = export_copy.crlf_rows(b'1,"a\nb"\n2,"open\n', False)
    assert (block, quoted) == (b'1,"a\nb"\r\n2,"open\n', True)
    assert export_copy.crlf_rows(b'still""\nclosed"\n3,c\n', True) == (b'still""\nclosed"\r\n3,c\r\n', False)


def test_a_number_nobody_in_a_batch_answered_stays_a_number_in_the_statistical_files():
    columns = exports.CodedColumns(6)
    columns.add(pd.DataFrame({"income": ["", ""], "comments": ["", ""], "sex": [1.0, 2.0]}), {"sex": {}})
    columns.add(pd.DataFrame({"income": [1.5, float("nan")], "comments": ["a", ""], "sex": [2.0, None]}), {"sex": {}})
    columns.add(pd.DataFrame({"income": ["", ""], "comments": ["", "b"], "sex": [1.0, 1.0]}), {"sex": {}})
    table = columns.table()
    assert table["income"].dtype == "float64" and table["income"].isna().tolist() == [1, 1, 0, 1, 1, 1]
    assert table["income"][2] == 1.5
    assert list(table["comments"]) == ["", "", "a", "", "", "b"]
    # codes are 4-byte floats, exact
    assert table["sex"].dtype == "float32" and table["sex"].tolist()[:3] == [1.0, 2.0, 2.0]


def test_responses_stored_after_counting_still_go_in_the_statistical_table():
    columns = exports.CodedColumns(1)
    columns.add(pd.DataFrame({"id": [1.0, 2.0], "unit": ["a", "b"]}), {})
    columns.add(pd.DataFrame({"id": [3.0], "unit": ["c"]}), {})
    table = columns.table()
    assert table["id"].tolist() == [1.0, 2.0, 3.0] and table["unit"].tolist() == ["a", "b", "c"]


def _large(app, monkeypatch, rows=2):
    monkeypatch.setitem(app.config, "EXPORT_INLINE_MAX_ROWS", rows)


def _ask(client, fmt):
    token = csrf_token(client, "/fieldwork/invited/responses." + fmt)
    return client.post("/fieldwork/invited/exports", data={"csrf_token": token, "fmt": fmt})


def test_a_large_export_is_a_job_whose_file_is_kept_in_chunks(
    app, client, survey, create_user, login, run_jobs, monkeypatch
):
    _submit_texts(survey)
    login(create_user("scoring_officer"))
    inline = client.get("/fieldwork/invited/responses.csv").data
    _large(app, monkeypatch)
    monkeypatch.setattr(export_files, "EXPORT_CHUNK_BYTES", 100)
    page = client.get("/fieldwork/invited/responses.csv")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "/fieldwork/invited/exports" in page.get_data(as_text=True)
    asked = _ask(client, "csv")
    assert asked.status_code == 302 and "/jobs/" in asked.headers["Location"]
    run_jobs()
    job_page = client.get(asked.headers["Location"]).get_data(as_text=True)
    stored = db.session.scalar(select(ExportFile))
    link = f"/fieldwork/invited/exports/{stored.id}"
    assert link in job_page
    chunks = db.session.scalar(select(func.count()).select_from(ExportFileChunk))
    assert (stored.rows, stored.size, chunks) == (len(TEXTS), len(inline), -(-len(inline) // 100))
    download = client.get(link)
    assert download.status_code == 200 and download.data == inline
    assert download.headers["Content-Length"] == str(len(inline))


@pytest.mark.parametrize("fmt, read", [("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)])
def test_a_large_statistical_export_reads_back(
    app, client, survey, create_user, login, run_jobs, monkeypatch, tmp_path, fmt, read
):
    _submit_texts(survey)
    monkeypatch.setattr(review, "EXPORT_BATCH", 4)  # batches of 4, 4 and 1 responses
    login(create_user("scoring_officer"))
    _large(app, monkeypatch)
    _ask(client, fmt)
    run_jobs()
    stored = db.session.scalar(select(ExportFile))
    path = tmp_path / f"r.{fmt}"
    path.write_bytes(client.get(f"/fieldwork/invited/exports/{stored.id}").data)
    frame, meta = read(str(path))
    assert len(frame) == len(TEXTS) and meta.variable_value_labels["sex"][1] == "Nữ"
    assert frame["duration_seconds"].tolist()[:3] == [30.0, 400.5, 500.0] and pd.isna(frame["duration_seconds"][3])
    assert frame["comments"].tolist()[4] == "=1+1"  # statistical files hold text as typed
    # the submission time is a date-time of the package, in UTC
    stored = db.session.scalars(select(Response.submitted_at).order_by(Response.id)).all()
    assert frame["submitted_at"][0] == datetime(2023, 6, 1, 8, 0, 0)
    assert abs(frame["submitted_at"][1] - stored[1].astimezone(timezone.utc).replace(tzinfo=None)) < timedelta(
        milliseconds=1
    )


def test_asked_twice_while_running_the_export_is_one_job(app, client, survey, create_user, login, monkeypatch):
    _submit_texts(survey)
    login(create_user("scoring_officer"))
    _large(app, monkeypatch)
    from survey_app.core import jobs

    queue = jobs.queue()
    monkeypatch.setattr(queue, "send", lambda job_ids: None)  # nobody works: the job stays queued
    first, second = _ask(client, "dta"), _ask(client, "dta")
    assert first.headers["Location"] == second.headers["Location"]
    assert _ask(client, "csv").headers["Location"] != first.headers["Location"]


def _login(client, user):
    answer = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    )
    assert answer.status_code == 302


def test_only_who_asked_and_administrators_get_the_file(app, client, survey, create_user, login, run_jobs, monkeypatch):
    _submit_texts(survey)
    _large(app, monkeypatch)
    login(create_user("scoring_officer"))
    _ask(client, "csv")
    run_jobs()
    file_id = db.session.scalar(select(ExportFile.id))
    link = f"/fieldwork/invited/exports/{file_id}"
    assert client.get(link).status_code == 200
    seen = {}
    for role in ("administrator", "scoring_officer", "sample_designer", "viewer"):
        other = app.test_client()
        _login(other, create_user(role))
        seen[role] = other.get(link).status_code
    # another analyst may export the responses themselves, but this file is not theirs to follow
    assert seen == {"administrator": 200, "scoring_officer": 404, "sample_designer": 404, "viewer": 403}
    assert client.get(f"/fieldwork/open/exports/{file_id}").status_code == 404


def test_expired_files_are_not_sent_and_are_deleted(app, client, survey, create_user, login, run_jobs, monkeypatch):
    _submit_texts(survey)
    _large(app, monkeypatch)
    login(create_user("scoring_officer"))
    _ask(client, "csv")
    run_jobs()
    stored = db.session.scalar(select(ExportFile))
    link = f"/fieldwork/invited/exports/{stored.id}"
    assert stored.expires_at - stored.created_at == timedelta(days=7)
    assert collection.expire_export_files() == 0
    stored.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.session.commit()
    assert client.get(link).status_code == 404
    assert collection.expire_export_files() == 1
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ExportFileChunk)) == 0


def test_an_unknown_format_asks_for_nothing(app, client, survey, create_user, login, monkeypatch):
    _large(app, monkeypatch)
    login(create_user("scoring_officer"))
    token = csrf_token(client, "/fieldwork/invited")
    answer = client.post("/fieldwork/invited/exports", data={"csrf_token": token, "fmt": "exe"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/fieldwork/invited")
    from survey_app.core import jobs

    assert db.session.scalar(select(func.count()).select_from(jobs.Job)) == 0


def test_the_dashboard_counts_a_response_only_speeding_as_flagged(survey):
    # durations 50, 400, 500, 600: median 450, speeding under 150 (the first only, in the first unit)
    for index, duration in enumerate([50, 400, 500, 600]):
        collection.submit(
            survey.invited, survey.units[0], CITIZEN_ANSWERS, f"s{index}", source="api", duration_seconds=duration
        )
    db.session.commit()
    first = collection.progress(survey.invited)[0]
    assert (first.completed, first.flagged, first.median_seconds) == (4, 1, 450)
    assert collection.median_seconds(survey.invited) == 450
