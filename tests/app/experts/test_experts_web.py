"""The expert channel in the service: nominations, panels, personal links, the expert's form, results."""

import io
import re
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from survey_app.audit.models import AuditEvent
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.experts import operations as experts
from survey_app.experts.models import ExpertForm, Nomination, PanelSeat, SeatRole
from tests.conftest import csrf_token, expert_panel, nominee_rows

#: the demo framework's expert items: each scored main index's expert criterion
ITEMS = ("AW.E", "INST.E", "INFRA.E", "HR.E", "SEC.E", "DG.E", "DE.E", "DS.E")


def _answers(score="4", **fields):
    data = {f"score-{code}": score for code in ITEMS}
    data.update(fields)
    return data


def _open(client, token, *, agree=True):
    """Open an expert's link; ``agree``: read the notice on personal data and agree, as the form asks first."""
    response = client.get(f"/e/{token}")
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    if agree:
        assert client.post(f"{location}/consent", data={"csrf_token": csrf_token(client, location)}).status_code == 302
    return location


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/resume"), **data})


# --- nominations ----------------------------------------------------------------------------------------


def _upload(client, round_code, content: bytes, filename="list.csv", **fields):
    token = csrf_token(client, f"/experts/{round_code}/nominations")
    return client.post(
        f"/experts/{round_code}/nominations/upload",
        content_type="multipart/form-data",
        data={"file-csrf_token": token, "file-file": (io.BytesIO(content), filename), **fields},
    )


def _csv(rows):
    return pd.DataFrame(rows).to_csv(index=False).encode()


def test_an_upload_with_a_bad_row_stores_nothing_unless_told_to_keep_the_valid_rows(survey, client, create_user, login):
    evaluation, _, _ = expert_panel(survey.framework, links=False)
    db.session.commit()
    login(create_user("sample_designer"))
    rows = nominee_rows("79", (2, 1, 1), prefix="hcm") + [
        {"unit": "79", "name": "Không rõ", "category": "professor", "email": "x@example.vn"},
        {"unit": "79", "name": "Không liên lạc", "category": "business_leader", "email": ""},
        {"unit": "79", "name": "Đã đề cử", "category": "retired_leader", "email": "e.01.retired_leader.0@example.vn"},
    ]
    before = db.session.scalar(select(func.count(Nomination.id)))
    response = _upload(client, evaluation.code, _csv(rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Dòng 6: nhóm “professor” không xác định" in page
    assert "Dòng 7: không có địa chỉ thư điện tử hay số điện thoại của Không liên lạc" in page
    assert "Dòng 8: Đã đề cử đã được đề cử (bởi 01)" in page
    assert db.session.scalar(select(func.count(Nomination.id))) == before
    kept = _upload(client, evaluation.code, _csv(rows), **{"file-accept_valid_rows": "y"})
    assert kept.status_code == 200
    assert db.session.scalar(select(func.count(Nomination.id))) == before + 4


def test_an_excel_list_of_one_unit_with_vietnamese_headers(survey, client, create_user, login):
    evaluation, _, _ = expert_panel(survey.framework, links=False)
    db.session.commit()
    login(create_user("sample_designer"))
    table = pd.DataFrame(
        {
            "Họ và tên": ["Lê Văn C"],
            "Nhóm": ["Lãnh đạo doanh nghiệp"],
            "Số điện thoại": ["0912 345 678"],
            "Cơ quan": ["Hiệp hội phần mềm"],
        }
    )
    buffer = io.BytesIO()
    table.to_excel(buffer, index=False)
    response = _upload(client, evaluation.code, buffer.getvalue(), "danh-sach.xlsx", **{"file-unit": "48"})
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = db.session.scalar(select(Nomination).where(Nomination.name == "Lê Văn C"))
    assert (stored.unit.code, stored.category, stored.person_key) == ("48", "business_leader", "tel:0912345678")
    not_excel = _upload(client, evaluation.code, b"not a workbook", "danh-sach.xlsx", **{"file-unit": "48"})
    assert not_excel.status_code == 303


def test_a_nomination_entered_in_the_form(survey, client, create_user, login):
    evaluation, _, _ = expert_panel(survey.framework, links=False)
    db.session.commit()
    login(create_user("sample_designer"))
    path = f"/experts/{evaluation.code}/nominations"
    data = {
        "one-csrf_token": csrf_token(client, path),
        "one-unit": "02",
        "one-name": "Phạm Thu Hà",
        "one-category": "serving_official",
        "one-email": "ha@example.vn",
    }
    assert client.post(path, data=data).status_code == 302
    again = client.post(path, data=data)
    assert again.status_code == 400
    assert "Phạm Thu Hà đã được đề cử (bởi 02)" in again.get_data(as_text=True)


# --- panels ---------------------------------------------------------------------------------------------


def test_the_panels_page_shows_what_each_unit_misses(survey, client, create_user, login):
    evaluation, _, _ = expert_panel(survey.framework, links=False)
    experts.import_nominations(evaluation, nominee_rows("02", (6, 5, 2), prefix="hg"), actor=None)
    db.session.commit()
    login(create_user("viewer"))
    page = client.get(f"/experts/{evaluation.code}/panels?size=15").get_data(as_text=True)
    # Hà Giang: 2 business leaders of the 4 a panel of 15 needs
    assert "2 × Lãnh đạo doanh nghiệp, tổ chức, hiệp hội" in page
    state = next(s for s in experts.panel_states(evaluation, 15) if s.unit.code == "02")
    assert (state.quotas, state.missing) == (
        {"retired_leader": 6, "serving_official": 5, "business_leader": 4},
        {"business_leader": 2},
    )


def test_selection_is_reproducible_and_a_short_unit_is_refused(survey, client, create_user, login):
    from sampling import select_panel

    evaluation, _, _ = expert_panel(survey.framework, links=False)
    experts.import_nominations(evaluation, nominee_rows("02", (8, 6, 6), prefix="e2"), actor=None)
    experts.import_nominations(evaluation, nominee_rows("04", (6, 5, 3), prefix="e4"), actor=None)
    db.session.commit()
    login(create_user("sample_designer"))
    path = f"/experts/{evaluation.code}/panels"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "unit": "*", "size": "15", "seed": "7"})
    assert response.status_code == 302
    by_unit = {panel.unit.code: panel for panel in experts.panels(evaluation).values()}
    assert sorted(by_unit) == ["01", "02"]
    # the same nominations and seed give the same panel, members and reserves in the same order
    nominees = experts.nominations(evaluation, by_unit["02"].unit)
    again = select_panel(
        pd.DataFrame({"id": [n.id for n in nominees], "category": [n.category for n in nominees]}), 15, seed=7
    )
    seats = by_unit["02"].seats
    assert sorted(again.members) == sorted(s.nomination_id for s in seats if s.role == SeatRole.MEMBER)
    assert again.reserves["retired_leader"] == [
        s.nomination_id
        for s in sorted(
            (s for s in seats if s.role == SeatRole.RESERVE and s.nomination.category == "retired_leader"),
            key=lambda s: s.reserve_rank,
        )
    ]
    refused = client.post(
        path,
        data={"csrf_token": csrf_token(client, path), "unit": "04", "size": "15", "seed": "7"},
        follow_redirects=True,
    )
    assert "nhóm Lãnh đạo doanh nghiệp, tổ chức, hiệp hội cần 4 chuyên gia, mới đề cử 3" in refused.get_data(
        as_text=True
    )
    assert len(experts.panels(evaluation)) == 2


def test_a_decliner_is_replaced_by_a_reserve_of_the_same_category(survey, client, create_user, login):
    evaluation, panel, tokens = expert_panel(survey.framework)
    db.session.commit()
    login(create_user("sample_designer"))
    seat = next(s for s in panel.seats if s.role == SeatRole.MEMBER and s.nomination.category == "serving_official")
    reserve = min(
        (s for s in panel.seats if s.role == SeatRole.RESERVE and s.nomination.category == "serving_official"),
        key=lambda s: s.reserve_rank,
    )
    response = _post(client, f"/experts/panels/{panel.id}/seats/{seat.id}/decline", {"reason": "Ốm"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (seat.role, reserve.role) == (SeatRole.WITHDRAWN, SeatRole.MEMBER)
    assert sum(s.role == SeatRole.MEMBER for s in panel.seats) == 15
    # the decliner's link no longer opens the form
    assert client.get(f"/e/{tokens[seat.id]}").status_code == 410


def test_an_override_needs_a_reason_and_is_audited(survey, client, create_user, login):
    evaluation, panel, _ = expert_panel(survey.framework)
    db.session.commit()
    login(create_user("sample_designer"))
    member = next(s for s in panel.seats if s.role == SeatRole.MEMBER)
    reserve = next(s for s in panel.seats if s.role == SeatRole.RESERVE)
    path = f"/experts/panels/{panel.id}"
    data = {
        "override-csrf_token": csrf_token(client, path),
        "override-remove": member.id,
        "override-add": reserve.nomination_id,
        "override-reason": "",
    }
    assert client.post(f"{path}/override", data=data).status_code == 400
    data["override-reason"] = "Xung đột lợi ích"
    assert client.post(f"{path}/override", data=data).status_code == 302
    db.session.expire_all()
    assert (member.role, reserve.role) == (SeatRole.WITHDRAWN, SeatRole.MEMBER)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "experts.override"))
    assert event.details["reason"] == "Xung đột lợi ích"


def test_links_come_as_a_csv_and_reminders_as_a_list_without_smtp(survey, client, create_user, login):
    evaluation, panel, tokens = expert_panel(survey.framework, links=False)
    db.session.commit()
    login(create_user("sample_designer"))
    response = _post(client, f"/experts/panels/{panel.id}/links", {})
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert response.status_code == 200 and len(lines) == 16
    assert lines[0] == "unit,name,category,email,phone,status,link"
    link = lines[1].rsplit(",", 1)[1]
    assert "/e/" in link
    _open(client, link.rsplit("/", 1)[1])
    reminders = _post(client, f"/experts/panels/{panel.id}/remind", {})
    rows = reminders.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(rows) == 16 and ",opened," in rows[1] + "".join(rows)
    assert db.session.scalar(select(func.count(ExpertForm.id)).where(ExpertForm.reminded_at.is_not(None))) == 15


def test_reminders_by_email_when_smtp_is_configured(survey, app, client, create_user, login, monkeypatch):
    sent = []

    class Server:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            pass

        def send_message(self, message):
            sent.append((message["To"], message["Subject"], message.get_content()))

    monkeypatch.setattr("smtplib.SMTP", Server)
    app.config["SMTP_HOST"] = "mail.example.vn"
    evaluation, panel, tokens = expert_panel(survey.framework)
    db.session.commit()
    login(create_user("sample_designer"))
    old_token = next(iter(tokens.values()))
    response = _post(client, f"/experts/panels/{panel.id}/remind", {})
    assert response.status_code == 302
    assert sent[0] == ("connect", "mail.example.vn", 587) and len(sent) == 16
    to, subject, body = sent[1]
    assert to.endswith("@example.vn") and "Hà Nội" in subject and "/e/" in body
    # a reminder carries a new link, and the old one stops working
    assert client.get(f"/e/{old_token}").status_code == 404


# --- the expert's side ----------------------------------------------------------------------------------


def test_a_link_opens_only_its_own_form(survey, app, client):
    _, panel, tokens = expert_panel(survey.framework)
    db.session.commit()
    (first_seat, first), (second_seat, second) = list(tokens.items())[:2]
    location = _open(client, first)
    page = client.get(location)
    assert page.status_code == 200
    assert "Tôi không thể đánh giá nội dung này" in page.get_data(as_text=True)
    other = db.session.get(PanelSeat, second_seat).form.id
    assert client.get(f"/expert/forms/{other}").status_code == 404
    assert _post(client, f"/expert/forms/{other}/draft", _answers()).status_code == 404
    assert _post(client, f"/expert/forms/{other}/submit", _answers()).status_code == 404
    # without the link's session, not even one's own form opens
    assert app.test_client().get(location).status_code == 404


def test_expired_revoked_and_unknown_links_say_so(survey, client, create_user, login):
    _, panel, tokens = expert_panel(survey.framework)
    seats = list(tokens)
    expired = db.session.get(PanelSeat, seats[0]).form
    expired.link_expires_at = utcnow() - timedelta(minutes=1)
    experts.revoke_link(db.session.get(PanelSeat, seats[1]).form, actor=None)
    db.session.commit()
    response = client.get(f"/e/{tokens[seats[0]]}")
    assert response.status_code == 410 and "Đường dẫn này đã hết hạn" in response.get_data(as_text=True)
    response = client.get(f"/e/{tokens[seats[1]]}")
    assert response.status_code == 410 and "đã bị thu hồi" in response.get_data(as_text=True)
    assert client.get("/e/not-a-token").status_code == 404
    # a link revoked while the expert has the form open closes the form too
    location = _open(client, tokens[seats[2]])
    experts.revoke_link(db.session.get(PanelSeat, seats[2]).form, actor=None)
    db.session.commit()
    assert client.get(location).status_code == 410


def test_drafts_save_as_the_expert_goes_and_keep_valid_answers(survey, client):
    _, panel, tokens = expert_panel(survey.framework)
    db.session.commit()
    seat_id, token = next(iter(tokens.items()))
    location = _open(client, token)
    form_id = int(location.rsplit("/", 1)[1])
    response = client.post(
        f"{location}/draft",
        headers={"X-CSRFToken": csrf_token(client, location)},
        data={"score-AW.E": "5", "comment-AW.E": "Tốt", "score-INST.E": "9"},
    )
    assert response.status_code == 200
    assert response.json["problems"] == {"INST.E": "Hãy chọn một trong các mức điểm có sẵn."}
    stored = db.session.get(ExpertForm, form_id)
    db.session.refresh(stored)
    assert stored.answers == {"AW.E": {"score": 5, "comment": "Tốt"}}
    assert db.session.get(PanelSeat, seat_id).status == "in_progress"
    page = client.get(location).get_data(as_text=True)
    assert 'value="5" checked' in page and ">Tốt</textarea>" in page


def test_submission_is_final_idempotent_and_cannot_be_changed_by_a_draft(survey, client, create_user, login):
    _, panel, tokens = expert_panel(survey.framework)
    db.session.commit()
    location = _open(client, next(iter(tokens.values())))
    form_id = int(location.rsplit("/", 1)[1])
    incomplete = _post(client, f"{location}/submit", {"submission_id": "s1", "score-AW.E": "3"})
    assert incomplete.status_code == 422
    assert "Hãy cho điểm, hoặc chọn “Tôi không thể đánh giá nội dung này”." in incomplete.get_data(as_text=True)
    answers = _answers("4", **{"score-DE.E": "cannot_judge", "comment-DE.E": "Không rõ số liệu"})
    assert _post(client, f"{location}/submit", {"submission_id": "s1", **answers}).status_code == 302
    stored = db.session.get(ExpertForm, form_id)
    db.session.refresh(stored)
    first = (stored.submitted_at, dict(stored.answers))
    assert first[1]["DE.E"] == {"cannot_judge": True, "comment": "Không rõ số liệu"}
    # the same submission again is answered as the first was; anything else is refused
    assert _post(client, f"{location}/submit", {"submission_id": "s1", **answers}).status_code == 302
    assert _post(client, f"{location}/submit", {"submission_id": "s2", **_answers("1")}).status_code == 409
    replay = client.post(f"{location}/draft", headers={"X-CSRFToken": csrf_token(client, location)}, data=_answers("1"))
    assert replay.status_code == 409
    db.session.refresh(stored)
    assert (stored.submitted_at, stored.answers) == first
    copy = client.get(f"{location}/copy")
    assert copy.status_code == 200
    assert copy.headers["Content-Disposition"].startswith("attachment; filename=expert-form-01-")
    assert "Không rõ số liệu" in copy.get_data(as_text=True)
    # staff reopen it with a reason: the expert can change it again
    login(create_user("sample_designer"))
    seat = stored.seat
    _post(client, f"/experts/panels/{panel.id}/forms/{form_id}/reopen", {"reason": "Chuyên gia xin sửa"})
    db.session.refresh(stored)
    assert stored.submitted_at is None and stored.reopen_reason == "Chuyên gia xin sửa"
    assert seat.status == "in_progress"


# --- results --------------------------------------------------------------------------------------------


def test_results_by_hand_for_a_small_panel(survey, client, create_user, login):
    evaluation, panel, tokens = expert_panel(survey.framework)
    seats = {seat.id: seat for seat in panel.seats}
    # AW.E gets the scores 1..15 from the 15 members (6 retired leaders, 5 serving officials, 4 business
    # leaders, in that order); every other item 3, except one "cannot judge" on DE.E
    ordered = sorted(
        tokens,
        key=lambda i: (
            ["retired_leader", "serving_official", "business_leader"].index(seats[i].nomination.category),
            i,
        ),
    )
    for score, seat_id in enumerate(ordered, start=1):
        form = experts.open_link(tokens[seat_id])
        raw = {code: {"choice": "3"} for code in ITEMS}
        raw["AW.E"] = {"choice": str(min(score, 5))}
        if score == 15:
            raw["DE.E"] = {"choice": "cannot_judge"}
        assert experts.submit(form, raw, f"s{score}") == {}
    db.session.commit()
    found = experts.results(evaluation)
    row = found.items.set_index("item").loc["AW.E"]
    scores = [min(s, 5) for s in range(1, 16)]  # 1 2 3 4 5 5 ... 5
    assert row["n"] == 15 and row["mean"] == pytest.approx(sum(scores) / 15)
    # trimmed mean, floor(0.1 × 15) = 1 cut at each end: the 13 middle values 2 3 4 and ten 5s → 59/13
    assert row["trimmed_mean"] == pytest.approx(59 / 13)
    # categories' means: retired (1..5, 5) = 20/6; serving 5 × 5 = 5; business 5; at 40/30/30
    assert row["composition_mean"] == pytest.approx(0.4 * 20 / 6 + 0.3 * 5 + 0.3 * 5)
    # value (59/13 - 1) / 4 on a 1-5 scale, times AW.E's 10 points (10% of awareness's 100)
    assert row["value"] == pytest.approx((59 / 13 - 1) / 4)
    assert row["points"] == pytest.approx(10 * (59 / 13 - 1) / 4)
    de3 = found.items.set_index("item").loc["DE.E"]
    assert de3["n"] == 14
    assert found.composition.iloc[0][["retired_leader", "serving_official", "business_leader"]].tolist() == [6, 5, 4]
    login(create_user("scoring_officer"))
    page = client.get(f"/experts/{evaluation.code}/results").get_data(as_text=True)
    assert "Hà Nội" in page and "4,54" in page  # 59/13 = 4.538…
    assert "Hệ số W của Kendall" in page


def test_the_demo_seeds_panels_with_submitted_forms(app, client, create_user, login):
    from survey_app.core import demo
    from survey_app.rounds.models import EvaluationRound

    seeded = demo.seed()
    db.session.commit()
    assert seeded.expert_link
    evaluation = db.session.scalar(select(EvaluationRound).where(EvaluationRound.code == demo.DEMO_ROUND))
    states = {s.unit.code: s for s in experts.panel_states(evaluation)}
    assert all(states[code].panel is not None for code in demo.DEMO_PROVINCES)
    assert states["31"].panel is None and states["31"].missing == {"business_leader": 1}
    hanoi = states["01"].statuses
    assert (hanoi["submitted"], hanoi["in_progress"], hanoi["invited"], hanoi["declined"]) == (18, 1, 1, 1)
    found = experts.results(evaluation)
    assert set(found.items["unit"]) == set(demo.DEMO_PROVINCES)
    assert found.outliers["flagged"].any()
    assert demo.seed().expert_link is None
    login(create_user("viewer"))
    panels_page = client.get(f"/experts/{evaluation.code}/panels").get_data(as_text=True)
    assert "Hải Phòng" in panels_page and "1 × Lãnh đạo doanh nghiệp" in panels_page
    results_page = client.get(f"/experts/{evaluation.code}/results").get_data(as_text=True)
    assert "TP. Hồ Chí Minh" in results_page and "Chuyên gia" in results_page
    assert client.get(f"/e/{seeded.expert_link}").status_code == 302


def test_personal_data_past_its_date_is_erased_and_the_panel_still_counts(survey, runner):
    from datetime import date

    from survey_app.survey import operations as collection
    from survey_app.survey.models import InviteeContact

    evaluation, panel, _ = expert_panel(survey.framework)
    collection.issue_invitations(
        survey.invited,
        [{"unit": survey.units[0].code, "email": "a@example.vn"}],
        actor=None,
        erase_after=date(2020, 1, 1),
    )
    assert experts.erase_after(evaluation, today=date(2024, 3, 1)) == date(2024, 12, 31)
    # the round's erase date has passed (the panel's links have expired long ago): the CLI (run daily) erases both
    db.session.execute(update(Nomination).values(erase_after=date(2024, 12, 31)))
    db.session.commit()
    result = runner.invoke(args=["privacy", "erase-expired"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output and "20" in result.output
    assert db.session.scalar(select(func.count(InviteeContact.id))) == 0
    assert set(db.session.scalars(select(Nomination.name))) == {"—"}
    assert set(db.session.scalars(select(Nomination.email))) == {""}
    state = next(s for s in experts.panel_states(evaluation) if s.unit.code == "01")
    assert state.nominated == {"retired_leader": 8, "serving_official": 6, "business_leader": 6}
    from survey_app.privacy import operations as privacy

    assert privacy.erase_expired(date(2025, 1, 1)) == privacy.Erased(0, 0)
    assert privacy.erase_expired(date(2024, 12, 31)) == privacy.Erased(0, 0)


# --- what an expert meets first --------------------------------------------------------------------------


def test_an_english_expert_reads_the_items_and_the_scale_words_in_english(survey, client):
    _, panel, tokens = expert_panel(survey.framework)
    db.session.commit()
    location = _open(client, next(iter(tokens.values())))
    page = client.get(f"{location}?lang=en").get_data(as_text=True)
    questionnaire = panel.questionnaire.questionnaire
    for item in questionnaire.items():
        block = re.search(rf'id="q-{re.escape(item.code)}".*?id="{re.escape(item.code)}-error"', page, re.S).group(0)
        assert item.name.en in block and item.name.vi not in block, item.code
        for anchor in questionnaire.scale.anchors:
            assert f"<strong>{anchor.value}</strong> · {anchor.label.en}</span>" in block
    assert "Rất tốt" not in page and "I cannot judge this" in page


def test_the_error_summary_names_each_item_and_links_to_its_scale(survey, client):
    _, panel, tokens = expert_panel(survey.framework)
    db.session.commit()
    location = _open(client, next(iter(tokens.values())))
    form_id = location.rsplit("/", 1)[1]
    data = _answers()
    del data["score-INST.E"]
    response = _post(client, f"/expert/forms/{form_id}/submit", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    item = next(i for i in panel.questionnaire.questionnaire.items() if i.code == "INST.E")
    summary = re.search(r'<div class="problems".*?</div>', page, re.S).group(0)
    assert f'<a href="#a-INST.E">INST.E · {item.name.vi}</a> – Hãy cho điểm' in summary
    assert 'id="a-INST.E"' in page


def test_the_notice_never_names_an_erase_date_already_past(survey, app, client):
    from datetime import date

    from survey_app.core.i18n import day

    evaluation, panel, tokens = expert_panel(survey.framework)  # a 2023 round, long after its year
    db.session.commit()
    seat_id, token = next(iter(tokens.items()))
    nomination = db.session.get(PanelSeat, seat_id).nomination
    today = utcnow().date()
    assert nomination.erase_after >= today + experts.NOMINEE_RETENTION
    location = _open(client, token, agree=False)
    notice = client.get(location).get_data(as_text=True)
    with app.test_request_context():
        assert day(nomination.erase_after) in notice
    # a link that works longer than that keeps the data as long as it works
    [issued] = experts.issue_links(panel, days=400, actor=None, seats=[db.session.get(PanelSeat, seat_id)])
    db.session.commit()
    assert nomination.erase_after == issued.seat.form.link_expires_at.date() > today + experts.NOMINEE_RETENTION
    # a round nominated in its own time keeps the register's rule: the end of the year after the round's
    assert experts.erase_after(evaluation, today=date(2024, 2, 1)) == date(2024, 12, 31)


def test_an_expert_link_opens_from_an_address_that_spent_its_guesses(survey, app, client):
    _, panel, tokens = expert_panel(survey.framework)
    db.session.commit()
    statuses = [client.get(f"/e/guess-{n}").status_code for n in range(21)]
    assert statuses[-2:] == [404, 429]
    colleague = app.test_client()
    location = _open(colleague, next(iter(tokens.values())))
    assert colleague.get(location).status_code == 200
    assert colleague.get("/e/another-guess").status_code == 429
