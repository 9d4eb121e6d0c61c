"""A national fieldwork's pages and files: counts and the median by the database, flagged responses a page at a
time in a stable order, exports read and written a batch at a time."""

import csv
import io
import statistics

import pyreadstat
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from questionnaires.exports import response_table, to_csv
from survey_app.core.extensions import db
from survey_app.survey import operations as collection
from survey_app.survey.models import Response
from survey_app.survey.operations import exports, review
from tests.conftest import CITIZEN_ANSWERS, csrf_token


def _submit(survey, durations, *, attention_every=0, fieldwork=None):
    fieldwork = fieldwork or survey.invited
    for index, duration in enumerate(durations):
        failed = attention_every and index % attention_every == 0
        collection.submit(
            fieldwork,
            survey.units[index % 3],
            CITIZEN_ANSWERS | ({"attention": "disagree"} if failed else {}),
            f"r{index}",
            source="api",
            duration_seconds=duration,
        )
    db.session.commit()


@pytest.mark.parametrize("durations", [[100, 400, 500], [100, 400, 500, 600], [300, None, 50, 1000, 20]])
def test_the_median_duration_is_the_database_s_and_python_s_alike(survey, durations):
    _submit(survey, durations)
    known = [d for d in durations if d is not None]
    assert collection.median_seconds(survey.invited) == pytest.approx(statistics.median(known))


def test_no_duration_no_median_and_nobody_speeds(survey):
    _submit(survey, [None, None])
    assert collection.median_seconds(survey.invited) is None
    assert collection.flag_rule(survey.invited).threshold is None
    assert sorted(collection.review_flags(survey.invited).values()) == [[], []]


def test_speeding_is_judged_against_the_median_at_review_time(survey):
    _submit(survey, [100, 400, 500, 600])
    flags = collection.review_flags(survey.invited)
    assert sorted(flags.values()) == [[], [], [], ["speeding"]]
    # faster responses since move the median down: the same stored response is no longer speeding
    for index, duration in enumerate([150, 160, 170, 180, 190]):
        collection.submit(
            survey.invited, survey.units[0], CITIZEN_ANSWERS, f"late{index}", source="api", duration_seconds=duration
        )
    db.session.commit()
    assert collection.median_seconds(survey.invited) == 180
    assert sorted(collection.review_flags(survey.invited).values()) == [[]] * 9


def test_the_dashboard_counts_come_from_the_database_per_unit(survey):
    _submit(survey, [100, 400, 500, 600, 700, 800], attention_every=4)
    excluded = db.session.scalar(select(Response).where(Response.submission_id == "r1"))
    collection.set_excluded(excluded, True, "test", actor=None)
    db.session.commit()
    progress = {p.unit.code: p for p in collection.progress(survey.invited)}
    first, second, third = (progress[unit.code] for unit in survey.units)
    # r0 (100 s, attention failed) and r3 in unit 0; r1 (excluded), r4 (attention failed) in unit 1; r2, r5 in 2
    assert (first.completed, first.flagged, first.median_seconds) == (2, 1, 350)
    assert (second.completed, second.flagged, second.excluded, second.median_seconds) == (2, 1, 1, 550)
    assert (third.completed, third.flagged, third.excluded, third.median_seconds) == (2, 0, 0, 650)


def test_flagged_responses_come_a_page_at_a_time_in_the_order_stored(survey):
    _submit(survey, [300] * 7, attention_every=1)
    ids = sorted(db.session.scalars(select(Response.id)))
    pages = [collection.flagged_page(survey.invited, page, size=3) for page in (1, 2, 3)]
    assert [[row.id for row in page.rows] for page in pages] == [ids[:3], ids[3:6], ids[6:]]
    assert {(page.total, page.pages) for page in pages} == {(7, 3)}
    assert pages[0].rows[0].flags == ["attention"] and pages[0].rows[0].unit_name == survey.units[0].name
    # a page past the last shows the last, a page before the first the first
    assert collection.flagged_page(survey.invited, 9, size=3).page == 3
    assert collection.flagged_page(survey.invited, -1, size=3).page == 1


def test_the_review_page_links_its_pages_and_keeps_its_page_after_a_decision(
    client, survey, create_user, login, monkeypatch
):
    monkeypatch.setattr(review, "REVIEW_PAGE_SIZE", 2)
    _submit(survey, [300] * 5, attention_every=1)
    ids = sorted(db.session.scalars(select(Response.id)))
    login(create_user("scoring_officer"))
    page = client.get("/fieldwork/invited/review?page=2").get_data(as_text=True)
    shown = [f'<td class="num">{i}</td>' in page for i in ids]
    assert shown == [False, False, True, True, False]
    assert "/fieldwork/invited/review?page=3" in page and "/fieldwork/invited/review?page=1" in page
    assert client.get("/fieldwork/invited/review?page=x").status_code == 200
    token = csrf_token(client, "/fieldwork/invited/review")
    answer = client.post(
        f"/fieldwork/invited/responses/{ids[2]}/exclusion",
        data={"csrf_token": token, "exclude": "1", "reason": "checked", "page": "2"},
    )
    assert answer.headers["Location"].endswith("/fieldwork/invited/review?page=2")


def test_exports_written_a_batch_at_a_time_are_those_written_at_once(client, survey, create_user, login, monkeypatch):
    _submit(survey, [100, 400, 500, 600, 700], attention_every=3)
    whole = to_csv(response_table(survey.questionnaire.questionnaire, collection.export_records(survey.invited)))
    monkeypatch.setattr(review, "EXPORT_BATCH", 2)
    login(create_user("scoring_officer"))
    answer = client.get("/fieldwork/invited/responses.csv")
    assert answer.is_streamed and answer.status_code == 200
    assert answer.data == whole
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["flags"] for row in rows] == ["speeding attention", "", "", "attention", ""]


def test_spss_and_stata_keep_their_labels_when_written_in_batches(
    client, survey, create_user, login, monkeypatch, tmp_path
):
    _submit(survey, [100, 400, 500, 600, 700])
    monkeypatch.setattr(review, "EXPORT_BATCH", 2)
    login(create_user("scoring_officer"))
    for fmt, read in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        path = tmp_path / f"r.{fmt}"
        path.write_bytes(client.get(f"/fieldwork/invited/responses.{fmt}").data)
        frame, meta = read(str(path))
        assert len(frame) == 5 and meta.variable_value_labels["sex"][1] == "Nữ"
        assert list(frame["duration_seconds"]) == [100, 400, 500, 600, 700]


def test_a_full_excel_sheet_goes_on_to_another(survey, tmp_path, monkeypatch):
    _submit(survey, [100, 400, 500])
    monkeypatch.setattr(review, "EXPORT_BATCH", 2)
    path = tmp_path / "r.xlsx"
    exports.write_xlsx(collection.export_source(survey.invited), str(path), sheet_rows=2)
    book = load_workbook(path)
    assert book.sheetnames == ["responses", "responses 2"]
    first, second = book["responses"], book["responses 2"]
    assert [first.max_row, second.max_row] == [3, 2]
    assert [c.value for c in first[1]] == [c.value for c in second[1]]
    assert [first.cell(row, 1).value for row in (2, 3)] + [second.cell(2, 1).value] == sorted(
        db.session.scalars(select(Response.id))
    )


def test_an_empty_fieldwork_exports_its_header(client, survey, create_user, login):
    login(create_user("scoring_officer"))
    text = client.get("/fieldwork/invited/responses.csv").get_data(as_text=True)
    assert text.lstrip("\ufeff").startswith("response_id,unit,submitted_at")
    assert len(text.strip().splitlines()) == 1
    assert load_workbook(io.BytesIO(client.get("/fieldwork/invited/responses.xlsx").data)).active.max_row == 1
