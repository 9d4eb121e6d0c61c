"""A scoring year end to end, through the service's own doors: survey responses posted to the JSON API, expert
forms filled through their personal links, the self-assessment and cyberspace files uploaded, an appraisal, a
run computed and published by an officer, and the public ranking and scorecard read back, with the numbers
computed by hand below.

The framework is the demo's criteria under Decision 1726's channel shares for the whole tree (the tree's 1000
points are the assessed 80%, total 1250; cyberspace and experts 125 each), so every channel moves the index:

Hà Nội (01):
- self-assessed AW.1 yes 30, AW.2 yes 30, INST.2 0.5 of the 1.0 target → 30, INFRA.1 80 of 100 → 32: 122;
- survey, four citizens (unweighted): AW.3 two of four aware .5 × 40 = 20, INFRA.2 no 0, HR.2 used a service
  50, DG.3 yes 40, DG.4 answer 4 on 1-5 → .75 × 40 = 30, DS.1 yes 50, DS.2 no 0: 190;
- cyberspace .6 on every main index → .6 × 125 = 75;
- experts: 15 forms, 14 scoring 4 on every item and one scoring 1; the 10% trimmed mean drops the 1 → 4 on
  1-5 → .75 × 125 = 93.75;
- (122 + 190 + 75 + 93.75) / 1250 = 0.3846.
Hà Giang (02): AW.1 no 0, INFRA.1 100 → 40 appraised down to 30, SEC.2 yes 40: 70; cyberspace .4 → 50; no
survey answer, no panel: (70 + 50) / 1250 = 0.096.
The other 61 provinces have nothing: 0, sharing third place.
"""

import io
import re

import pandas as pd
import pytest
from sqlalchemy import select

from questionnaires import RespondentGroup, framework_from_dict, framework_to_dict, read_bank, read_yaml
from survey_app.core.demo import demo_bank_path, demo_framework_path
from survey_app.core.extensions import db
from survey_app.experts.models import PanelSeat
from survey_app.frameworks import operations as frameworks
from survey_app.scoring.models import SelfAssessment
from survey_app.survey import operations as collection
from survey_app.survey.models import FieldworkMode
from tests.app.scoring.test_scoring import SELF_ASSESSED, _csv, _pdf_text
from tests.conftest import CITIZEN_ANSWERS, csrf_token, expert_panel, job_result

ROUND = "e2e-2023"
ITEMS = ("AW.1", "AW.2", "INST.1", "DG.4", "DE.3")


def _framework():
    """The demo's criteria as Decision 1726 weighs them: the experts' share is the framework's channel share, so
    the demo's expert-only criteria (".E", 10% of each main index) leave the tree, the other criteria take back
    their full points (the demo's times 10 / 9: AW.1 27 → 30) and the experts score ``ITEMS`` beside the
    self-assessment and the survey, as the 1726 ministry framework lists them."""
    shape = framework_to_dict(read_yaml(demo_framework_path()))
    for group in shape["nodes"]:
        for main in group["children"]:
            if not main.get("scored", True):
                continue
            main["children"] = [node for node in main["children"] if not node["code"].endswith(".E")]
            for node in main["children"]:
                node["points"] = round(node["points"] * 10 / 9, 9)
                for step in node["scoring"].get("steps", []):
                    step["points"] = round(step["points"] * 10 / 9, 9)
                if node["code"] in ITEMS:
                    node["channels"].append("expert")
    shape.update(
        code="e2e-1726",
        total_points=1250,
        channel_shares={"assessment": 0.8, "cyberspace": 0.1, "expert": 0.1, "level": "framework"},
    )
    version, _ = frameworks.store_framework(framework_from_dict(shape))
    return version


def _upload(client, path, content: bytes, prefix: str):
    token = csrf_token(client, f"/scoring/{ROUND}")
    return client.post(
        path,
        content_type="multipart/form-data",
        data={f"{prefix}-csrf_token": token, f"{prefix}-file": (io.BytesIO(content), "data.csv")},
    )


def test_a_year_from_raw_inputs_to_the_published_ranking(app, client, create_user, login, run_jobs):
    version = _framework()
    evaluation, panel, tokens = expert_panel(version, round_code=ROUND)
    bank = read_bank(demo_bank_path())
    questionnaire, _ = collection.publish_questionnaire(
        version,
        RespondentGroup.CITIZENS,
        bank,
        code="e2e-citizens",
        name_vi="Phiếu người dân",
        name_en="Citizens",
        actor=None,
    )
    provinces = evaluation.unit_list.units[:3]
    fieldwork = collection.create_fieldwork(
        "e2e-open", questionnaire, FieldworkMode.OPEN_LINK, provinces, name_vi="Khảo sát mở", actor=None
    )
    fieldwork.round_id = evaluation.id
    _, key = collection.create_api_key("partner", [fieldwork], actor=None)
    db.session.commit()

    # --- raw survey responses through the JSON API (one sent twice: stored once) ---------------------------
    headers = {"Authorization": f"Bearer {key}"}
    for number, aware in enumerate(["yes", "no", "yes", "no"]):
        body = {"submission_id": f"r{number}", "unit": "01", "answers": CITIZEN_ANSWERS | {"q_aw3": aware}}
        assert client.post("/api/v1/fieldworks/e2e-open/responses", json=body, headers=headers).status_code == 201
    assert client.post("/api/v1/fieldworks/e2e-open/responses", json=body, headers=headers).status_code in (200, 201)

    # --- expert forms through their personal links ---------------------------------------------------------
    for position, (seat_id, token) in enumerate(tokens.items()):
        expert = app.test_client()
        location = expert.get(f"/e/{token}").headers["Location"]
        expert.post(f"{location}/consent", data={"csrf_token": csrf_token(expert, location)})
        score = "1" if position == 0 else "4"
        answers = {f"score-{code}": score for code in ITEMS}
        response = expert.post(
            f"{location}/submit",
            data={"csrf_token": csrf_token(expert, location), "submission_id": f"x{seat_id}", **answers},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    assert (
        sum(
            seat.form is not None and seat.form.submitted_at is not None
            for seat in db.session.scalars(select(PanelSeat).where(PanelSeat.panel_id == panel.id))
        )
        == 15
    )

    # --- the officer uploads the files, appraises, runs and publishes --------------------------------------
    login(create_user("scoring_officer"))
    assert _upload(client, f"/scoring/{ROUND}/self-assessment", _csv(SELF_ASSESSED), "self").status_code == 200
    cyberspace = [
        {"Mã đơn vị": unit, "Mã chỉ số": node, "Giá trị": value}
        for unit, value in (("01", "0,6"), ("02", "40%"))
        for node in ("AW", "INST", "INFRA", "HR", "SEC", "DG", "DE", "DS")
    ]
    assert _upload(client, f"/scoring/{ROUND}/cyberspace", _csv(cyberspace), "cyber").status_code == 200
    infra = db.session.scalar(
        select(SelfAssessment)
        .join(SelfAssessment.unit)
        .where(SelfAssessment.criterion == "INFRA.1", SelfAssessment.unit.has(code="02"))
    )
    client.post(
        f"/scoring/assessments/{infra.id}/appraise",
        data={
            "csrf_token": csrf_token(client, f"/scoring/{ROUND}/units/02"),
            "points": "30",
            "reason": "Số liệu chưa khớp",
        },
    )
    # every criterion proposed for exclusion is kept, as the officer decides on the round page
    round_page = client.get(f"/scoring/{ROUND}").get_data(as_text=True)
    proposed = re.findall(r'name="kept" type="checkbox" value="([^"]+)"', round_page)
    response = client.post(
        f"/scoring/{ROUND}/runs",
        data={"csrf_token": csrf_token(client, f"/scoring/{ROUND}"), "normalisation": "none", "kept": proposed},
    )
    run_path = job_result(client, response, run_jobs)
    assert (
        client.post(
            f"{run_path}/publish", data={"csrf_token": csrf_token(client, f"{run_path}/publish"), "confirm": "y"}
        ).status_code
        == 302
    )
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})

    # --- the public reads it back ----------------------------------------------------------------------------
    ranking = client.get(f"/api/v1/results/{ROUND}").get_json()["units"]
    by_unit = {row["unit"]: row for row in ranking}
    assert by_unit["01"]["index"] == pytest.approx((122 + 190 + 75 + 93.75) / 1250)
    assert by_unit["02"]["index"] == pytest.approx((70 + 50) / 1250)
    assert [by_unit[code]["rank"] for code in ("01", "02", "04", "96")] == [1, 2, 3, 3]
    assert round(by_unit["01"]["index"], 4) == 0.3846
    card = client.get(f"/api/v1/results/{ROUND}/units/01").get_json()
    nodes = {node["code"]: node for node in card["nodes"]}
    survey = nodes["AW.3"]["channels"]["survey"][0]
    assert (survey["estimate"], survey["respondents"], nodes["AW.3"]["points"]) == (0.5, 4, 20)
    expert = nodes["AW.1"]["channels"]["expert"]
    assert (expert["experts"], expert["score"]) == (15, 4)
    assert nodes["INFRA.1"]["source"] == "self_assessment" and nodes["INFRA.1"]["points"] == pytest.approx(32)
    # the survey's four answers make Hà Nội's index uncertain; its lead is still certain
    assert card["interval"]["index_low"] < card["index"] < card["interval"]["index_high"]
    assert (card["interval"]["rank_low"], card["interval"]["rank_high"]) == (1, 1)
    page = client.get(f"/results/{ROUND}").get_data(as_text=True)
    assert "0,3846" in page and "0,0960" in page
    report = _pdf_text(client.get(f"/results/{ROUND}/units/02.pdf").data)
    assert "0,0960" in report and "hạng 2 trên 63" in report
    exported = pd.read_csv(io.BytesIO(client.get(f"/results/{ROUND}/ranking.csv").data), dtype={"unit": str})
    assert exported.loc[0, "unit"] == "01" and exported.loc[0, "index"] == pytest.approx(0.3846, abs=5e-5)
