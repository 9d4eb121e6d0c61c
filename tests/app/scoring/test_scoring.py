"""Scoring a round in the service: self-assessment by file and form, appraisal, cyberspace, runs with their
snapshot, exclusions and Tuyên Quang's rules, rankings and explanations; numbers computed by hand."""

import io

import pandas as pd
import pytest
from sqlalchemy import func, select

from survey_app.audit.models import AuditEvent
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.publication import operations as publication
from survey_app.rounds import operations as rounds
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from survey_app.scoring.models import SelfAssessment
from survey_app.survey import operations as collection
from survey_app.units import operations as units
from tests.conftest import CITIZEN_ANSWERS, csrf_token, job_result

#: the demo's criteria carry 90% of their main index's points (the other 10% is the experts' ".E"): AW.1 and
#: AW.2 27, INST.2 54, INFRA.1 36, SEC.2 36
#: Hà Nội (01): AW.1 yes 27, AW.2 yes 27, INST.2 0.5 of 1 → 27, INFRA.1 80 of 100 → 28.8
#: Hà Giang (02): AW.1 no 0, INFRA.1 100 → 36, SEC.2 yes 36
SELF_ASSESSED = [
    {"Mã đơn vị": "01", "Mã tiêu chí": "AW.1", "Giá trị": "Có", "Minh chứng": "QĐ 101/QĐ-UBND"},
    {"Mã đơn vị": "01", "Mã tiêu chí": "AW.2", "Giá trị": "có", "Minh chứng": "KH 12/KH-UBND"},
    {"Mã đơn vị": "01", "Mã tiêu chí": "INST.2", "Giá trị": "0,5", "Giải trình": "Số liệu Sở Nội vụ"},
    {"Mã đơn vị": "01", "Mã tiêu chí": "INFRA.1", "Giá trị": "80", "Minh chứng": "BC 7/BC-STTTT"},
    {"Mã đơn vị": "02", "Mã tiêu chí": "AW.1", "Giá trị": "không", "Giải trình": "Chưa thành lập"},
    {"Mã đơn vị": "02", "Mã tiêu chí": "INFRA.1", "Giá trị": "100", "Minh chứng": "BC 3"},
    {"Mã đơn vị": "02", "Mã tiêu chí": "SEC.2", "Giá trị": "yes", "Minh chứng": "BC 4"},
]


def _csv(rows) -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")


@pytest.fixture
def scored(survey):
    """A 2023 province round on the demo framework over the 63 provinces, the open-link fieldwork part of it."""
    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    evaluation = rounds.create_round(
        "province-2023", 2023, "DTI 2023", "DTI 2023", survey.framework, unit_list, actor=None
    )
    survey.open.round_id = evaluation.id
    db.session.commit()
    return evaluation


def _load(evaluation):
    report = channel_inputs.import_self_assessment(evaluation, _csv(SELF_ASSESSED), "data.csv", actor=None)
    assert (report.stored, report.rejected) == (7, [])
    return report


def _run_keeping_proposed(evaluation, excluded=(), **options):
    """A run that decides every criterion proposed for exclusion: ``excluded``, the others kept (two of the 63
    provinces have data here, so every criterion is proposed)."""
    proposed = [code for code in scoring.proposed_exclusions(evaluation)["node"] if code not in excluded]
    return scoring.run_scoring(evaluation, excluded=list(excluded), kept=proposed, actor=None, **options)


def test_a_file_with_a_bad_row_stores_nothing_and_reports_every_row(scored):
    rows = SELF_ASSESSED + [
        {"Mã đơn vị": "01", "Mã tiêu chí": "AW.3", "Giá trị": "1", "Minh chứng": "x"},
        {"Mã đơn vị": "99", "Mã tiêu chí": "AW.1", "Giá trị": "1", "Minh chứng": "x"},
        {"Mã đơn vị": "02", "Mã tiêu chí": "HR.1", "Giá trị": "75"},
    ]
    report = channel_inputs.import_self_assessment(scored, _csv(rows), "data.csv", actor=None)
    assert report.stored == 0
    assert [(r.line, r.code) for r in report.rejected] == [
        (9, "not_self_assessed"),
        (10, "unknown_unit"),
        (11, "no_evidence"),
    ]
    assert db.session.scalar(select(func.count(SelfAssessment.id))) == 0
    with pytest.raises(ServiceError) as caught:
        channel_inputs.import_self_assessment(scored, b"\xff\xfe\x00garbage", "data.csv", actor=None)
    assert (caught.value.code, caught.value.params) == ("not_utf8", {"row": 1})  # UTF-16, as Excel saves "Unicode text"


def test_a_run_merges_self_assessment_appraisal_and_survey_into_hand_computed_scores(scored, survey):
    _load(scored)
    hanoi = survey.units[0]
    # two citizens of Hà Nội, one aware of the programme (AW.3, share yes × 36 = 18)
    collection.set_quotas(survey.open, f"unit,urban,sex,target\n{hanoi.code},rural,female,10\n".encode(), actor=None)
    collection.submit(survey.open, hanoi, CITIZEN_ANSWERS, "s1", source="api")
    collection.submit(survey.open, hanoi, CITIZEN_ANSWERS | {"q_aw3": "no"}, "s2", source="api")
    # the officer corrects Hà Nội's INFRA.1 from 28.8 to 20 (above its 36 points is refused)
    infra = db.session.scalar(
        select(SelfAssessment).where(SelfAssessment.unit_id == hanoi.id, SelfAssessment.criterion == "INFRA.1")
    )
    with pytest.raises(ServiceError) as caught:
        channel_inputs.appraise(infra, 20, "", actor=_officer())
    assert caught.value.code == "reason_required"
    with pytest.raises(ServiceError):
        channel_inputs.appraise(infra, 37, "too much", actor=_officer())
    channel_inputs.appraise(infra, 20, "Số liệu chưa khớp báo cáo quý IV", actor=_officer())
    db.session.commit()
    run = scoring.run_scoring(scored, excluded=[], actor=None)
    db.session.commit()
    explained = scoring.explanation(run, "01")
    nodes = {node["code"]: node for node in explained["nodes"]}
    # AW.1 27 + AW.2 27 + AW.3 18; AW.E has no expert form and scores 0
    assert nodes["AW"]["points"] == pytest.approx(27 + 27 + 18)
    assert nodes["AW.3"]["source"] == "survey"
    survey_row = nodes["AW.3"]["channels"]["survey"][0]
    assert (survey_row["estimate"], survey_row["respondents"], survey_row["group"]) == (0.5, 2, "citizens")
    assert nodes["INFRA.1"]["source"] == "appraisal" and nodes["INFRA.1"]["points"] == 20
    assert nodes["INFRA.1"]["channels"]["self_assessment"]["points"] == pytest.approx(28.8)
    assert nodes["HR.1"]["missing"] and nodes["HR.1"]["points"] == 0
    # Hà Giang has no survey answer: 0 + 36 + 36 = 72 points of 1000
    assert run.index["02"] == pytest.approx(0.072)
    assert run.index["04"] == 0
    table = scoring.ranking(run)
    assert len(table) == 63 and table.loc[0, "unit"] == "01" and table.loc[1, "unit"] == "02"
    # the 61 provinces with nothing share third place
    assert set(table.loc[2:, "rank"]) == {3}
    assert run.versions["survey"]["sources"] == [
        {"fieldwork": "open", "weighting_run": None, "weighted": False, "responses": 2}
    ]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "scoring.appraise")).all()
    assert (
        len(events) == 1
        and events[0].new_value["self_assessed"] == pytest.approx(28.8)
        and events[0].new_value["appraised_points"] == 20
    )


def test_a_normalised_run_with_its_rank_intervals_and_sensitivity(scored, survey):
    _load(scored)
    hanoi = survey.units[0]
    collection.set_quotas(survey.open, f"unit,urban,sex,target\n{hanoi.code},rural,female,10\n".encode(), actor=None)
    for number, aware in enumerate(["yes", "no", "yes", "no"]):
        collection.submit(survey.open, hanoi, CITIZEN_ANSWERS | {"q_aw3": aware}, f"n{number}", source="api")
    db.session.commit()
    plain = scoring.run_scoring(scored, excluded=[], actor=None)
    normalised = scoring.run_scoring(scored, excluded=[], normalisation="min-max", actor=None)
    db.session.commit()
    assert normalised.normalisation == "min-max"
    # min-max per criterion, over 63 provinces of which 61 have nothing (0 is every criterion's lowest value):
    # INFRA.1 Hà Nội 28.8, Hà Giang 36 → unchanged; where Hà Nội alone has points it becomes the highest, full
    # points: AW.3 (survey .5 of 36) 18 → 36, INST.2 (self-assessed .5 of 54) 27 → 54, DG.4 (survey .75 of 36)
    # 27 → 36: +18 + 27 + 9 = +54 of 1000 (the experts' criteria are 0 everywhere and stay 0)
    after = {node["code"]: node for node in scoring.explanation(normalised, "01")["nodes"]}
    assert [after[code]["points"] for code in ("AW.3", "INST.2", "DG.4", "INFRA.1")] == pytest.approx(
        [36, 54, 36, 28.8]
    )
    assert normalised.index["01"] - plain.index["01"] == pytest.approx(54 / 1000)
    assert scoring.result(normalised).scores.index_value.to_dict() == pytest.approx(normalised.index)
    table = scoring.ranking(plain).set_index("unit")
    # Hà Nội's AW.3 rests on four answers: its index moves in the simulation; Hà Giang's has no noise at all
    assert table.loc["01", "index_low"] < plain.index["01"] < table.loc["01", "index_high"]
    assert table.loc["02", "index_low"] == table.loc["02", "index_high"] == pytest.approx(plain.index["02"])
    assert table.loc["01", ["rank_low", "rank_high"]].tolist() == [1, 1]
    # 61 provinces at 0 share third place: none of the first 60 of them is meaningfully ahead of the next
    close = scoring.not_meaningfully_ahead(plain)
    assert len(close) == 60 and not close & {"01", "02"}
    moved = scoring.sensitivity_of(plain)
    assert len(moved.scenarios) == 3 and moved.summary.loc["01", "worst"] == 1
    with pytest.raises(ServiceError) as caught:
        scoring.run_scoring(scored, excluded=[], normalisation="log", actor=None)
    assert caught.value.code == "unknown_normalisation"


def _officer():
    from survey_app.accounts.models import User

    user = db.session.scalar(select(User).where(User.email == "officer@example.vn"))
    if user is None:
        from survey_app.accounts import operations as accounts

        user = accounts.create_user(
            "officer@example.vn", "Cán bộ chấm điểm", "scoring_officer", "correct horse battery staple"
        )
        db.session.flush()
    return user


def test_exclusions_and_tuyen_quang_rules_and_a_rerun_gives_the_same_numbers(scored):
    _load(scored)
    proposed = scoring.proposed_exclusions(scored)
    # two of 63 provinces reported: every criterion is below half
    assert "SEC.2" in set(proposed["node"]) and (proposed["share"] < 0.5).all()
    # SEC.2 excluded: SEC's 100 points rest on SEC.1 and SEC.E, neither of which Hà Giang has → AW.1 0 +
    # INFRA.1 36 = 36
    run = scoring.run_scoring(scored, excluded=["SEC.2"], note="dưới 50% đơn vị", actor=None)
    assert run.index["02"] == pytest.approx(0.036)
    # Cao Bằng (04) has no subordinate units: on INFRA.1 it gets the best peer's 36
    ruled = scoring.run_scoring(
        scored, excluded=[], rules={"peer_maximum": {"units": ["04"], "criteria": ["INFRA.1"]}}, actor=None
    )
    assert ruled.index["04"] == pytest.approx(0.036) and ruled.number == run.number + 1
    explained = {n["code"]: n for n in scoring.explanation(ruled, "04")["nodes"]}
    assert explained["INFRA.1"]["source"] == "peer_maximum" and explained["INFRA.1"]["rule"] == "peer_maximum"
    again = scoring.run_scoring(scored, excluded=["SEC.2"], actor=None)
    assert again.index == run.index and again.versions == run.versions
    assert scoring.result(again).scores.index_value.to_dict() == pytest.approx(run.index)
    with pytest.raises(ServiceError) as caught:
        scoring.run_scoring(scored, excluded=["NOPE"], actor=None)
    assert caught.value.code == "unknown_criterion"


def test_a_value_entered_in_the_form_is_checked_and_replaces_the_file_value(scored, survey):
    _load(scored)
    hanoi = survey.units[0]
    with pytest.raises(ServiceError) as caught:
        channel_inputs.report_value(scored, hanoi, "INFRA.1", "nhiều", evidence="x", explanation="", actor=None)
    assert caught.value.code == "invalid_value"
    stored = channel_inputs.report_value(scored, hanoi, "INFRA.1", "90", evidence="BC 8", explanation="", actor=None)
    # 90 of 100 × INFRA.1's 36 points
    assert (stored.value, stored.points, stored.source) == (90, pytest.approx(32.4), "form")
    assert len(channel_inputs.assessments(scored, hanoi)) == 4


def test_cyberspace_file_all_or_nothing(scored):
    bad = channel_inputs.import_cyberspace(
        scored,
        _csv([{"unit": "01", "node": "AW", "value": "0.7"}, {"unit": "01", "node": "AW.1", "value": "0.7"}]),
        "c.csv",
        actor=None,
    )
    assert bad.stored == 0 and [(r.line, r.code) for r in bad.rejected] == [(3, "unknown_node")]
    good = channel_inputs.import_cyberspace(
        scored, _csv([{"unit": "01", "node": "AW", "value": "70%"}]), "c.csv", actor=None
    )
    assert good.stored == 1 and channel_inputs.cyberspace_values(scored)[0].value == pytest.approx(0.7)


# --- the web pages --------------------------------------------------------------------------------------


def _upload(client, path, content: bytes, prefix="self", filename="data.csv", **fields):
    token = csrf_token(client, "/scoring/province-2023")
    return client.post(
        path,
        content_type="multipart/form-data",
        data={f"{prefix}-csrf_token": token, f"{prefix}-file": (io.BytesIO(content), filename), **fields},
    )


def test_officers_score_a_round_on_the_web_from_upload_to_explanation(scored, client, create_user, login, run_jobs):
    login(create_user("scoring_officer"))
    bad = SELF_ASSESSED + [{"Mã đơn vị": "02", "Mã tiêu chí": "HR.1", "Giá trị": "75"}]
    response = _upload(client, "/scoring/province-2023/self-assessment", _csv(bad))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Dòng 9: HR.1 cần có tài liệu minh chứng hoặc giải trình bằng văn bản" in page
    assert db.session.scalar(select(func.count(SelfAssessment.id))) == 0
    # the evidence typed as a formula is kept as typed, and exported so that a spreadsheet shows it as text
    rows = SELF_ASSESSED[:-1] + [{**SELF_ASSESSED[-1], "Minh chứng": "=HYPERLINK(\"http://x\")"}]
    assert _upload(client, "/scoring/province-2023/self-assessment", _csv(rows)).status_code == 200
    template = client.get("/scoring/province-2023/template.csv?unit=02").get_data().decode("utf-8-sig")
    assert "Mã tiêu chí" in template and "'=HYPERLINK" in template
    unit_page = client.get("/scoring/province-2023/units/02").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://x&#34;)" in unit_page or "=HYPERLINK(&quot;http://x&quot;)" in unit_page
    # the officer corrects Hà Giang's INFRA.1 (36) to 30
    row = db.session.scalar(
        select(SelfAssessment)
        .join(SelfAssessment.unit)
        .where(SelfAssessment.criterion == "INFRA.1", SelfAssessment.unit.has(code="02"))
    )
    token = csrf_token(client, "/scoring/province-2023/units/02")
    refused = client.post(
        f"/scoring/assessments/{row.id}/appraise", data={"csrf_token": token, "points": "30"}, follow_redirects=True
    )
    assert "Hãy nêu lý do." in refused.get_data(as_text=True)
    client.post(
        f"/scoring/assessments/{row.id}/appraise",
        data={"csrf_token": token, "points": "30", "reason": "Thiếu minh chứng quý IV"},
    )
    response = client.post(
        "/scoring/province-2023/runs",
        data={
            "csrf_token": csrf_token(client, "/scoring/province-2023"),
            "excluded": ["SEC.2"],
            "note": "SEC.2: dưới 50% đơn vị",
        },
    )
    run_path = job_result(client, response, run_jobs)
    run_page = client.get(run_path).get_data(as_text=True)
    # Hà Nội: 27 + 27 + 27 + 28.8 = 109.8 → 0.1098; Hà Giang: 0 + 30 (appraised) + SEC.2 excluded = 30 → 0.0300
    assert "0,1098" in run_page and "0,0300" in run_page
    assert "Khoảng hạng" in run_page and "Độ nhạy theo phương pháp" in run_page and "Chuẩn hóa" in run_page
    run_id = run_path.rsplit("/", 1)[1]
    explained = client.get(f"/scoring/runs/{run_id}/units/02.json").get_json()
    assert explained["rank"] == 2 and explained["index"] == pytest.approx(0.03) and explained["excluded"] == ["SEC.2"]
    infra = next(node for node in explained["nodes"] if node["code"] == "INFRA.1")
    assert infra["source"] == "appraisal" and infra["channels"]["appraisal"]["reason"] == "Thiếu minh chứng quý IV"
    page = client.get(f"/scoring/runs/{run_id}/units/02").get_data(as_text=True)
    assert "hạng 2 trên 63" in page and "Thiếu minh chứng quý IV" in page
    ranking = client.get(f"/scoring/runs/{run_id}/ranking.xlsx")
    table = pd.read_excel(io.BytesIO(ranking.data), dtype={"unit": str})
    assert list(table["unit"][:2]) == ["01", "02"] and table["index"][0] == pytest.approx(0.1098)


def test_viewers_see_scores_but_cannot_change_them(scored, client, create_user, login):
    login(create_user("viewer"))
    assert client.get("/scoring/province-2023").status_code == 200
    response = _upload(client, "/scoring/province-2023/self-assessment", _csv(SELF_ASSESSED))
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(SelfAssessment.id))) == 0


# --- publication ------------------------------------------------------------------------------------------


def test_a_published_run_is_public_with_search_sort_scorecards_and_json(scored, survey, client, create_user, login):
    _load(scored)
    run = _run_keeping_proposed(scored)
    db.session.commit()
    assert client.get("/results/province-2023").status_code == 404
    login(create_user("scoring_officer"))
    token = csrf_token(client, f"/scoring/runs/{run.id}/publish")
    assert client.post(f"/scoring/runs/{run.id}/publish", data={"csrf_token": token, "confirm": "y"}).status_code == 302
    db.session.refresh(scored)
    assert scored.published_at is not None and scored.framework.frozen
    # the round's inputs are frozen now
    with pytest.raises(ServiceError) as caught:
        channel_inputs.import_self_assessment(scored, _csv(SELF_ASSESSED), "x.csv", actor=None)
    assert caught.value.code == "round_published"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})

    page = client.get("/results/province-2023").get_data(as_text=True)
    # Hà Nội 27 + 27 + 27 + 28.8 = 109.8 → 0,1098 first; Hà Giang 0 + 36 + 36 = 72 → 0,0720
    assert "0,1098" in page and "0,0720" in page and "<svg" in page
    found = client.get("/results/province-2023?q=ha noi").get_data(as_text=True)
    assert "Hà Nội" in found and "Hà Giang" not in found
    by_name = client.get("/results/province-2023?sort=name").get_data(as_text=True)
    assert by_name.index("An Giang") < by_name.index("Bà Rịa") < by_name.index("Hà Nội")
    card = client.get("/results/province-2023/units/01").get_data(as_text=True)
    assert "hạng 1 trên 63" in card and "QĐ 101/QĐ-UBND" not in card
    ranking = client.get("/api/v1/results/province-2023").get_json()
    assert ranking["units"][0]["unit"] == "01" and ranking["units"][0]["index"] == pytest.approx(0.1098)
    unit = client.get("/api/v1/results/province-2023/units/02").get_json()
    assert unit["rank"] == 2 and unit["index"] == pytest.approx(0.072) and unit["previous"] is None
    aw1 = next(node for node in unit["nodes"] if node["code"] == "AW.1")
    assert "explanation" not in aw1["channels"]["self_assessment"]
    assert client.get("/api/v1/results/province-2023/units/99").status_code == 404
    assert client.get("/api/v1/results").get_json()["rounds"][0]["code"] == "province-2023"
    exported = client.get("/results/province-2023/ranking.csv")
    assert exported.headers["Content-Disposition"].startswith("attachment")
    # the PDF reports, per level and per unit, carry the same numbers in Vietnamese notation
    level = client.get("/results/province-2023/ranking.pdf")
    assert level.mimetype == "application/pdf" and level.headers["Content-Disposition"].startswith("attachment")
    text = _pdf_text(level.data)
    assert "Hà Nội" in text and "0,1098" in text and "0,0720" in text and "Khoảng hạng" in text
    report = client.get("/results/province-2023/units/02.pdf")
    text = _pdf_text(report.data)
    assert "Hà Giang" in text and "hạng 2 trên 63" in text and "INFRA.1" in text
    # the public report leaves the self-assessment's free text out, like the scorecard
    assert "Chưa thành lập" not in text
    assert client.get("/results/province-2023/units/99.pdf").status_code == 404


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_last_years_value_of_a_merged_unit_is_its_predecessors_average(scored, survey, client):
    from dataclasses import replace

    from questionnaires import read_yaml
    from survey_app.core.demo import demo_framework_path
    from survey_app.frameworks import operations as frameworks

    _load(scored)
    publication.publish(_run_keeping_proposed(scored), actor=None)
    later, _ = frameworks.store_framework(
        replace(read_yaml(demo_framework_path()), code="province-2025", year=2025, last_year=None)
    )
    merged = rounds.create_round(
        "province-2025",
        2025,
        "DTI 2025",
        "DTI 2025",
        later,
        units.load_shipped_unit_lists()["provinces-2025"],
        actor=None,
    )
    previous = publication.previous_values(merged)
    new_unit = next(u for u in merged.unit_list.units if {p.code for p in u.predecessors} >= {"02"})
    olds = [p.code for p in new_unit.predecessors]
    # Hà Giang's 0.072 (0 + 36 + 36 of 1000) averaged with its partners' 0 from 2023
    assert previous[new_unit.code]["from"] == olds and previous[new_unit.code]["year"] == 2023
    assert previous[new_unit.code]["index"] == pytest.approx(0.072 / len(olds))
    # both series side by side once the merged round is published
    run = _run_keeping_proposed(merged)
    publication.publish(run, actor=None)
    series = {row["unit"]: row for row in publication.merger_series(run)}
    row = series[new_unit.code]
    assert row["previous_index"] == pytest.approx(0.072 / len(olds)) and row["index"] == 0
    # Hà Giang's INFRA (INFRA.1's 36 of 100 points → .36) averaged with its partners' 0
    assert row["previous_values"]["INFRA"] == pytest.approx(0.36 / len(olds))
    # Hà Giang was second in 2023 (0.072), its partners shared third
    assert {old["unit"]: old["rank"] for old in row["predecessors"]} == {
        code: 2 if code == "02" else 3 for code in olds
    }
    # a unit that kept its borders is not a merger
    assert all(len(entry["predecessors"]) >= 2 for entry in series.values())
    db.session.commit()
    page = client.get("/results/province-2025").get_data(as_text=True)
    assert "Đơn vị hình thành do hợp nhất" in page and "Hà Giang" in page


def test_published_pages_are_rendered_once_but_their_frame_and_later_targets_are_not_cached(
    app, runner, client, create_user, login
):
    """The public ranking's content is kept per published run; who is logged in, and strategic targets reported
    after publication, still show."""
    from survey_app.publication import targets

    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    anonymous = app.test_client()
    first = anonymous.get("/results/province-2022-demo").get_data(as_text=True)
    assert "Đăng xuất" not in first
    login(create_user("administrator"))
    staff_page = client.get("/results/province-2022-demo").get_data(as_text=True)
    assert "Đăng xuất" in staff_page
    assert "Đăng xuất" not in app.test_client().get("/results/province-2022-demo").get_data(as_text=True)

    indicator = targets.indicator("1.6")
    targets.report_value(indicator, 2022, 4, "77,7", actor=None)
    db.session.commit()
    assert "77,7% (quý 4)" in anonymous.get("/results/province-2022-demo").get_data(as_text=True)
    # what people search for is rendered for them, and does not stay
    from survey_app.publication.views import results

    before = len(results._PUBLISHED_CACHE)
    for n in range(20):
        anonymous.get(f"/results/province-2022-demo?q=x{n}&sort=nonsense{n}")
    assert len(results._PUBLISHED_CACHE) == before


# --- publishing: a confirmation, and decisions on every proposed exclusion first ----------------------------

SURVEY_CRITERIA = ["AW.3", "INFRA.2", "HR.2", "DG.3", "DG.4", "DE.1", "DE.2", "DS.1", "DS.2"]
EXPERT_CRITERIA = ["AW.E", "INST.E", "INFRA.E", "HR.E", "SEC.E", "DG.E", "DE.E", "DS.E"]


def _publication_state(evaluation):
    from survey_app.scoring.models import ScoringRun

    db.session.expire_all()
    return (
        evaluation.published_at,
        evaluation.status,
        evaluation.framework.frozen,
        db.session.scalar(select(func.count(ScoringRun.id)).where(ScoringRun.published_at.is_not(None))),
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "scoring.publish")),
    )


def test_a_run_with_an_undecided_proposed_exclusion_is_not_published(scored, client, create_user, login):
    from tests.conftest import row_counts

    _load(scored)
    proposed = list(scoring.proposed_exclusions(scored)["node"])
    # the officer excluded SEC.2 and said nothing about the other criteria fewer than half of the units have
    run = scoring.run_scoring(scored, excluded=["SEC.2"], actor=None)
    db.session.commit()
    assert [entry["decision"] for entry in publication.exclusion_decisions(run)] == [
        "excluded" if code == "SEC.2" else None for code in proposed
    ]
    with pytest.raises(ServiceError) as caught:
        publication.publish(run, actor=None)
    assert caught.value.code == "exclusions_undecided"
    assert caught.value.params["criteria"] == [code for code in proposed if code != "SEC.2"]
    db.session.rollback()

    login(create_user("scoring_officer"))
    client.get("/?lang=en")
    before, counts = _publication_state(scored), row_counts()
    assert before == (None, "scoring", False, 0, 0)
    path = f"/scoring/runs/{run.id}/publish"
    page = client.get(path).get_data(as_text=True)
    # the confirmation page says why it cannot publish, and offers no form to do it
    assert "Publishing is refused while a criterion proposed for exclusion has no decision: AW.1, AW.2" in page
    assert 'name="confirm"' not in page and "HR.2 (<strong" in page
    refused = client.post(path, data={"csrf_token": csrf_token(client, path), "confirm": "y"})
    assert refused.status_code == 400
    assert "Not published: no decision on the criteria proposed for exclusion AW.1, AW.2, AW.3" in refused.get_data(
        as_text=True
    )
    assert _publication_state(scored) == before and row_counts() == counts
    assert client.get("/results/province-2023").status_code == 404


def test_publishing_shows_what_becomes_public_and_asks_to_confirm(scored, client, create_user, login):
    _load(scored)
    undecided = scoring.run_scoring(scored, excluded=[], actor=None)
    run = _run_keeping_proposed(scored, excluded=["SEC.2"], note="SEC.2: dưới 50% đơn vị")
    db.session.commit()
    assert {entry["decision"] for entry in publication.exclusion_decisions(run)} == {"excluded", "kept"}
    assert run.versions["exclusions"]["kept"] == sorted(set(scoring.proposed_exclusions(scored)["node"]) - {"SEC.2"})
    login(create_user("scoring_officer"))
    client.get("/?lang=en")
    # the run page links to the confirmation; it no longer publishes in one click
    run_page = client.get(f"/scoring/runs/{run.id}").get_data(as_text=True)
    path = f"/scoring/runs/{run.id}/publish"
    assert f'href="{path}"' in run_page and f'action="{path}"' not in run_page
    page = client.get(path).get_data(as_text=True)
    assert "Publish run 2?" in page and "DTI 2023 (province-2023)" in page
    assert "<dt>Units ranked</dt><dd>63</dd>" in page
    version = scored.framework
    assert f"{version.code} {version.year} v{version.version}" in page
    assert "SEC.2 (excluded)" in page and "AW.3 (kept in the ranking)" in page
    assert "inputs freeze" in page and "It cannot be undone" in page
    assert 'name="confirm"' in page and 'name="csrf_token"' in page
    before = _publication_state(scored)
    # without the box ticked: the page again, nothing published
    unconfirmed = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert unconfirmed.status_code == 400 and "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert _publication_state(scored) == before
    published = client.post(path, data={"csrf_token": csrf_token(client, path), "confirm": "y"})
    assert published.status_code == 302 and published.headers["Location"] == f"/scoring/runs/{run.id}"
    published_at, status, frozen, runs, events = _publication_state(scored)
    assert published_at is not None and (status, frozen, runs, events) == ("published", True, 1, 1)
    assert client.get("/results/province-2023").status_code == 200
    # the round has its results now: the other run's page says so and offers no form
    other = client.get(f"/scoring/runs/{undecided.id}/publish").get_data(as_text=True)
    assert "results are published: its inputs can no longer change" in other and 'name="confirm"' not in other


def test_a_criterion_cannot_be_both_excluded_and_kept(scored, client, create_user, login):
    _load(scored)
    with pytest.raises(ServiceError) as caught:
        scoring.run_scoring(scored, excluded=["SEC.2"], kept=["SEC.2", "AW.1"], actor=None)
    assert caught.value.code == "excluded_and_kept" and caught.value.params == {"criterion": "SEC.2"}
    with pytest.raises(ServiceError) as caught:
        scoring.run_scoring(scored, excluded=[], kept=["NOPE"], actor=None)
    assert caught.value.code == "unknown_criterion"
    login(create_user("scoring_officer"))
    client.get("/?lang=en")
    form = client.get("/scoring/province-2023").get_data(as_text=True)
    assert 'name="kept" type="checkbox" value="SEC.2"' in form or 'name="kept" value="SEC.2"' in form
    response = client.post(
        "/scoring/province-2023/runs",
        follow_redirects=True,
        data={"csrf_token": csrf_token(client, "/scoring/province-2023"), "excluded": ["SEC.2"], "kept": ["SEC.2"]},
    )
    assert "SEC.2 cannot be both excluded and kept." in response.get_data(as_text=True)
    assert scoring.runs(scored) == []


def test_a_scorecard_names_the_missing_survey_criteria_instead_of_calling_the_rank_exact(scored, client):
    _load(scored)
    # the survey criteria are kept although no province answered: every unit scores 0 on them
    publication.publish(_run_keeping_proposed(scored, excluded=["SEC.2"]), actor=None)
    db.session.commit()
    card = client.get("/api/v1/results/province-2023/units/02").get_json()
    # Hà Giang reported AW.1 and INFRA.1 (SEC.2 is excluded): the other self-assessed criteria are missing too
    assert card["missing"] == [
        {"channel": "survey", "criteria": SURVEY_CRITERIA},
        {
            "channel": "self_assessment",
            "criteria": [
                "AW.2",
                "INST.1",
                "INST.2",
                "INFRA.3",
                "HR.1",
                "SEC.1",
                "DG.1",
                "DG.2",
                "DG.5",
                "DE.3",
                "DS.3",
            ],
        },
        # no expert panel in this round: every main index's expert part is missing
        {"channel": "expert", "criteria": EXPERT_CRITERIA},
    ]
    assert not card["interval"]["noisy"]
    page = client.get("/results/province-2023/units/02?lang=en").get_data(as_text=True)
    assert (
        "This unit has no data on these criteria, each scored 0: Sociological survey ("
        + ", ".join(SURVEY_CRITERIA)
        + "); Self-assessment (AW.2, "
    ) in page
    assert "its rank is as computed" not in page
    report = _pdf_text(client.get("/results/province-2023/units/02.pdf?lang=en").data)
    assert "This unit has no data on these criteria" in report and "rank is as computed" not in report


def test_a_survey_estimate_shows_its_change_since_last_years_published_round(scored, survey, client):
    import math

    hanoi = survey.units[0]
    earlier = rounds.create_round(
        "province-2022", 2022, "DTI 2022", "DTI 2022", survey.framework, scored.unit_list, actor=None
    )
    survey.invited.round_id = earlier.id
    # 2022: two citizens of Hà Nội, one aware (AW.3 = 1/2; values 1, 0: se = sqrt(0.5 / 2) = 0.5)
    collection.submit(survey.invited, hanoi, CITIZEN_ANSWERS, "a1", source="api")
    collection.submit(survey.invited, hanoi, CITIZEN_ANSWERS | {"q_aw3": "no"}, "a2", source="api")
    first = _run_keeping_proposed(earlier)
    publication.publish(first, actor=None)
    # 2023: three of four aware (3/4; values 1, 1, 1, 0: s² = 0.25, se = sqrt(0.25 / 4) = 0.25)
    collection.set_quotas(survey.open, f"unit,urban,sex,target\n{hanoi.code},rural,female,10\n".encode(), actor=None)
    for number, aware in enumerate(["yes", "yes", "yes", "no"]):
        collection.submit(survey.open, hanoi, CITIZEN_ANSWERS | {"q_aw3": aware}, f"b{number}", source="api")
    run = _run_keeping_proposed(scored)
    db.session.commit()
    row = next(n for n in scoring.explanation(run, "01")["nodes"] if n["code"] == "AW.3")["channels"]["survey"][0]
    assert row["estimate"] == pytest.approx(0.75) and row["interval"] == "logit"
    # two independent samples: the difference 0.25 has se sqrt(0.5² + 0.25²), z = 0.447, p = 0.655
    se = math.sqrt(0.5**2 + 0.25**2)
    assert row["change"]["previous"] == pytest.approx(0.5) and row["change"]["difference"] == pytest.approx(0.25)
    assert row["change"]["se"] == pytest.approx(se)
    assert row["change"]["p_value"] == pytest.approx(math.erfc(0.25 / se / math.sqrt(2)))
    assert row["change"]["significant"] is False
    # last year's own run has no earlier round to compare with
    before = next(n for n in scoring.explanation(first, "01")["nodes"] if n["code"] == "AW.3")
    assert before["channels"]["survey"][0]["change"] is None
    publication.publish(run, actor=None)
    db.session.commit()
    card = client.get("/results/province-2023/units/01").get_data(as_text=True)
    assert "So với năm trước (0,5): +0,25" in card and "nằm trong sai số chọn mẫu" in card and "(logit)" in card


def test_a_run_chooses_what_excluding_a_criterion_does_and_keeps_its_choice(scored, client, create_user, login):
    _load(scored)
    # SEC.2 (36 points) out: under "remove" its points leave the total of 1,000 for everyone, so Hà Nội's 109.8
    # points count over 964 and Hà Giang's 72 - 36 over 964
    removed = _run_keeping_proposed(scored, excluded=["SEC.2"], exclusion="remove")
    assert removed.versions["exclusions"]["reading"] == "remove"
    assert removed.index["01"] == pytest.approx(109.8 / 964) and removed.index["02"] == pytest.approx(36 / 964)
    # the stored reading is what recomputing the run uses
    assert scoring.result(removed).scores.index_value["01"] == pytest.approx(109.8 / 964)
    # the framework's own reading (redistribute) by default: the parent keeps its points
    shared = _run_keeping_proposed(scored, excluded=["SEC.2"])
    assert shared.versions["exclusions"]["reading"] == "redistribute"
    assert shared.index["01"] != pytest.approx(109.8 / 964)
    with pytest.raises(ServiceError) as caught:
        _run_keeping_proposed(scored, exclusion="both")
    assert caught.value.code == "unknown_exclusion_reading"
    db.session.commit()
    login(create_user("scoring_officer"))
    page = client.get(f"/scoring/runs/{removed.id}").get_data(as_text=True)
    assert "SEC.2" in page and "điểm của tiêu chí bị trừ khỏi tổng điểm của mọi đơn vị" in page


def test_ministries_are_ranked_in_their_two_groups_beside_the_whole_ranking(app, client):
    from survey_app.frameworks import operations as frameworks

    ministries = units.load_shipped_unit_lists()["ministries-2020"]
    version = next(v for v, _ in frameworks.load_shipped_frameworks() if v.code == "national-ministry")
    evaluation = rounds.create_round("ministry-2020", 2020, "DTI bộ 2020", "DTI 2020", version, ministries, actor=None)
    rows = [
        # Bộ Công an and Bộ Ngoại giao provide online services; Thanh tra Chính phủ and Văn phòng Chính phủ do not
        {"Mã đơn vị": "BCA", "Mã tiêu chí": "AW", "Giá trị": "0,9", "Minh chứng": "x"},
        {"Mã đơn vị": "BNG", "Mã tiêu chí": "AW", "Giá trị": "0,5", "Minh chứng": "x"},
        {"Mã đơn vị": "TTCP", "Mã tiêu chí": "AW", "Giá trị": "0,7", "Minh chứng": "x"},
        {"Mã đơn vị": "VPCP", "Mã tiêu chí": "AW", "Giá trị": "0,6", "Minh chứng": "x"},
    ]
    channel_inputs.import_self_assessment(evaluation, _csv(rows), "data.csv", actor=None)
    run = _run_keeping_proposed(evaluation)
    table = scoring.ranking(run).set_index("unit")
    # overall: BCA 1, TTCP 2, VPCP 3, BNG 4; within the groups: BCA 1, BNG 2 | TTCP 1, VPCP 2
    assert table.loc[["BCA", "TTCP", "VPCP", "BNG"], "rank"].tolist() == [1, 2, 3, 4]
    assert table.loc[["BCA", "BNG", "TTCP", "VPCP"], "group_rank"].tolist() == [1, 2, 1, 2]
    assert table.loc["TTCP", "group"] == "no_online_services" and table.loc["BCA", "group"] == "online_services"
    publication.publish(run, actor=None)
    db.session.commit()
    page = client.get("/results/ministry-2020").get_data(as_text=True)
    assert "không cung cấp dịch vụ công trực tuyến" in page
    grouped = client.get("/results/ministry-2020?group=no_online_services").get_data(as_text=True)
    assert "Thanh tra Chính phủ" in grouped and "Bộ Công an" not in grouped
    # an unknown group is the whole ranking
    assert "Bộ Công an" in client.get("/results/ministry-2020?group=nothing").get_data(as_text=True)


def test_a_run_asked_for_on_the_web_is_a_job_that_keeps_its_rank_simulation_and_sensitivity(
    scored, client, create_user, login, run_jobs, monkeypatch
):
    from survey_app.scoring.models import ScoringRun

    _load(scored)
    login(create_user("scoring_officer"))
    proposed = [code for code in scoring.proposed_exclusions(scored)["node"] if code != "SEC.2"]
    response = client.post(
        "/scoring/province-2023/runs",
        data={"csrf_token": csrf_token(client, "/scoring/province-2023"), "excluded": ["SEC.2"], "kept": proposed},
    )
    run_path = job_result(client, response, run_jobs)
    run = db.session.get(ScoringRun, int(run_path.rsplit("/", 1)[1]))
    computed_uncertainty, computed_sensitivity = scoring.uncertainty(run), scoring.sensitivity_of(run)
    assert set(run.derived) == {"uncertainty", "sensitivity"}

    # a process that never computed the run reads both from it, computing neither
    def never(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(scoring, "simulate_ranks", never)
    monkeypatch.setattr(scoring, "sensitivity", never)
    scoring._RESULTS.clear()
    stored_uncertainty, stored_sensitivity = scoring.uncertainty(run), scoring.sensitivity_of(run)
    pd.testing.assert_frame_equal(stored_uncertainty.units, computed_uncertainty.units)
    pd.testing.assert_frame_equal(stored_uncertainty.neighbours, computed_uncertainty.neighbours)
    pd.testing.assert_frame_equal(stored_sensitivity.ranks, computed_sensitivity.ranks)
    pd.testing.assert_frame_equal(stored_sensitivity.summary, computed_sensitivity.summary)
    assert stored_sensitivity.scenarios == computed_sensitivity.scenarios
    scoring._RESULTS.clear()
    page = client.get(run_path).get_data(as_text=True)
    assert "Khoảng hạng" in page and "Độ nhạy theo phương pháp" in page
