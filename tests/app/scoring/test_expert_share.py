"""The expert channel of the shipped national frameworks of Decisions 1726 and 922: the form has an item per main
index and the experts' 10% moves the index [1726 II.2.a-b.v], against hand computations."""

import pandas as pd
import pytest

from analysis.index import compute
from analysis.merge import external_values
from questionnaires import read_yaml, shipped_framework_files
from survey_app.core.extensions import db
from survey_app.experts import operations as experts
from survey_app.frameworks import operations as frameworks
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from tests.conftest import expert_panel

#: each main index's expert part: 10% of the main index's points
EXPERT_ITEMS = {"AW.E": 10, "INST.E": 10, "INFRA.E": 10, "HR.E": 10, "SEC.E": 10, "DG.E": 20, "DE.E": 15, "DS.E": 15}


def _run(evaluation):
    proposed = list(scoring.proposed_exclusions(evaluation)["node"])
    return scoring.run_scoring(evaluation, excluded=[], kept=proposed, actor=None)


def test_the_experts_ten_percent_moves_the_2021_2023_index(app):
    version = next(
        v for v, _ in frameworks.load_shipped_frameworks() if (v.code, v.year) == ("national-province", 2021)
    )
    evaluation, panel, tokens = expert_panel(version, round_code="dti-2023-experts", size=15)
    questionnaire = experts.questionnaire_of(experts.open_link(next(iter(tokens.values()))))
    assert {item.code: item.points for item in questionnaire.items()} == EXPERT_ITEMS
    # Hà Nội and Hồ Chí Minh City both report full awareness: 80 of its 100 points (the reported 80%)
    rows = [
        {"Mã đơn vị": unit, "Mã tiêu chí": "AW.R", "Giá trị": "1", "Minh chứng": "Kế hoạch số 1"}
        for unit in ("01", "79")
    ]
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")
    channel_inputs.import_self_assessment(evaluation, data, "data.csv", actor=None)
    before = _run(evaluation)
    assert before.index["01"] == pytest.approx(0.08) and before.index["79"] == pytest.approx(0.08)
    assert scoring.ranking(before).set_index("unit").loc[["01", "79"], "rank"].tolist() == [1, 1]

    # Hà Nội's fifteen experts: 4 on awareness but one who gives 1, 5 on digital government, 3 elsewhere
    for number, token in enumerate(tokens.values()):
        raw = {code: {"choice": "3"} for code in EXPERT_ITEMS}
        raw["AW.E"] = {"choice": "1" if number == 0 else "4"}
        raw["DG.E"] = {"choice": "5"}
        assert experts.submit(experts.open_link(token), raw, f"form-{number}") == {}
    after = _run(evaluation)
    # the trimmed mean cuts floor(0.1 × 15) = 1 answer at each end: awareness 4, value (4 − 1) / 4 = 0.75 of its
    # 10 points = 7.5; digital government 5 → 1 × 20 = 20; a 3 is 0.5: 5 on each of the four other foundation
    # indices, 7.5 on the economy's and society's 15. Experts: 7.5 + 20 + 4 × 5 + 2 × 7.5 = 62.5 points
    assert after.index["01"] == pytest.approx((80 + 62.5) / 1000)
    assert after.index["79"] == pytest.approx(0.08)
    table = scoring.ranking(after).set_index("unit")
    assert table.loc[["01", "79"], "rank"].tolist() == [1, 2]
    # the main index holds its three parts: awareness 80 + 7.5 of 100
    assert table.loc["01", "AW"] == pytest.approx(0.875)
    db.session.commit()


def test_the_experts_share_of_the_1726_ministry_index_by_hand():
    framework = read_yaml(next(p for p in shipped_framework_files() if p.name == "national-ministry-2020.yaml"))
    maxima = {node.code: node.points for node in framework.leaves()}
    # two ministries with full marks on every main index: 400 of 500 points, the reported 80%
    points = pd.DataFrame(
        [{"unit": unit, "node": code, "points": maximum} for unit in ("A", "B") for code, maximum in maxima.items()]
    )
    # A's experts: awareness 1, institutions 0.5, the other five 0; B has no expert form
    values = pd.DataFrame([{"unit": "A", "node": code, "value": 0.0} for code in maxima])
    values.loc[values["node"] == "AW", "value"] = 1.0
    values.loc[values["node"] == "INST", "value"] = 0.5
    external = external_values(framework, values, "expert")
    # the points-weighted mean of the main indices' values: (50 × 1 + 70 × 0.5) / 400 = 0.2125
    assert external.set_index("unit").loc["A", "value"] == pytest.approx(0.2125)
    scores = compute(framework, points, channels=external)
    # A: (400 + 0.1 × 500 × 0.2125) / 500 = 410.625 / 500; B: 400 / 500
    assert scores.index_value.to_dict() == pytest.approx({"A": 410.625 / 500, "B": 0.8})
