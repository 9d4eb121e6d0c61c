"""Free text with markup or spreadsheet formulas is stored as typed, shown escaped on every page that shows it,
and written so that a spreadsheet opens it as text in every export."""

import csv
import io
import re
from pathlib import Path

import openpyxl
from sqlalchemy import select

from survey_app.core.extensions import db
from survey_app.survey.models import Response
from tests.app.survey.test_respond_web import _answer_all, _quota, _start
from tests.conftest import CITIZEN_ANSWERS, csrf_token, expert_panel

MARKUP = "<script>alert('x')</script><b>Hà Nội</b>"
FORMULA = "=HYPERLINK(\"http://evil.example\",\"Hà Nội\")"
COMMAND = "@SUM(1+1)*cmd|' /C calc'!A0"


def _respond(client, survey, text):
    base, _ = _start(client, survey)
    token = _answer_all(client, base, survey, CITIZEN_ANSWERS | {"comments": text})
    review = client.get(f"{base}/submit").get_data(as_text=True)
    assert "<script>alert" not in review
    if text == MARKUP:
        assert "&lt;script&gt;alert" in review
    submission_id = re.search(r'name="submission_id" value="([^"]+)"', review).group(1)
    assert client.post(f"{base}/submit", data={"csrf_token": token, "submission_id": submission_id}).status_code == 302


def test_typed_markup_and_formulas_are_kept_escaped_and_exported_as_text(app, client, survey, create_user, login):
    _quota(survey, target=10)
    for text in (MARKUP, FORMULA, COMMAND):
        _respond(app.test_client(), survey, text)
    assert sorted(r.answers["comments"] for r in db.session.scalars(select(Response))) == sorted(
        [MARKUP, FORMULA, COMMAND]
    )  # stored as typed

    login(create_user("administrator"))
    staff = client
    exported = staff.get("/fieldwork/open/responses.csv")
    assert exported.status_code == 200
    cells = [row["comments"] for row in csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")))]
    assert sorted(cells) == sorted([MARKUP, "'" + FORMULA, "'" + COMMAND])
    book = openpyxl.load_workbook(io.BytesIO(staff.get("/fieldwork/open/responses.xlsx").data))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    column = header.index("comments") + 1
    written = [sheet.cell(row=row, column=column) for row in range(2, sheet.max_row + 1)]
    assert sorted(cell.value for cell in written) == sorted([MARKUP, FORMULA, COMMAND])
    assert all(cell.data_type == "s" for cell in written)  # text, never a formula


def test_an_experts_comment_with_markup_is_escaped_on_their_copy(survey, client):
    _, panel, tokens = expert_panel(survey.framework)
    db.session.commit()
    location = client.get(f"/e/{next(iter(tokens.values()))}").headers["Location"]
    client.post(f"{location}/consent", data={"csrf_token": csrf_token(client, location)})
    # every item of the demo framework's expert form (one per scored main index) scored, the first commented
    items = [item.code for item in panel.questionnaire.questionnaire.items()]
    answers = {f"score-{code}": "4" for code in items}
    response = client.post(
        f"{location}/submit",
        data={
            "csrf_token": csrf_token(client, location),
            "submission_id": "c1",
            f"comment-{items[0]}": MARKUP,
            **answers,
        },
    )
    assert response.status_code == 302
    for page in (client.get(location), client.get(f"{location}/copy")):
        text = page.get_data(as_text=True)
        assert "<script>alert" not in text and "&lt;script&gt;alert" in text


def test_every_spreadsheet_export_goes_through_the_formula_safe_writer():
    """CSV and Excel leave the service only through questionnaires.exports (to_csv, to_xlsx), which write a
    leading =, +, - or @ as text: no view or service writes them another way."""
    root = Path(__file__).resolve().parents[3] / "survey_app"
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert ".to_excel(" not in source and "csv.writer(" not in source and "DictWriter(" not in source, path
        if path.parent.name != "demo":  # the demo writes its own population file for itself, never to a user
            assert ".to_csv(" not in source, path
        if "text/csv" in source and path.name != "downloads.py":
            assert "to_csv(" in source, path
