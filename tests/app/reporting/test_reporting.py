"""A unit reports for itself: its values checked by each criterion's method, drafts kept as typed, the workflow
submit → return → submit → approve → sign off (with a second-factor code) and reopening, each step audited; the
signed-off values become the unit's self-assessment."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pyotp
import pytest
from sqlalchemy import func, select

from survey_app.audit.models import AuditEvent
from survey_app.core.extensions import db
from survey_app.core.stored_files import StoredFile
from survey_app.reporting.models import ReportDocument, ReportEntry, ReportStatus, UnitReport
from survey_app.scoring.models import EvidenceDocument, SelfAssessment
from tests.conftest import PASSWORD, csrf_token, pdf_document

ROLES = ("reporter", "approver", "overseer", "signatory")
#: the demo framework's self-reported criteria, each with a valid value and evidence
VALUES = {
    "AW.1": "có",
    "AW.2": "không",
    "INST.1": "2",
    "INST.2": "1",
    "INFRA.1": "85%",
    "INFRA.3": "yes",
    "HR.1": "85,5",
    "SEC.1": "100",
    "SEC.2": "1",
    "DG.1": "50",
    "DG.2": "40",
    "DG.5": "30",
    "DE.3": "10",
    "DS.3": "0",
}
#: the points by hand, on the demo's points (90% of the main index's: the experts' ".E" has the other 10%):
#: yes 27, no 0, 2 reaches the step "≥2: 27", 1/1 of 54, 85/100 of 36 = 30.6, yes 27, 85.5/100 of 45 = 38.475,
#: 100/100 of 54, yes 36, 50/100 of 45 = 22.5, 40/80 of 36 = 18, 30 reaches "≥30: 18", 10/20 of 54 = 27, 0
POINTS = {
    "AW.1": 27,
    "AW.2": 0,
    "INST.1": 27,
    "INST.2": 54,
    "INFRA.1": 30.6,
    "INFRA.3": 27,
    "HR.1": 38.475,
    "SEC.1": 54,
    "SEC.2": 36,
    "DG.1": 22.5,
    "DG.2": 18,
    "DG.5": 18,
    "DE.3": 27,
    "DS.3": 0,
}


@pytest.fixture
def place(app):
    """A 2023 province round on the demo framework; Hà Nội (01) and Hà Giang (02) each with four accounts,
    passwords set; Hà Nội's signatory with a second factor. Returns a namespace with ``accounts[unit][role]``."""
    from questionnaires import read_yaml
    from survey_app.accounts import operations as accounts
    from survey_app.accounts import unit_accounts
    from survey_app.core.demo import demo_framework_path
    from survey_app.frameworks import operations as frameworks
    from survey_app.rounds import operations as rounds
    from survey_app.units import operations as units

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    framework, _ = frameworks.store_framework(read_yaml(demo_framework_path()))
    evaluation = rounds.create_round("r2023", 2023, "Vòng 2023", "Round 2023", framework, unit_list, actor=None)
    made = {}
    for code in ("01", "02"):
        unit = next(u for u in unit_list.units if u.code == code)
        made[code] = {}
        for role in ROLES:
            user, _ = unit_accounts.create_unit_account(unit, f"{role}.{code}@unit.gov.vn", role, role, actor=None)
            accounts.set_password(user, PASSWORD, actor=None)
            made[code][role] = user
    secret = pyotp.random_base32()
    made["01"]["signatory"].totp_secret = secret
    db.session.commit()
    return SimpleNamespace(round=evaluation, accounts=made, secret=secret, path="/reporting/r2023/2023/01")


def log_in(client, user, *, secret=None):
    answer = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    )
    assert answer.status_code == 302
    if secret is not None:
        assert answer.headers["Location"] == "/login/code"
        answer = client.post(
            "/login/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(client, "/login/code")}
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer


def post(client, path, data=None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/reporting/"), **(data or {})}, **kwargs)


def typed(values: dict[str, str], explanation: str = "") -> dict[str, str]:
    data = {f"value-{code}": value for code, value in values.items()}
    data.update({f"evidence-{code}": f"QĐ {n}/QĐ-UBND" for n, code in enumerate(values)})
    if explanation:
        data.update({f"explanation-{code}": explanation for code in values})
    return data


def officer_download(app, document_id: int) -> bytes:
    """An evidence document's bytes as a scoring officer downloads them."""
    from survey_app.accounts import operations as accounts

    officer = accounts.create_user("tai-ve@example.gov.vn", "Cán bộ", "scoring_officer", PASSWORD)
    db.session.commit()
    browser = app.test_client()
    log_in(browser, officer)
    answer = browser.get(f"/scoring/evidence/{document_id}")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    return answer.data


def report(code="01") -> UnitReport | None:
    db.session.expire_all()
    return db.session.scalar(select(UnitReport).join(UnitReport.unit).where(UnitReport.unit.has(code=code)))


def test_a_login_sends_a_unit_account_to_its_reporting_and_it_lists_its_rounds(client, place):
    answer = log_in(client, place.accounts["01"]["reporter"])
    assert answer.headers["Location"] == "/reporting/"
    page = client.get("/reporting/").get_data(as_text=True)
    assert "Vòng 2023" in page and place.path in page
    assert "20/01/2024" in page or "20 thg 1, 2024" in page or "2024" in page  # the national default deadline


def test_each_value_is_checked_by_its_method_with_the_message_beside_the_field(app, client, place):
    log_in(client, place.accounts["01"]["reporter"])
    bad = {"AW.1": "maybe", "INST.1": "abc", "INFRA.1": "120", "DG.5": "-3", "HR.1": "85,5"}
    answer = post(client, f"{place.path}/save", typed(bad))
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)

    def message(code):
        found = re.search(rf'<p class="error" id="error-{re.escape(code)}">([^<]*)</p>', page)
        return found.group(1) if found else None

    def expected(code, **params):
        # the page's language (Vietnamese) and its escaping
        from markupsafe import escape

        from survey_app.core.errors import ServiceError
        from survey_app.core.i18n import describe_error

        with app.test_request_context("/"):
            return str(escape(describe_error(ServiceError(code, **params))))

    assert message("AW.1") == expected("value_not_yes_no", value="maybe")
    assert message("INST.1") == expected("value_not_a_number", value="abc")
    # a percentage is between 0 and 100
    assert message("INFRA.1") == expected("value_outside_range", low=0.0, high=100.0)
    assert message("DG.5") == expected("negative_value")
    assert message("HR.1") is None
    # nothing typed is lost: the invalid values are kept as typed, without points; the valid one is scored
    entries = {entry.criterion: entry for entry in report().entries}
    assert entries["AW.1"].value_text == "maybe" and entries["AW.1"].points is None
    assert entries["DG.5"].value_text == "-3" and entries["DG.5"].value is None
    assert entries["HR.1"].value == 85.5 and entries["HR.1"].points == pytest.approx(38.475)
    assert 'value="maybe"' in page
    # the page shown again later still says what is wrong beside the value
    again = client.get(place.path).get_data(as_text=True)
    assert f'<p class="error" id="error-AW.1">{expected("value_not_yes_no", value="maybe")}</p>' in again


def test_the_points_of_every_method_are_computed_on_save(client, place):
    log_in(client, place.accounts["01"]["reporter"])
    assert post(client, f"{place.path}/save", typed(VALUES)).status_code == 302
    points = {entry.criterion: entry.points for entry in report().entries}
    assert points == pytest.approx(POINTS)
    assert report().status == ReportStatus.DRAFT


def _signatory_client(app, place):
    client = app.test_client()
    log_in(client, place.accounts["01"]["signatory"], secret=place.secret)
    return client


def test_the_whole_workflow_ends_in_the_units_self_assessment(app, client, place):
    reporter = place.accounts["01"]["reporter"]
    log_in(client, reporter)
    # an incomplete report cannot be sent
    assert post(client, f"{place.path}/save", typed({"AW.1": "có"})).status_code == 302
    assert post(client, f"{place.path}/submit").status_code == 409
    assert report().status == ReportStatus.DRAFT
    # one value without evidence but with an explanation, and a PDF for another
    values = typed(VALUES)
    values["evidence-AW.2"], values["explanation-AW.2"] = "", "Chưa ban hành kế hoạch năm 2023."
    assert post(client, f"{place.path}/save", values).status_code == 302
    document = pdf_document()
    upload = post(
        client,
        f"{place.path}/documents",
        {"criterion": "AW.1", "document": (io.BytesIO(document), "qd.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    not_pdf = post(
        client,
        f"{place.path}/documents",
        {"criterion": "AW.1", "document": (io.BytesIO(b"<html>x</html>"), "fake.pdf")},
        content_type="multipart/form-data",
    )
    assert not_pdf.status_code == 400
    assert post(client, f"{place.path}/submit").status_code == 302
    assert report().status == ReportStatus.SUBMITTED
    # the reporter can no longer change it
    assert post(client, f"{place.path}/save", typed({"AW.1": "không"})).status_code == 409

    approver = app.test_client()
    log_in(approver, place.accounts["01"]["approver"])
    assert post(approver, f"{place.path}/return", {"comment": "  "}).status_code == 409
    assert post(approver, f"{place.path}/return", {"comment": "DG.2 phải là 45"}).status_code == 302
    assert report().status == ReportStatus.RETURNED and report().return_comment == "DG.2 phải là 45"
    assert "DG.2 phải là 45" in client.get(place.path).get_data(as_text=True)

    assert post(client, f"{place.path}/save", {"value-DG.2": "45"}, follow_redirects=False).status_code == 302
    assert post(client, f"{place.path}/submit").status_code == 302
    assert post(approver, f"{place.path}/approve").status_code == 302
    assert report().status == ReportStatus.APPROVED

    # a signatory whose session has no verified code is refused; with one, the sign-off lands
    unverified = app.test_client()
    signatory = place.accounts["01"]["signatory"]
    signatory.totp_secret, secret = None, signatory.totp_secret
    db.session.commit()
    log_in(unverified, signatory)
    refused = post(unverified, f"{place.path}/sign-off")
    assert refused.status_code == 409 and report().status == ReportStatus.APPROVED
    signatory = db.session.merge(signatory)
    signatory.totp_secret = secret
    db.session.commit()
    signer = _signatory_client(app, place)
    assert post(signer, f"{place.path}/sign-off").status_code == 302
    assert report().status == ReportStatus.SIGNED_OFF

    stored = {row.criterion: row for row in db.session.scalars(select(SelfAssessment))}
    # DG.2 corrected to 45: 45/80 of 36 = 20.25
    assert {code: row.points for code, row in stored.items()} == pytest.approx({**POINTS, "DG.2": 20.25})
    assert stored["AW.2"].explanation == "Chưa ban hành kế hoạch năm 2023." and stored["INST.1"].value == 2
    assert db.session.scalar(select(func.count(EvidenceDocument.id))) == 1
    # the signed-off evidence names the report's document's bytes, kept once in the database; both download
    # as uploaded
    uploaded = db.session.scalar(select(ReportDocument))
    signed_off = db.session.scalar(select(EvidenceDocument))
    assert signed_off.file_id == uploaded.file_id and db.session.scalar(select(func.count(StoredFile.id))) == 1
    assert client.get(f"{place.path}/documents/{uploaded.id}").data == document
    assert officer_download(app, signed_off.id) == document
    # locked: neither the reporter nor the approver changes it
    assert post(client, f"{place.path}/save", typed({"AW.1": "không"})).status_code == 409
    assert post(approver, f"{place.path}/return", {"comment": "x"}).status_code == 409

    # only an appraiser reopens it, with a reason
    officer = app.test_client()
    from survey_app.accounts import operations as accounts

    appraiser = accounts.create_user("chamdiem@example.gov.vn", "Cán bộ", "scoring_officer", PASSWORD)
    db.session.commit()
    log_in(officer, appraiser)
    assert post(approver, f"{place.path}/reopen", {"reason": "x"}).status_code == 403
    assert post(officer, f"{place.path}/reopen", {"reason": ""}).status_code == 409
    assert post(officer, f"{place.path}/reopen", {"reason": "Số liệu DG.2 chưa khớp"}).status_code == 302
    assert report().status == ReportStatus.RETURNED and report().reopen_reason == "Số liệu DG.2 chưa khớp"

    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("reporting.%"))))
    for step in ("save", "document", "submit", "return", "approve", "sign_off", "reopen"):
        assert f"reporting.{step}" in actions, step


def test_a_unit_account_is_refused_another_units_pages_and_files(app, client, place):
    from survey_app.reporting import operations as reporting

    # Hà Giang's report with a document
    other = app.test_client()
    log_in(other, place.accounts["02"]["reporter"])
    other_path = "/reporting/r2023/2023/02"
    assert post(other, f"{other_path}/save", typed({"AW.1": "có"})).status_code == 302
    post(
        other,
        f"{other_path}/documents",
        {"criterion": "AW.1", "document": (io.BytesIO(pdf_document()), "qd.pdf")},
        content_type="multipart/form-data",
    )
    document_id = db.session.scalar(select(func.max(ReportEntry.id)))
    assert document_id is not None
    for role in ROLES:
        visitor = app.test_client()
        log_in(visitor, place.accounts["01"][role], secret=place.secret if role == "signatory" else None)
        assert visitor.get(other_path).status_code == 403, role
        assert visitor.get(f"{other_path}/documents/1").status_code == 403, role
        for step in ("save", "submit", "approve", "return", "sign-off", "documents"):
            assert post(visitor, f"{other_path}/{step}", typed({"AW.1": "không"})).status_code == 403, (role, step)
        unit_02 = place.accounts["02"]["reporter"].unit_id
        assert visitor.get(f"/unit-accounts/{unit_02}").status_code == 403, role
        # and no staff page
        for staff_page in ("/dashboard", "/scoring/", "/users/", "/unit-accounts/", "/reporting/r2023/status"):
            assert visitor.get(staff_page).status_code == 403, (role, staff_page)
        assert visitor.get(place.path).status_code == 200, role
    entries = {entry.criterion: entry.value_text for entry in report("02").entries}
    assert entries == {"AW.1": "có"}
    assert reporting.status_of(report("02")) is ReportStatus.DRAFT


def test_officers_see_every_units_status_and_remind_those_not_signed_off(app, client, place, create_user, login):
    reporter = app.test_client()
    log_in(reporter, place.accounts["01"]["reporter"])
    post(reporter, f"{place.path}/save", typed(VALUES))
    post(reporter, f"{place.path}/submit")
    login(create_user("scoring_officer"))
    page = client.get("/reporting/r2023/status").get_data(as_text=True)
    assert place.path in page
    # 63 provinces: Hà Nội submitted, 62 not started
    assert re.search(r"submitted</?[^>]*>?: 1|: 1", page)
    # without SMTP, the list of whom to call: every province but none signed off, with the accounts' e-mails
    answer = post(client, "/reporting/r2023/2023/remind")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    lines = answer.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 1 + 63
    assert any(line.startswith("01,") and "reporter.01@unit.gov.vn" in line for line in lines)


def test_reminders_go_through_the_outbox_when_mail_is_configured(app, client, place, create_user, login):
    from survey_app.core.outbox import OutboxMessage

    app.config["SMTP_HOST"] = "smtp.invalid"
    login(create_user("scoring_officer"))
    answer = post(client, "/reporting/r2023/2023/remind")
    assert answer.status_code == 302
    recipients = set(db.session.scalars(select(OutboxMessage.recipient)))
    # the two units with accounts, four accounts each
    assert recipients == {f"{role}.{code}@unit.gov.vn" for role in ROLES for code in ("01", "02")}


def test_the_script_saves_as_one_types_and_gets_each_values_message(app, client, place):
    log_in(client, place.accounts["01"]["reporter"])
    answer = post(client, f"{place.path}/save", {"value-INST.1": "ba", "value-DG.1": "50"}, headers={"X-Autosave": "1"})
    assert answer.status_code == 400 and answer.is_json
    assert set(answer.get_json()["problems"]) == {"INST.1"}
    entries = {entry.criterion: (entry.value_text, entry.points) for entry in report().entries}
    # 50/100 of DG.1's 45 points; the invalid value kept as typed
    assert entries == {"INST.1": ("ba", None), "DG.1": ("50", 22.5)}
    script = client.get("/reporting/report.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert '<script src="/reporting/report.js" defer></script>' in client.get(place.path).get_data(as_text=True)


@pytest.mark.parametrize(
    ("measure", "method", "typed", "expected"),
    [
        ("%", "ratio", "85%", 85.0),
        ("%", "ratio", "100,0", 100.0),
        ("%", "ratio", "100.5", "value_outside_range"),
        ("value in [0, 1]", "ratio", "85%", 0.85),
        ("value in [0, 1]", "ratio", "1.2", "value_outside_range"),
        ("scale 1-5", "ratio", "0", "value_outside_range"),
        ("number", "thresholds", "12", 12.0),
        ("number", "thresholds", "-1", "negative_value"),
        ("number", "thresholds", "mười", "value_not_a_number"),
        ("yes/no", "yes_no", "Có", 1.0),
        ("yes/no", "yes_no", "không", 0.0),
        ("yes/no", "yes_no", "2", "value_not_yes_no"),
        ("number", "thresholds", "  ", None),
    ],
)
def test_a_value_is_read_by_its_method_and_checked_against_its_unit_of_measure(measure, method, typed, expected):
    from questionnaires import ScoringMethod
    from survey_app.core.errors import ServiceError
    from survey_app.reporting.operations import check_value

    node = SimpleNamespace(measure=measure, scoring=SimpleNamespace(method=ScoringMethod(method)))
    if isinstance(expected, str):
        with pytest.raises(ServiceError) as refused:
            check_value(node, typed)
        assert refused.value.code == expected
    else:
        assert check_value(node, typed) == (pytest.approx(expected) if expected is not None else None)


def test_a_round_whose_results_are_published_takes_no_more_reports(client, place):
    from survey_app.core.types import utcnow

    place.round.published_at = utcnow()
    db.session.commit()
    log_in(client, place.accounts["01"]["reporter"])
    assert post(client, f"{place.path}/save", typed({"AW.1": "có"})).status_code == 409
    assert report() is None


def test_the_daily_timer_reminds_the_units_a_week_and_a_day_before_the_deadline(app, place, runner):
    from datetime import timedelta

    from sqlalchemy import func, select

    from survey_app.core.outbox import OutboxMessage
    from survey_app.reporting import operations as reporting
    from survey_app.reporting import reminders

    period = reporting.periods(place.round)[0]
    # eight accounts in Hà Nội and Hà Giang, none signed off; the other provinces have no account to write to
    assert reminders.remind_due(period.deadline - timedelta(days=3)) == 0
    assert reminders.remind_due(period.deadline - timedelta(days=7)) == 8
    assert reminders.remind_due(period.deadline - timedelta(days=1)) == 8
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 16
    result = runner.invoke(args=["reporting", "remind-due"])
    assert result.exit_code == 0 and "0" in result.output  # today is no reminder day of the 2023 round
