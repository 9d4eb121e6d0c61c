"""What a unit sees after its sign-off: each appraised value with its reason, its one reply before the appraisal
closes (shown to officers beside the appraisal), its provisional points from its own data, then its published
rank; another unit's pages refused. Quảng Nam's commune round computed end to end from the communes' own survey
scores and the department's verification [2326 II.2.b]."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.audit.models import AuditEvent
from survey_app.core.extensions import db
from survey_app.reporting.models import AppraisalReply
from survey_app.scoring.models import SelfAssessment
from tests.conftest import PASSWORD, csrf_token

#: Hà Nội's values on the demo framework's self-reported criteria, and the points each earns by its method
#: (as in test_reporting, on the demo's points: 90% of the main index's, the experts' ".E" has the other 10%):
#: yes 27, no 0, 2 reaches "≥2: 27", 1/1 of 54, 85/100 of 36 = 30.6, yes 27, 85.5/100 of 45 = 38.475,
#: 100/100 of 54, yes 36, 50/100 of 45 = 22.5, 40/80 of 36 = 18, 30 reaches "≥30: 18", 10/20 of 54 = 27, 0
HANOI = {
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


def _unit(unit_list, code):
    return next(unit for unit in unit_list.units if unit.code == code)


def _accounts(unit, roles=("reporter", "approver", "signatory")):
    from survey_app.accounts import operations as accounts
    from survey_app.accounts import unit_accounts

    made = {}
    for role in roles:
        user, _ = unit_accounts.create_unit_account(unit, f"{role}.{unit.code}@unit.gov.vn", role, role, actor=None)
        accounts.set_password(user, PASSWORD, actor=None)
        made[role] = user
    return made


def _signed_off(evaluation_round, unit, accounts, values: dict[str, str], evidence="QĐ 12/QĐ-UBND"):
    """The unit's report for the round's year entered, submitted, approved and signed off (its workflow is
    test_reporting's)."""
    from survey_app.reporting import operations as reporting

    period = reporting.periods(evaluation_round)[0]
    typed = {code: {"value": value, "evidence": evidence} for code, value in values.items()}
    assert reporting.save(period, unit, typed, actor=accounts["reporter"]) == {}
    report = reporting.submit(period, unit, actor=accounts["reporter"])
    reporting.approve(report, actor=accounts["approver"])
    reporting.sign_off(report, actor=accounts["signatory"], second_factor=True)


@pytest.fixture
def province(app, create_user):
    """A 2023 province round on the demo framework; Hà Nội (01) has signed off ``HANOI``, Hà Giang (02) has
    accounts and nothing reported; a scoring officer."""
    from questionnaires import read_yaml
    from survey_app.core.demo import demo_framework_path
    from survey_app.frameworks import operations as frameworks
    from survey_app.rounds import operations as rounds
    from survey_app.units import operations as units

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    framework, _ = frameworks.store_framework(read_yaml(demo_framework_path()))
    evaluation = rounds.create_round("r2023", 2023, "Vòng 2023", "Round 2023", framework, unit_list, actor=None)
    hanoi, ha_giang = _unit(unit_list, "01"), _unit(unit_list, "02")
    made = {"01": _accounts(hanoi), "02": _accounts(ha_giang)}
    _signed_off(evaluation, hanoi, made["01"], HANOI)
    db.session.commit()
    return SimpleNamespace(
        round=evaluation,
        hanoi=hanoi,
        accounts=made,
        officer=create_user("scoring_officer"),
        path="/reporting/r2023/2023/01",
    )


def _post(client, path, data=None):
    return client.post(path, data={"csrf_token": csrf_token(client, "/reporting/"), **(data or {})})


def _assessment(round_id, unit_id, criterion) -> SelfAssessment:
    db.session.expire_all()
    return db.session.scalar(
        select(SelfAssessment).where(
            SelfAssessment.round_id == round_id,
            SelfAssessment.unit_id == unit_id,
            SelfAssessment.criterion == criterion,
        )
    )


def test_the_unit_sees_each_appraisal_and_replies_once_and_officers_see_the_reply(client, login, province):
    aw1 = _assessment(province.round.id, province.hanoi.id, "AW.1")
    assert aw1.points == 27 and aw1.source == "form"
    login(province.officer)
    status_page = f"/reporting/{province.round.code}/status?lang=en"
    assert "Appraised: 1" not in client.get(status_page).get_data(as_text=True)
    answer = _post(client, f"/scoring/assessments/{aw1.id}/appraise", {"points": "10", "reason": "Thiếu quyết định"})
    assert answer.status_code == 302
    # on the officers' page Hà Nội's signed-off report is now "appraised"
    assert "Appraised: 1" in client.get(status_page).get_data(as_text=True)
    client.get("/?lang=vi")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/reporting/")})

    login(province.accounts["01"]["reporter"])
    page = client.get(province.path).get_data(as_text=True)
    section = page[page.index('id="appraisal"') :]
    row = section[section.index('id="appraisal-AW.1"') : section.index("</tr>", section.index('id="appraisal-AW.1"'))]
    # both scores kept and shown: 27 self-assessed of AW.1's 27, 10 after appraisal, with the reason
    assert "27 / 27" in row and "<strong>10</strong>" in row and "Thiếu quyết định" in row
    assert 'name="reply"' in row
    # a value not appraised offers no reply, and a reply to it is refused
    inst = section[section.index('id="appraisal-INST.1"') :]
    assert 'name="reply"' not in inst[: inst.index("</tr>")]
    assert _post(client, f"{province.path}/appraisals/INST.1/reply", {"reply": "?"}).status_code == 400
    # an empty reply is refused with its message beside the field, nothing stored
    empty = _post(client, f"{province.path}/appraisals/AW.1/reply", {"reply": "  "})
    assert empty.status_code == 400 and 'id="reply-error-AW.1"' in empty.get_data(as_text=True)
    assert db.session.scalar(select(AppraisalReply)) is None

    text = "Quyết định 12/QĐ-UBND đã ban hành ngày 3/3/2023, gửi kèm bản sao."
    assert _post(client, f"{province.path}/appraisals/AW.1/reply", {"reply": text}).status_code == 302
    again = _post(client, f"{province.path}/appraisals/AW.1/reply", {"reply": "Lần hai"})
    assert again.status_code == 400
    replies = list(db.session.scalars(select(AppraisalReply)))
    assert [(r.assessment_id, r.text, r.appraised_points, r.appraisal_reason) for r in replies] == [
        (aw1.id, text, 10.0, "Thiếu quyết định")
    ]
    page = client.get(province.path).get_data(as_text=True)
    assert text in page and 'id="reply-AW.1"' not in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reporting.appraisal_reply"))
    assert event.actor == "reporter.01@unit.gov.vn" and event.new_value["reply"] == text

    # another unit's reply address is refused, whatever its role
    client.post("/logout", data={"csrf_token": csrf_token(client, "/reporting/")})
    login(province.accounts["02"]["approver"])
    assert _post(client, f"{province.path}/appraisals/AW.1/reply", {"reply": "x"}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/reporting/")})

    # the officer sees the reply beside the appraisal
    login(province.officer)
    page = client.get("/scoring/r2023/units/01").get_data(as_text=True)
    row = page[page.index('id="criterion-AW.1"') :]
    assert text in row[: row.index("</tr>")]


def test_the_appraisal_closes_on_the_day_officers_set_and_at_publication(app, client, login, province):
    from survey_app.reporting import appraisals

    aw1 = _assessment(province.round.id, province.hanoi.id, "AW.1")
    login(province.officer)
    _post(client, f"/scoring/assessments/{aw1.id}/appraise", {"points": "10", "reason": "Thiếu quyết định"})
    # a date that is not one is refused and changes nothing
    assert _post(client, "/reporting/r2023/appraisal-closing", {"closes_on": "31/02"}).status_code == 400
    assert appraisals.closes_on(province.round) is None
    yesterday = appraisals.today() - timedelta(days=1)
    answer = _post(client, "/reporting/r2023/appraisal-closing", {"closes_on": yesterday.isoformat()})
    assert answer.status_code == 302
    db.session.expire_all()
    assert appraisals.closes_on(province.round) == yesterday and not appraisals.is_open(province.round)
    assert appraisals.is_open(province.round, on=yesterday)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/reporting/")})

    login(province.accounts["01"]["reporter"])
    assert 'name="reply"' not in client.get(province.path).get_data(as_text=True)
    assert _post(client, f"{province.path}/appraisals/AW.1/reply", {"reply": "Muộn"}).status_code == 400
    assert db.session.scalar(select(AppraisalReply)) is None
    # reopened to the day after tomorrow, then closed by publication
    appraisals.set_closing(province.round, yesterday + timedelta(days=3), actor=province.officer)
    assert appraisals.is_open(province.round)
    province.round.published_at = aw1.reported_at
    assert not appraisals.is_open(province.round)


def test_a_unit_follows_its_own_provisional_points_then_its_published_rank(client, login, province):
    from survey_app.publication import operations as publication
    from survey_app.reporting import results
    from survey_app.scoring import channel_inputs
    from survey_app.scoring import operations as scoring

    aw1 = _assessment(province.round.id, province.hanoi.id, "AW.1")
    channel_inputs.appraise(aw1, 10.0, "Thiếu quyết định", actor=province.officer)
    db.session.commit()
    mine = results.provisional(province.round, province.hanoi)
    by_code = {node["code"]: node for node in mine.nodes}
    # by hand: the appraisal's 10 replaces AW.1's 27; the survey and expert criteria have no data yet and score 0
    # AW 10 + 0; INST 27 + 54; INFRA 30.6 + 27; HR 38.475; SEC 54 + 36; DG 22.5 + 18 + 18; DE 27; DS 0
    expected = {"AW": 10, "INST": 81, "INFRA": 57.6, "HR": 38.475, "SEC": 90, "DG": 58.5, "DE": 27, "DS": 0}
    assert {code: by_code[code]["points"] for code in expected} == pytest.approx(expected)
    assert by_code["AW.1"]["source"] == "appraisal" and by_code["AW.2"]["source"] == "self_assessment"
    assert by_code["AW.3"]["missing"] and not by_code["AW.1"]["missing"]
    # 10 + 81 + 57.6 + 38.475 + 90 + 58.5 + 27 = 362.575 of 1000 points
    assert mine.total == pytest.approx(362.575) and mine.index_value == pytest.approx(0.362575)

    login(province.accounts["01"]["reporter"])
    page = client.get("/reporting/r2023/results/01").get_data(as_text=True)
    # shown to two decimals: 362.575 is 362.57499… in binary, so 362,57
    assert "362,57" in page or "362.57" in page
    assert 'id="published"' not in page
    # Hà Nội's account is refused Hà Giang's results, and the reverse
    assert client.get("/reporting/r2023/results/02").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/reporting/")})
    login(province.accounts["02"]["reporter"])
    assert client.get("/reporting/r2023/results/01").status_code == 403
    theirs = client.get("/reporting/r2023/results/02")
    assert theirs.status_code == 200 and "362" not in theirs.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/reporting/")})

    # published: the unit's rank among the 63 provinces, Hà Nội first (every other province on 0), and the link
    # to its public scorecard
    proposed = list(scoring.proposed_exclusions(province.round)["node"])
    run = scoring.run_scoring(province.round, excluded=[], kept=proposed, actor=province.officer)
    publication.publish(run, actor=province.officer)
    db.session.commit()
    assert results.published(province.round, province.hanoi) == {
        "run": run,
        "index": pytest.approx(0.362575),
        "rank": 1,
        "of": 63,
    }
    login(province.accounts["01"]["approver"])
    page = client.get("/reporting/r2023/results/01").get_data(as_text=True)
    assert 'id="published"' in page and 'href="/results/r2023/units/01"' in page
    assert client.get("/reporting/r2023/results/02").status_code == 403


def test_a_quang_nam_commune_round_from_the_communes_survey_scores_and_the_departments_verification(
    app, client, login, create_user
):
    """Quảng Nam's commune index [2326 II.1-2]: three pillars of 50, 20 and 30 points, each scored by the commune
    from its own survey (a value in [0, 1] times the pillar's points: "Điểm tự đánh giá") with its evidence,
    then verified by the department ("Điểm sau khi thẩm định"); both kept and shown, the verified score counts."""
    from survey_app.frameworks import operations as frameworks
    from survey_app.publication import operations as publication
    from survey_app.reporting import operations as reporting
    from survey_app.rounds import operations as rounds
    from survey_app.scoring import channel_inputs
    from survey_app.scoring import operations as scoring
    from survey_app.units import operations as units

    version = next(v for v, _ in frameworks.load_shipped_frameworks() if v.code == "quang-nam-commune")
    communes = units.load_provincial_unit_lists()["quang-nam-communes"]
    evaluation = rounds.create_round("qn2021", 2021, "Xã Quảng Nam 2021", "QN 2021", version, communes, actor=None)
    # the reporting form offers the three survey-based pillars to the commune
    assert [node.code for node in reporting.criteria(evaluation)] == ["DG", "DE", "DS"]
    tan_thanh, other = _unit(communes, "20335"), next(u for u in communes.units if u.code != "20335")
    commune_accounts = _accounts(tan_thanh)
    _signed_off(evaluation, tan_thanh, commune_accounts, {"DG": "0,8", "DE": "0.5", "DS": "90%"}, "Báo cáo KS")
    _signed_off(evaluation, other, _accounts(other), {"DG": "1", "DE": "0,25", "DS": "0,5"}, "Báo cáo KS")
    officer = create_user("scoring_officer")
    # the department verifies Tân Thạnh's digital government: 35 of 50, not the 40 its survey gave
    dg = _assessment(evaluation.id, tan_thanh.id, "DG")
    channel_inputs.appraise(dg, 35.0, "Mẫu khảo sát chưa đủ 30 hộ", actor=officer)
    db.session.commit()

    # by hand. Tân Thạnh: DG 0.8 × 50 = 40 self-assessed, 35 verified; DE 0.5 × 20 = 10; DS 0.9 × 30 = 27;
    # index 35 + 10 + 27 = 72 of 100. The other commune: 50 + 0.25 × 20 = 5 + 0.5 × 30 = 15, 70 of 100.
    kept = {
        row.criterion: (row.points, row.appraised_points)
        for row in channel_inputs.assessments(evaluation)
        if row.unit_id == tan_thanh.id
    }
    assert kept == {"DG": (40.0, 35.0), "DE": (10.0, None), "DS": (pytest.approx(27.0), None)}
    proposed = list(scoring.proposed_exclusions(evaluation)["node"])
    run = scoring.run_scoring(evaluation, excluded=[], kept=proposed, actor=officer)
    assert run.index["20335"] == pytest.approx(0.72) and run.index[other.code] == pytest.approx(0.70)
    assert sorted(run.index.values(), reverse=True)[:3] == pytest.approx([0.72, 0.70, 0.0])
    ranking = scoring.ranking(run)
    assert list(ranking["unit"][:2]) == ["20335", other.code] and list(ranking["rank"][:2]) == [1, 2]

    # the commune's page shows both scores of DG
    login(commune_accounts["reporter"])
    page = client.get("/reporting/qn2021/2021/20335").get_data(as_text=True)
    row = page[page.index('id="appraisal-DG"') :]
    row = row[: row.index("</tr>")]
    assert "40 / 50" in row and "<strong>35</strong>" in row and "Mẫu khảo sát chưa đủ 30 hộ" in row
    publication.publish(run, actor=officer)
    db.session.commit()
    page = client.get("/reporting/qn2021/results/20335").get_data(as_text=True)
    assert 'id="published"' in page and "72" in page


def test_two_replies_sent_at_once_store_one(monkeypatch, province):
    from survey_app.core.errors import ServiceError
    from survey_app.reporting import appraisals
    from survey_app.scoring import channel_inputs

    aw1 = _assessment(province.round.id, province.hanoi.id, "AW.1")
    channel_inputs.appraise(aw1, 10.0, "Thiếu quyết định", actor=province.officer)
    reporter = province.accounts["01"]["reporter"]
    # the second request read no reply yet, as one running at the same moment would
    monkeypatch.setattr(appraisals, "replies_to", lambda assessments: {})
    appraisals.reply(province.round, province.hanoi, "AW.1", "Lần một", actor=reporter)
    with pytest.raises(ServiceError) as refused:
        appraisals.reply(province.round, province.hanoi, "AW.1", "Lần hai", actor=reporter)
    assert refused.value.code == "already_replied"
    db.session.commit()
    assert [reply.text for reply in db.session.scalars(select(AppraisalReply))] == ["Lần một"]


def test_a_value_changed_after_a_reopening_is_appraised_and_answered_afresh(province):
    from survey_app.reporting import appraisals
    from survey_app.reporting import operations as reporting
    from survey_app.scoring import channel_inputs

    accounts = province.accounts["01"]
    for criterion in ("AW.1", "INST.1"):
        channel_inputs.appraise(
            _assessment(province.round.id, province.hanoi.id, criterion),
            0.0,
            "Không có minh chứng",
            actor=province.officer,
        )
        appraisals.reply(province.round, province.hanoi, criterion, f"Trả lời {criterion}", actor=accounts["reporter"])
    period = reporting.periods(province.round)[0]
    report = reporting.report_of(period, province.hanoi)
    reporting.reopen(report, "Sửa AW.1", actor=province.officer)
    # AW.1 changes (yes → no), INST.1 is signed off again as it was
    reporting.save(period, province.hanoi, {"AW.1": {"value": "không"}}, actor=accounts["reporter"])
    reporting.submit(period, province.hanoi, actor=accounts["reporter"])
    reporting.approve(report, actor=accounts["approver"])
    reporting.sign_off(report, actor=accounts["signatory"], second_factor=True)
    db.session.commit()
    aw1 = _assessment(province.round.id, province.hanoi.id, "AW.1")
    inst1 = _assessment(province.round.id, province.hanoi.id, "INST.1")
    assert (aw1.value, aw1.points, aw1.appraised_points) == (0.0, 0.0, None)
    assert inst1.appraised_points == 0.0
    assert {r.assessment_id: r.text for r in db.session.scalars(select(AppraisalReply))} == {inst1.id: "Trả lời INST.1"}
    channel_inputs.appraise(aw1, 0.0, "", actor=province.officer)
    appraisals.reply(province.round, province.hanoi, "AW.1", "Đồng ý", actor=accounts["reporter"])
    assert len(appraisals.replies_to([aw1, inst1])) == 2
