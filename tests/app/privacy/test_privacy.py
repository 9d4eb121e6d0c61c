"""Personal data (Decree 13/2023): the register, a person's data found, exported and erased on request with their
answers kept anonymous, and the notice that comes before a survey holding contact data."""

import json
from datetime import date

from sqlalchemy import func, select

from survey_app.audit.models import AuditEvent
from survey_app.core.extensions import db
from survey_app.experts.models import ExpertForm, Nomination, PanelSeat, SeatRole
from survey_app.survey import operations as collection
from survey_app.survey.models import InviteeContact, Response
from tests.conftest import CITIZEN_ANSWERS, csrf_token, expert_panel

PERSON = "retired_leader.0"


def _person_email():
    return f"e.01.{PERSON}@example.vn"


def test_the_register_states_purpose_and_retention_of_each_kind(client, create_user, login):
    login(create_user("administrator"))
    page = client.get("/privacy/").get_data(as_text=True)
    assert "Danh mục dữ liệu cá nhân" in page
    assert "gửi một lời mời khảo sát và lời nhắc" in page and "lập nhóm chuyên gia của đơn vị" in page
    assert "flask privacy erase-expired" in page


def test_a_persons_data_are_exported_and_erased_on_request_and_their_answers_stay(survey, client, create_user, login):
    evaluation, panel, tokens = expert_panel(survey.framework)
    nomination = db.session.scalar(select(Nomination).where(Nomination.email == _person_email()))
    form = db.session.scalar(select(ExpertForm).join(PanelSeat).where(PanelSeat.nomination_id == nomination.id))
    assert form is not None and nomination.seat.role == SeatRole.MEMBER
    form.answers = {"AW.1": {"score": 4}}
    # the same person invited to the citizens' survey, by e-mail and by telephone
    collection.issue_invitations(
        survey.invited,
        [
            {"unit": "01", "name": "Nguyễn A", "email": _person_email().upper()},
            {"unit": "01", "name": "Nguyễn A", "phone": "0912 345 678"},
            {"unit": "01", "name": "Someone else", "email": "other@example.vn"},
        ],
        actor=None,
        erase_after=date(2024, 6, 30),
    )
    collection.submit(survey.invited, survey.units[0], CITIZEN_ANSWERS, "anon-1", source="api")
    db.session.commit()
    login(create_user("administrator"))
    token = csrf_token(client, "/privacy/")

    refused = client.post("/privacy/person", data={"csrf_token": token, "person": "12"})
    assert refused.status_code == 400 and "ít nhất 6 chữ số" in refused.get_data(as_text=True)
    found = client.post("/privacy/person", data={"csrf_token": token, "person": _person_email()})
    page = found.get_data(as_text=True)
    assert found.status_code == 200 and "retired_leader 0" in page and "Nguyễn A" in page
    assert "Someone else" not in page

    exported = client.post("/privacy/person/export", data={"csrf_token": token, "person": _person_email()})
    assert exported.headers["Content-Disposition"] == "attachment; filename=personal-data.json"
    document = json.loads(exported.data)
    assert [c["name"] for c in document["invitee_contacts"]] == ["Nguyễn A"]
    assert document["expert_nominations"][0]["form_answers"] == {"AW.1": {"score": 4}}
    assert document["expert_nominations"][0]["purpose"] == "expert_panel"

    by_phone = client.post("/privacy/person", data={"csrf_token": token, "person": "+84 912-345-678"})
    assert "0912 345 678" in by_phone.get_data(as_text=True)

    no_reason = client.post(
        "/privacy/person/erase", data={"csrf_token": token, "person": _person_email()}, follow_redirects=True
    )
    assert "Hãy nêu lý do." in no_reason.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(InviteeContact)) == 3
    erased = client.post(
        "/privacy/person/erase",
        data={"csrf_token": token, "person": _person_email(), "reason": "Thư yêu cầu ngày 2/11"},
        follow_redirects=True,
    )
    assert "Đã xóa: 1 thông tin liên hệ người được mời, 1 đề cử." in erased.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(InviteeContact)) == 2
    db.session.refresh(nomination)
    db.session.refresh(form)
    assert nomination.name == "—" and nomination.email == "" and nomination.category == "retired_leader"
    assert form.answers == {"AW.1": {"score": 4}}  # the opinion stays, without the name
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    events = {e.action: e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("privacy.%")))}
    assert events["privacy.erase_person"].details["reason"] == "Thư yêu cầu ngày 2/11"
    assert "privacy.export" in events
    # nothing left to find
    again = client.post("/privacy/person", data={"csrf_token": token, "person": _person_email()})
    assert "Hệ thống không lưu liên hệ hay đề cử nào" in again.get_data(as_text=True)


def test_the_expert_reads_the_notice_on_their_data_before_the_form(survey, app, client):
    _, panel, tokens = expert_panel(survey.framework)
    db.session.commit()
    seat_id, token = next(iter(tokens.items()))
    location = client.get(f"/e/{token}").headers["Location"]
    notice = client.get(location).get_data(as_text=True)
    assert "Trước phiếu ý kiến chuyên gia: dữ liệu cá nhân" in notice and "Nghị định 13/2023/NĐ-CP" in notice
    assert 'name="score-AW.E"' not in notice
    early = client.post(
        f"{location}/draft", headers={"X-CSRFToken": csrf_token(client, location)}, data={"score-AW.E": "5"}
    )
    assert early.status_code == 409 and "đồng ý" in early.json["error"]
    assert client.post(f"{location}/consent", data={"csrf_token": csrf_token(client, location)}).status_code == 302
    assert 'name="score-AW.E"' in client.get(location).get_data(as_text=True)
    form = db.session.get(PanelSeat, seat_id).form
    db.session.refresh(form)
    assert form.consented_at is not None and form.answers == {}
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "experts.consent"))
        == 1
    )


def test_an_invitee_with_contact_data_is_told_before_the_survey(survey, client):
    [with_contact] = collection.issue_invitations(
        survey.invited, [{"unit": "01", "email": "a@example.vn"}], actor=None, erase_after=date(2030, 1, 31)
    )
    [without] = collection.issue_invitations(survey.invited, [{"unit": "01"}], actor=None)
    db.session.commit()
    response = client.get(f"/i/{with_contact.token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, response.headers.get("Location")
    assert "Thông tin liên hệ của ông/bà chỉ được dùng để gửi lời mời này" in page and "31 tháng 1, 2030" in page
    assert "Thông tin liên hệ của ông/bà" not in client.get(f"/i/{without.token}").get_data(as_text=True)
