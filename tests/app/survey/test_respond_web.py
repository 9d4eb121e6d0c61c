"""The respondent's pages: open links with resume codes, invitations, saving as one goes, errors next to the
field, idempotent final submission, and refused links."""

import re

from sqlalchemy import func, select

from survey_app.core.extensions import db
from survey_app.survey import operations as collection
from survey_app.survey.models import Response, ResponseDraft
from tests.conftest import CITIZEN_ANSWERS, csrf_token


def _sections(survey):
    return survey.questionnaire.questionnaire.sections


def _form(section, answers):
    data = {}
    for q in section.questions:
        if q.code in answers:
            data[q.code] = answers[q.code]
    return data


def _answer_all(client, base, survey, answers=CITIZEN_ANSWERS):
    token = csrf_token(client, f"{base}/0")
    for index, section in enumerate(_sections(survey)):
        response = client.post(
            f"{base}/{index}", data={"csrf_token": token, "action": "next", **_form(section, answers)}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    return token


def _quota(survey, target=10):
    collection.set_quotas(
        survey.open, f"unit,urban,sex,target\n{survey.units[0].code},rural,female,{target}\n".encode(), actor=None
    )
    db.session.commit()


def _start(client, survey):
    start = f"/s/open/{survey.units[0].code}"
    page = client.get(start)
    assert page.status_code == 200 and "Khảo sát mở" in page.get_data(as_text=True)
    response = client.post(start, data={"csrf_token": csrf_token(client, start)})
    assert response.status_code == 302
    code = re.search(r"/r/([0-9A-Z-]+)/0", response.headers["Location"]).group(1)
    return f"/r/{code}", code


def test_open_link_answered_whole_then_sent_twice_stores_one(client, survey):
    _quota(survey)
    base, code = _start(client, survey)
    assert code in client.get(f"{base}/0").get_data(as_text=True)
    token = _answer_all(client, base, survey)
    review = client.get(f"{base}/submit").get_data(as_text=True)
    assert "Rất không hài lòng" not in review and "Hài lòng" in review
    submission_id = re.search(r'name="submission_id" value="([^"]+)"', review).group(1)
    first = client.post(f"{base}/submit", data={"csrf_token": token, "submission_id": submission_id})
    second = client.post(f"{base}/submit", data={"csrf_token": token, "submission_id": submission_id})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert "Cảm ơn" in client.get(first.headers["Location"]).get_data(as_text=True)
    [stored] = db.session.scalars(select(Response)).all()
    # the province is the link's unit, not an answer of its own
    assert stored.answers == {k: v for k, v in CITIZEN_ANSWERS.items() if k != "province"}
    assert stored.source == "web" and stored.duration_seconds is not None
    assert db.session.scalar(select(func.count()).select_from(ResponseDraft)) == 0


def test_an_out_of_range_answer_is_refused_next_to_the_field_and_the_rest_kept(client, survey):
    base, _ = _start(client, survey)
    token = csrf_token(client, f"{base}/0")
    response = client.post(f"{base}/0", data={"csrf_token": token, "action": "next", "q_aw3": "maybe"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="q_aw3-error" role="alert">Hãy chọn một trong các câu trả lời' in page
    assert db.session.scalar(select(ResponseDraft.section)) == 0


def test_required_answers_are_asked_for_before_moving_on(client, survey):
    base, _ = _start(client, survey)
    response = client.post(f"{base}/0", data={"csrf_token": csrf_token(client, f"{base}/0"), "action": "next"})
    assert response.status_code == 422 and "Vui lòng trả lời câu hỏi này." in response.get_data(as_text=True)
    # a later section cannot be reached by typing its address
    assert client.get(f"{base}/3").headers["Location"].endswith(f"{base}/0")


def test_answers_saved_as_one_goes_survive_leaving_and_resuming_with_the_code(client, app, survey):
    base, code = _start(client, survey)
    token = csrf_token(client, f"{base}/0")
    saved = client.post(f"{base}/0/save", data={"q_aw3": "yes"}, headers={"X-CSRFToken": token})
    assert saved.get_json() == {"saved": True, "problems": {}}
    other = app.test_client()
    page = other.post("/resume", data={"code": code.lower(), "csrf_token": csrf_token(other, "/resume")})
    assert page.status_code == 302
    assert re.search(
        r'name="q_aw3" value="yes"[^>]*checked', other.get(page.headers["Location"]).get_data(as_text=True)
    )


def test_autosave_names_a_wrong_answer_and_keeps_the_right_ones(client, survey):
    base, _ = _start(client, survey)
    token = csrf_token(client, f"{base}/0")
    result = client.post(f"{base}/0/save", data={"q_aw3": "maybe"}, headers={"X-CSRFToken": token}).get_json()
    assert result["problems"] == {"q_aw3": "Hãy chọn một trong các câu trả lời được đưa ra."}


def test_invitation_link_is_one_response_and_then_refused(client, survey):
    [issued] = collection.issue_invitations(survey.invited, [{"unit": survey.units[0].code}], actor=None)
    db.session.commit()
    base = f"/i/{issued.token}"
    assert client.get(base).status_code == 200
    token = _answer_all(client, base, survey)
    review = client.get(f"{base}/submit").get_data(as_text=True)
    submission_id = re.search(r'name="submission_id" value="([^"]+)"', review).group(1)
    assert client.post(f"{base}/submit", data={"csrf_token": token, "submission_id": submission_id}).status_code == 302
    used = client.get(base)
    assert used.status_code == 410 and "đã được dùng" in used.get_data(as_text=True)


def test_revoked_and_unknown_links_get_clear_pages(client, survey):
    [issued] = collection.issue_invitations(survey.invited, [{"unit": survey.units[0].code}], actor=None)
    collection.revoke_invitation(issued.invitation, actor=None, reason="test")
    db.session.commit()
    revoked = client.get(f"/i/{issued.token}")
    assert revoked.status_code == 410 and "đã bị thu hồi" in revoked.get_data(as_text=True)
    unknown = client.get("/i/nothing-like-a-token")
    assert unknown.status_code == 404 and "không hợp lệ" in unknown.get_data(as_text=True)


def test_guessing_links_is_rate_limited_but_working_links_are_not_counted(client, survey):
    [issued] = collection.issue_invitations(survey.invited, [{"unit": survey.units[0].code}], actor=None)
    db.session.commit()
    for _ in range(30):
        assert client.get(f"/i/{issued.token}").status_code == 200
    statuses = [client.get(f"/i/guess-{n}").status_code for n in range(21)]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429


def test_the_honeypot_refuses_robots(client, survey):
    start = f"/s/open/{survey.units[0].code}"
    response = client.post(start, data={"csrf_token": csrf_token(client, start), "website": "http://spam"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ResponseDraft)) == 0


def test_a_full_stratum_thanks_the_respondent(client, survey):
    _quota(survey, target=0)
    base, _ = _start(client, survey)
    token = csrf_token(client, f"{base}/0")
    sections = _sections(survey)
    for index, section in enumerate(sections[:-1]):
        client.post(f"{base}/{index}", data={"csrf_token": token, "action": "next", **_form(section, CITIZEN_ANSWERS)})
    last = client.post(
        f"{base}/{len(sections) - 1}",
        data={"csrf_token": token, "action": "next", **_form(sections[-1], CITIZEN_ANSWERS)},
    )
    assert last.status_code == 200 and "Đã có đủ người" in last.get_data(as_text=True)
