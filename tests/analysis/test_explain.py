"""The explanation of a unit's result, against the hand-computed scores of a two-unit example."""

import pandas as pd
import pytest

from analysis import EstimationError
from analysis.explain import explain
from analysis.index import compute
from analysis.merge import criterion_points
from tests.analysis.test_inputs import FRAMEWORK, UNITS

ASSESSED = pd.DataFrame(
    {
        "unit": ["u1", "u1", "u1", "u2", "u2"],
        "criterion": ["A1", "A2", "B1", "A1", "B1"],
        "value": [1.0, 60.0, 12.0, 1.0, 5.0],
        "points": [10.0, 15.0, 20.0, 10.0, 10.0],
        "appraised_points": [None, 12.0, None, None, None],
        "appraisal_reason": [None, "Báo cáo thiếu quý IV", None, None, None],
        "evidence": ["QĐ 1", "BC 2", "x", "QĐ 3", "x"],
        "explanation": ["", "", "", "", ""],
    }
)
SURVEY = pd.DataFrame(
    {
        "criterion": ["A3", "A3"],
        "unit": ["u1", "u2"],
        "group": ["citizens", "citizens"],
        "weighted": [0.7, 0.4],
        "ci_low": [0.6, 0.3],
        "ci_high": [0.8, 0.5],
        "respondents": [120, 95],
        "points": [14.0, 8.0],
    }
)
EXPERT = pd.DataFrame(
    {"unit": ["u1", "u2"], "item": ["B2", "B2"], "n": [18, 16], "trimmed_mean": [4.0, 3.0], "points": [7.5, 5.0]}
)


def test_the_path_from_rank_to_every_criterion():
    points = criterion_points(
        FRAMEWORK, UNITS, assessed=ASSESSED, survey=SURVEY, expert=EXPERT.rename(columns={"item": "node"})
    )
    scores = compute(FRAMEWORK, points)
    # u1: A = 10 + 12 (appraised) + 14 = 36, B = 20 + 7.5 = 27.5; no external rows for the pillar → 63.5
    # u2: A = 10 + 0 (A2 missing) + 8 = 18, B = 10 + 5 = 15 → 33
    assert scores.index_value.to_dict() == pytest.approx({"u1": 0.635, "u2": 0.33})
    found = explain(
        FRAMEWORK,
        scores,
        "u2",
        points=points,
        assessed=ASSESSED,
        survey=SURVEY,
        expert=EXPERT,
        agreement=pd.DataFrame({"unit": ["u2"], "kendall_w": [0.42], "raters": [16]}),
    )
    assert (found["index"], found["rank"], found["units"]) == (pytest.approx(0.33), 2, 2)
    nodes = {node["code"]: node for node in found["nodes"]}
    assert nodes["A"]["points"] == pytest.approx(18) and nodes["A"]["value"] == pytest.approx(18 / 50)
    assert nodes["A"]["rank"] == 2 and nodes["A"]["median"] == pytest.approx((36 / 50 + 18 / 50) / 2)
    assert nodes["A2"]["missing"] and nodes["A2"]["source"] is None and nodes["A2"]["channels"] == {}
    assert nodes["A3"]["source"] == "survey"
    assert nodes["A3"]["channels"]["survey"] == [
        {
            "group": "citizens",
            "estimate": 0.4,
            "ci_low": 0.3,
            "ci_high": 0.5,
            "respondents": 95,
            "points": 8.0,
            "interval": "normal",
            "change": None,
        }
    ]
    assert nodes["B2"]["channels"]["expert"] == {"experts": 16, "score": 3.0, "points": 5.0, "agreement": 0.42}
    first = explain(FRAMEWORK, scores, "u1", points=points, assessed=ASSESSED)
    a2 = {node["code"]: node for node in first["nodes"]}["A2"]
    assert a2["source"] == "appraisal" and a2["points"] == 12
    assert a2["channels"]["self_assessment"]["points"] == 15
    assert a2["channels"]["appraisal"] == {"points": 12.0, "reason": "Báo cáo thiếu quý IV"}
    # u1's main indices against the median of the two: A 0.72 vs 0.54 (+0.18), B 27.5/30 vs (27.5 + 15)/60 (+0.2083)
    assert [gap["code"] for gap in first["strongest"]] == ["B", "A"]
    assert first["strongest"][0]["difference"] == pytest.approx(27.5 / 30 - 42.5 / 60)
    assert [gap["code"] for gap in first["weakest"]] == ["A", "B"]


def test_a_survey_estimate_shows_its_change_since_last_year_with_the_standard_error_of_two_samples():
    points = criterion_points(FRAMEWORK, UNITS, survey=SURVEY)
    scores = compute(FRAMEWORK, points)
    now = SURVEY.assign(se=[0.03, 0.05], interval="logit")
    before = now.assign(weighted=[0.6, 0.38], se=[0.04, 0.05])
    found = explain(FRAMEWORK, scores, "u1", points=points, survey=now, previous_survey=before)
    change = {node["code"]: node for node in found["nodes"]}["A3"]["channels"]["survey"][0]["change"]
    # 0.7 - 0.6 with se sqrt(0.03² + 0.04²) = 0.05: z = 2, p = 2 (1 - Φ(2)) = 0.0455 < 0.05
    assert change["previous"] == 0.6 and change["difference"] == pytest.approx(0.1)
    assert change["se"] == pytest.approx(0.05) and change["p_value"] == pytest.approx(0.04550026389635842)
    assert change["significant"] is True
    second = explain(FRAMEWORK, scores, "u2", points=points, survey=now, previous_survey=before)
    change = {node["code"]: node for node in second["nodes"]}["A3"]["channels"]["survey"][0]["change"]
    # 0.4 - 0.38 with se sqrt(2) 0.05: z = 0.283, not significant
    assert change["difference"] == pytest.approx(0.02) and change["significant"] is False
    # another respondent group last year is no comparison
    other = explain(FRAMEWORK, scores, "u1", points=points, survey=now, previous_survey=before.assign(group="firms"))
    assert {node["code"]: node for node in other["nodes"]}["A3"]["channels"]["survey"][0]["change"] is None


def test_an_unknown_unit_is_refused():
    points = criterion_points(FRAMEWORK, UNITS, assessed=ASSESSED)
    with pytest.raises(EstimationError):
        explain(FRAMEWORK, compute(FRAMEWORK, points), "u9", points=points)
