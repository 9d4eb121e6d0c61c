"""The expert channel's aggregation and agreement: against R (results/experts_reference.R, base R's Friedman
test and psych's ICC, values kept in experts_reference.json) and against small examples done by hand."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.experts import (
    aggregate,
    agreement,
    channel_points,
    channel_values,
    composition_weighted,
    icc_2k,
    kendall_w,
    outlying_experts,
    trimmed_mean,
)

REFERENCE = json.loads((Path(__file__).parent / "results" / "experts_reference.json").read_text())


@pytest.mark.parametrize("case", sorted(REFERENCE["cases"]))
def test_kendalls_w_and_icc_match_r(case):
    expected = REFERENCE["cases"][case]
    ratings = np.array(expected["ratings"], dtype=float)
    w, chi_square, df, p = kendall_w(ratings)
    assert w == pytest.approx(expected["kendall_w"], rel=1e-10)
    assert chi_square == pytest.approx(expected["chi_square"], rel=1e-10)
    assert df == expected["df"]
    assert p == pytest.approx(expected["p_value"], rel=1e-8, abs=1e-300)
    assert icc_2k(ratings) == pytest.approx(expected["icc"], rel=1e-10)


def test_kendalls_w_with_a_tie_and_icc_by_hand():
    # items × raters; rater B ties items 2 and 3
    ratings = np.array([[1, 1], [2, 3], [3, 3]], dtype=float)
    # rank sums 2, 4.5, 5.5 (mean 4): S = 4 + .25 + 2.25 = 6.5; m² (n³ - n) = 96, m T = 2 × (2³ - 2) = 12
    w, chi_square, df, _ = kendall_w(ratings)
    assert w == pytest.approx(12 * 6.5 / (96 - 12))
    assert (chi_square, df) == (pytest.approx(2 * 2 * w), 2)
    # MSR = 13/6, MSC = 1/6, MSE = 1/6: (13/6 - 1/6) / (13/6 + 0 / 3)
    assert icc_2k(ratings) == pytest.approx(2 / (13 / 6))


def test_kendalls_w_is_undefined_when_every_rater_ties_every_item():
    # each expert gives all items one score (one expert 1, the others 4): no order of the items to agree on
    ratings = np.array([[1, 4, 4], [1, 4, 4]], dtype=float)
    w, chi_square, df, p = kendall_w(ratings)
    assert math.isnan(w) and math.isnan(chi_square) and math.isnan(p) and df == 1


def _scores(rows):
    return pd.DataFrame(rows, columns=["unit", "expert", "category", "item", "score"])


PANEL = _scores(
    [
        ("01", "e1", "retired_leader", "AW", 8),
        ("01", "e2", "retired_leader", "AW", 7),
        ("01", "e3", "serving_official", "AW", 9),
        ("01", "e4", "business_leader", "AW", 2),
        ("01", "e5", "business_leader", "AW", np.nan),
        ("01", "e1", "retired_leader", "DG", 6),
        ("01", "e2", "retired_leader", "DG", 6),
        ("01", "e3", "serving_official", "DG", 7),
        ("01", "e4", "business_leader", "DG", 1),
        ("01", "e5", "business_leader", "DG", np.nan),
    ]
)


def test_aggregates_leave_cannot_judge_out():
    table = aggregate(PANEL).set_index("item")
    aw = table.loc["AW"]
    assert aw["n"] == 4 and aw["mean"] == pytest.approx(6.5) and aw["median"] == pytest.approx(7.5)
    assert aw["sd"] == pytest.approx(np.std([8, 7, 9, 2], ddof=1))
    # R's type-7 quartiles of 2, 7, 8, 9: 5.75 and 8.25
    assert aw["iqr"] == pytest.approx(2.5)
    # with 4 answers floor(0.1 × 4) = 0 are cut; a 25% trim cuts one at each end
    assert aw["trimmed_mean"] == pytest.approx(6.5)
    assert trimmed_mean([8, 7, 9, 2], 0.25) == pytest.approx(7.5)


def test_an_item_nobody_could_judge_has_no_value():
    nobody = pd.concat([PANEL, _scores([("01", "e1", "retired_leader", "HR", np.nan)])])
    row = aggregate(nobody).set_index("item").loc["HR"]
    assert row["n"] == 0 and math.isnan(row["trimmed_mean"])
    values = channel_values(aggregate(nobody), (1, 10)).set_index("node")
    assert math.isnan(values.loc["HR", "value"]) and values.loc["AW", "value"] == pytest.approx((6.5 - 1) / 9)


def test_an_expert_far_from_the_panel_is_flagged_not_removed():
    rows = []
    for expert in range(8):
        for item, base in (("AW", 7), ("DG", 5), ("HR", 6)):
            rows.append(("01", f"e{expert}", "retired_leader", item, base + (expert % 3) - 1))
    rows += [("01", "odd", "business_leader", item, 1) for item in ("AW", "DG", "HR")]
    table = outlying_experts(_scores(rows)).set_index("expert")
    assert table.loc["odd", "flagged"] and not table.drop("odd")["flagged"].any()
    # the panel's medians are 7, 5, 6: the odd expert is 6, 4 and 5 away, 5 on average; the others' distances
    # are 0 or 1 (median 1, MAD 0), so the mean absolute deviation, 7/9, scales the z-score
    assert table.loc["odd", "distance"] == pytest.approx(5)
    assert table.loc["odd", "robust_z"] == pytest.approx(4 / (1.253314 * 7 / 9))


def test_the_composition_is_restored_by_weighting_the_categories():
    table = composition_weighted(
        PANEL, {"retired_leader": 0.4, "serving_official": 0.3, "business_leader": 0.3}
    ).set_index("item")
    # AW: retired mean 7.5, serving 9, business 2 → .4 × 7.5 + .3 × 9 + .3 × 2
    assert table.loc["AW", "composition_mean"] == pytest.approx(0.4 * 7.5 + 0.3 * 9 + 0.3 * 2)
    assert table.loc["AW", "trimmed_mean"] == pytest.approx(6.5)
    assert (table.loc["AW", "n_retired_leader"], table.loc["AW", "n_business_leader"]) == (2, 1)


def test_agreement_per_unit_uses_complete_items():
    # e5 judged nothing and is no rater; the four others judged both items
    table = agreement(PANEL).set_index("unit")
    assert (table.loc["01", "items"], table.loc["01", "raters"]) == (2, 4)
    # e4 could not judge DG: only AW is complete, too few items for agreement
    partial = PANEL.copy()
    partial.loc[(partial["expert"] == "e4") & (partial["item"] == "DG"), "score"] = np.nan
    table = agreement(partial).set_index("unit")
    assert table.loc["01", "items"] == 1 and math.isnan(table.loc["01", "kendall_w"])


def test_channel_points_by_hand_and_the_pillar_values_the_index_reads():
    from questionnaires import ChannelShares, Framework, Node, NodeKind, Text, UnitLevel

    def leaf(code, points):
        return Node(code, NodeKind.CRITERION, Text(code, code), points)

    framework = Framework(
        "t",
        UnitLevel.PROVINCE,
        2024,
        1,
        Text("t", "t"),
        100,
        [
            Node(
                "G",
                NodeKind.PILLAR,
                Text("G", "G"),
                60,
                children=[
                    Node(
                        "G.A", NodeKind.MAIN_INDEX, Text("A", "A"), 60, children=[leaf("G.A.1", 20), leaf("G.A.2", 40)]
                    )
                ],
            ),
            Node("E", NodeKind.PILLAR, Text("E", "E"), 40, children=[leaf("E.1", 40)]),
        ],
        channel_shares=ChannelShares(0.8, 0.1, 0.1, "pillar"),
    )
    values = pd.DataFrame(
        {
            "unit": ["01"] * 3 + ["02"],
            "node": ["G.A.1", "G.A.2", "E.1", "G.A.1"],
            "channel": "expert",
            "value": [0.5, 0.75, 1.0, np.nan],
        }
    )
    points, external = channel_points(framework, values)
    assert points["points"].tolist()[:3] == [10.0, 30.0, 40.0]
    assert math.isnan(points["points"].iloc[3])
    # pillar G of unit 01: (0.5 × 20 + 0.75 × 40) / 60 = 40 / 60; unit 02 judged nothing, so it has no row
    assert external.to_dict("records") == [
        {"unit": "01", "node": "E", "channel": "expert", "value": 1.0},
        {"unit": "01", "node": "G", "channel": "expert", "value": pytest.approx(40 / 60)},
    ]
    with pytest.raises(Exception, match="not in the framework"):
        channel_points(framework, values.assign(node="ZZ"))
