"""Scores, index values, normalisation and rankings, against hand computations."""

import pandas as pd
import pytest

from analysis import EstimationError
from analysis.index import compute, index_from_values, normalise, propose_exclusions, rank
from questionnaires import framework_from_dict, read_yaml, shipped_framework_files

SHIPPED = {path.name: read_yaml(path) for path in shipped_framework_files()}


def test_published_2022_result_for_da_nang():
    framework = SHIPPED["national-province-2021.yaml"]
    values = {
        "AW": 1.0000,
        "INST": 0.9000,
        "INFRA": 0.8253,
        "HR": 0.8487,
        "SEC": 0.7578,
        "DG": 0.8575,
        "DE": 0.7836,
        "DS": 0.5197,
    }
    # (100 + 90 + 82.53 + 84.87 + 75.78 + 171.5 + 117.54 + 77.955) / 1000 = 0.800175
    assert index_from_values(framework, values) == pytest.approx(0.800175, abs=1e-12)
    assert round(index_from_values(framework, values), 4) == 0.8002


def test_published_2020_result_for_bac_ninh():
    framework = SHIPPED["national-province-2020.yaml"]
    # 0.4 × 0.4449 + 0.3 × 0.3668 + 0.3 × 0.4052 = 0.40956
    value = index_from_values(framework, {"DG": 0.4449, "DE": 0.3668, "DS": 0.4052})
    assert value == pytest.approx(0.40956, abs=1e-12) and round(value, 4) == 0.4096


def test_ranking_with_ties_shares_the_best_rank_and_skips():
    values = pd.Series({"A": 0.8, "B": 0.7, "C": 0.7, "D": 0.6})
    assert rank(values).to_dict() == {"A": 1, "B": 2, "C": 2, "D": 4}
    # equal to the published four decimals: a tie
    assert rank(pd.Series({"A": 0.80004, "B": 0.80001, "C": 0.79})).to_dict() == {"A": 1, "B": 1, "C": 3}
    assert rank(pd.Series({"A": 0.80004, "B": 0.80001}), decimals=None).to_dict() == {"A": 1, "B": 2}


@pytest.mark.parametrize("decimals", [4, None])
def test_ranking_a_unit_without_a_value_names_it(decimals):
    # R's rank() would put it last (na.last = TRUE) or give NA; every caller needs a whole-number rank
    values = pd.Series({"A": 0.8, "B": float("nan"), "C": 0.7, "D": float("nan")})
    with pytest.raises(EstimationError) as caught:
        rank(values, decimals=decimals)
    assert (caught.value.code, caught.value.params) == ("unranked_unit", {"unit": "B"})


def test_min_max_and_z_score_by_hand():
    values = pd.Series({"A": 2.0, "B": 4.0, "C": 6.0, "D": 8.0})
    assert normalise(values, "min-max").tolist() == [0, 1 / 3, 2 / 3, 1]
    # mean 5, population sd sqrt(5)
    assert normalise(values, "z-score").tolist() == pytest.approx([-3 / 5**0.5, -1 / 5**0.5, 1 / 5**0.5, 3 / 5**0.5])
    assert normalise(pd.Series([3.0, 3.0]), "min-max").tolist() == [1, 1]
    # equal values whose computed standard deviation is not exactly 0 (5.6e-17) are still all 0
    assert normalise(pd.Series([0.7] * 3), "z-score").tolist() == [0, 0, 0]
    with pytest.raises(EstimationError):
        normalise(values, "rank")


FRAMEWORK = framework_from_dict(
    {
        "code": "t",
        "level": "province",
        "year": 2020,
        "name": {"vi": "t"},
        "total_points": 100,
        "channel_shares": {"assessment": 0.8, "cyberspace": 0.1, "expert": 0.1, "level": "pillar"},
        "nodes": [
            {
                "code": "P",
                "kind": "pillar",
                "name": {"vi": "P"},
                "points": 100,
                "children": [
                    {
                        "code": "A",
                        "kind": "main_index",
                        "name": {"vi": "A"},
                        "points": 40,
                        "children": [
                            {
                                "code": "A1",
                                "kind": "criterion",
                                "name": {"vi": "A1"},
                                "points": 40,
                                "channels": ["self_assessment"],
                                "scoring": {"method": "ratio"},
                            }
                        ],
                    },
                    {
                        "code": "B",
                        "kind": "main_index",
                        "name": {"vi": "B"},
                        "points": 40,
                        "children": [
                            {
                                "code": "B1",
                                "kind": "criterion",
                                "name": {"vi": "B1"},
                                "points": 20,
                                "channels": ["self_assessment"],
                                "scoring": {"method": "ratio"},
                            },
                            {
                                "code": "B2",
                                "kind": "criterion",
                                "name": {"vi": "B2"},
                                "points": 20,
                                "channels": ["self_assessment"],
                                "scoring": {"method": "ratio"},
                            },
                        ],
                    },
                ],
            }
        ],
    }
)
POINTS = pd.DataFrame(
    {
        "unit": ["u1", "u1", "u1", "u2", "u2"],
        "node": ["A1", "B1", "B2", "A1", "B1"],
        "points": [30.0, 10.0, 15.0, 20.0, 20.0],
    }
)
CHANNELS = pd.DataFrame(
    {
        "unit": ["u1", "u1", "u2"],
        "node": ["P", "P", "P"],
        "channel": ["cyberspace", "expert", "expert"],
        "value": [0.5, 0.8, 1.0],
    }
)


def test_80_10_10_merge_and_missing_scores_zero():
    scores = compute(FRAMEWORK, POINTS, channels=CHANNELS)
    # u1: 30 + (10 + 15) = 55 from reported data, + 0.5 × 10 cyberspace + 0.8 × 10 experts = 68
    # u2: 20 + (20 + missing B2 → 0) = 40, no cyberspace value → 0, experts 1.0 × 10 = 50
    assert scores.points.loc["u1", "P"] == pytest.approx(68)
    assert scores.points.loc["u2", "P"] == pytest.approx(50)
    assert scores.index_value.round(6).to_dict() == {"u1": 0.68, "u2": 0.5}
    assert scores.missing.loc["u2", "B2"] and not scores.missing.loc["u1", "B2"]
    assert scores.values().loc["u1", "B"] == pytest.approx(25 / 40)
    assert scores.ranks().loc["u1", "index"] == 1 and scores.ranks().loc["u2", "index"] == 2


def test_exclusion_shares_the_points_among_siblings():
    scores = compute(FRAMEWORK, POINTS, excluded={"B2"}, channels=CHANNELS)
    # B's 40 points now rest on B1 alone: u1 10/20 → 20, u2 20/20 → 40
    assert scores.points.loc["u1", "B"] == pytest.approx(20) and scores.points.loc["u2", "B"] == pytest.approx(40)
    assert scores.points.loc["u1", "P"] == pytest.approx(30 + 20 + 13)
    assert "B2" in scores.excluded and "B2" not in scores.points.columns
    both = compute(FRAMEWORK, POINTS, excluded={"B1", "B2"})
    assert "B" in both.excluded
    # A alone carries the 80 reported points: u1 30/40 × 80 = 60
    assert both.points.loc["u1", "P"] == pytest.approx(60)


def test_the_other_reading_takes_an_excluded_criterions_points_out_of_the_total():
    scores = compute(FRAMEWORK, POINTS, excluded={"B2"}, channels=CHANNELS, exclusion="remove")
    # B keeps B1's points unscaled, out of 20: u1 10, u2 20; P loses B2's 20 points for everyone
    # u1: 30 + 10 + 0.5 × 10 + 0.8 × 10 = 53 of 80; u2: 20 + 20 + 1.0 × 10 = 50 of 80
    assert scores.points.loc["u1", "B"] == pytest.approx(10) and scores.maximum["B"] == pytest.approx(20)
    assert scores.points.loc["u1", "P"] == pytest.approx(53) and scores.maximum["P"] == pytest.approx(80)
    assert scores.index_value.to_dict() == pytest.approx({"u1": 53 / 80, "u2": 50 / 80})
    assert scores.values().loc["u1", "B"] == pytest.approx(0.5)
    # the readings rank the two units the other way round: redistributing gives u1 63, u2 70
    shared = compute(FRAMEWORK, POINTS, excluded={"B2"}, channels=CHANNELS)
    assert shared.index_value.to_dict() == pytest.approx({"u1": 0.63, "u2": 0.70})
    assert shared.ranks()["index"].to_dict() == {"u1": 2, "u2": 1}
    assert scores.ranks()["index"].to_dict() == {"u1": 1, "u2": 2}
    # the framework names its reading; a run's choice overrides it
    from dataclasses import replace

    removing = replace(FRAMEWORK, exclusion="remove")
    assert compute(removing, POINTS, excluded={"B2"}, channels=CHANNELS).index_value["u1"] == pytest.approx(53 / 80)
    assert compute(removing, POINTS, excluded={"B2"}, channels=CHANNELS, exclusion="redistribute").index_value[
        "u1"
    ] == pytest.approx(0.63)
    # nothing excluded: both readings agree
    assert compute(FRAMEWORK, POINTS, channels=CHANNELS, exclusion="remove").index_value.to_dict() == pytest.approx(
        {"u1": 0.68, "u2": 0.5}
    )
    with pytest.raises(EstimationError) as caught:
        compute(FRAMEWORK, POINTS, exclusion="both")
    assert caught.value.code == "unknown_exclusion_reading"


def test_criteria_with_too_few_units_are_proposed_for_exclusion():
    points = pd.DataFrame(
        {
            "unit": [f"u{i}" for i in range(8)] * 2,
            "node": ["A1"] * 8 + ["B2"] * 8,
            "points": [1.0] * 8 + [1.0, 2.0, 3.0] + [None] * 5,
        }
    )
    proposed = propose_exclusions(points, [f"u{i}" for i in range(8)])
    assert proposed.to_dict("records") == [{"node": "B2", "units_with_data": 3, "share": 0.375}]


def test_points_above_a_criterion_maximum_are_refused():
    bad = pd.DataFrame({"unit": ["u1"], "node": ["A1"], "points": [41.0]})
    with pytest.raises(EstimationError) as caught:
        compute(FRAMEWORK, bad)
    assert caught.value.params["node"] == "A1" and caught.value.params["unit"] == "u1"


def test_tuyen_quang_peer_maximum_and_full_marks():
    from analysis.index import apply_full_marks, apply_peer_maximum

    points = pd.DataFrame({"unit": ["u1", "u2", "u3"], "node": ["B1", "B1", "B1"], "points": [12.0, 17.0, 3.0]})
    # u3 has no subordinate units: on B1 it gets the best of the others, 17
    ruled = apply_peer_maximum(points, ["u3"], ["B1"])
    assert (
        ruled.set_index("unit").loc["u3", "points"] == 17
        and ruled.set_index("unit").loc["u3", "rule"] == "peer_maximum"
    )
    # u2 is special-purpose and B2 is unrelated to its functions: full marks, 20
    ruled = apply_full_marks(FRAMEWORK, ruled, ["u2"], ["B2"])
    row = ruled[(ruled["unit"] == "u2") & (ruled["node"] == "B2")].iloc[0]
    assert (row["points"], row["rule"]) == (20, "full_marks")


def test_merged_units_average_their_predecessors():
    from analysis.index import merge_units

    values = pd.DataFrame({"AW": [0.8, 0.6, 0.9], "DG": [0.5, 0.7, 0.4]}, index=["Tuyên Quang", "Hà Giang", "Cao Bằng"])
    merged = merge_units(values, {"Tỉnh Tuyên Quang": ["Tuyên Quang", "Hà Giang"], "Tỉnh Cao Bằng": ["Cao Bằng"]})
    assert merged.loc["Tỉnh Tuyên Quang"].tolist() == pytest.approx([0.7, 0.6])
    assert merged.loc["Tỉnh Cao Bằng"].tolist() == pytest.approx([0.9, 0.4])


THREE = pd.DataFrame(
    {
        "unit": ["u1", "u1", "u1", "u2", "u2", "u3", "u3"],
        "node": ["A1", "B1", "B2", "A1", "B1", "A1", "B2"],
        "points": [30.0, 10.0, 15.0, 20.0, 20.0, 10.0, 5.0],
    }
)
THREE_CHANNELS = pd.DataFrame(
    {
        "unit": ["u1", "u1", "u2", "u3", "u3"],
        "node": ["P"] * 5,
        "channel": ["cyberspace", "expert", "expert", "cyberspace", "expert"],
        "value": [0.5, 0.8, 1.0, 0.2, 0.6],
    }
)


def test_min_max_normalisation_of_criterion_values_by_hand():
    scores = compute(FRAMEWORK, THREE, channels=THREE_CHANNELS, normalisation="min-max")
    # values A1 .75 .5 .25 → 1 .5 0; B1 .5 1 0 (u3 missing) → .5 1 0; B2 .75 0 .25 → 1 0 1/3
    # cyberspace .5 0 .2 → 1 0 .4; experts .8 1 .6 → .5 1 0
    # u1: 40 + 10 + 20 + 1 × 10 + .5 × 10 = 85; u2: 20 + 20 + 0 + 0 + 10 = 50; u3: 0 + 0 + 20/3 + 4 + 0
    assert scores.points["P"].to_dict() == pytest.approx({"u1": 85, "u2": 50, "u3": 20 / 3 + 4})
    assert scores.values().loc["u3", "B"] == pytest.approx((20 / 3) / 40)
    assert scores.slopes["A1"] == pytest.approx(1 / 0.5) and scores.slopes[("P", "cyberspace")] == pytest.approx(2)


def test_z_score_normalisation_of_criterion_values_by_hand():
    scores = compute(FRAMEWORK, THREE, channels=THREE_CHANNELS, normalisation="z-score")
    r = 1.5**0.5
    # A1 .75 .5 .25: mean .5, sd √(1/24) → z ±√1.5; B1 .5 1 0 → 0 √1.5 -√1.5;
    # B2 .75 0 .25: mean 1/3, sd √14/12 → 5/√14, -4/√14, -1/√14;
    # cyberspace ×30 = 15 0 6: mean 7, sd √38 → 8/√38, -7/√38, -1/√38; experts .8 1 .6 → 0 √1.5 -√1.5
    expected = {
        "u1": (r * 40 + 0 * 20 + 5 / 14**0.5 * 20 + 8 / 38**0.5 * 10 + 0 * 10) / 100,
        "u2": (0 * 40 + r * 20 - 4 / 14**0.5 * 20 - 7 / 38**0.5 * 10 + r * 10) / 100,
        "u3": (-r * 40 - r * 20 - 1 / 14**0.5 * 20 - 1 / 38**0.5 * 10 - r * 10) / 100,
    }
    assert scores.index_value.to_dict() == pytest.approx(expected)
    # a node's value is the points-weighted mean of its criteria's z-scores: B of u1 = (0 × 20 + 5/√14 × 20) / 40
    assert scores.values().loc["u1", "B"] == pytest.approx(5 / 14**0.5 / 2)
    with pytest.raises(EstimationError):
        compute(FRAMEWORK, THREE, normalisation="rank")


def test_other_channel_shares_rescale_the_assessed_part():
    from questionnaires import ChannelShares

    scores = compute(FRAMEWORK, POINTS, channels=CHANNELS, shares=ChannelShares(0.7, 0.15, 0.15, "pillar"))
    # u1: 55 assessed of 80 → 55 × 0.7 / 0.8 = 48.125, + 0.5 × 15 + 0.8 × 15 = 67.625
    assert scores.points.loc["u1", "P"] == pytest.approx(48.125 + 7.5 + 12)
    full = pd.DataFrame({"unit": ["u"] * 3, "node": ["A1", "B1", "B2"], "points": [40.0, 20.0, 20.0]})
    top = pd.DataFrame({"unit": ["u", "u"], "node": ["P", "P"], "channel": ["cyberspace", "expert"], "value": [1, 1]})
    assert compute(FRAMEWORK, full, channels=top, shares=ChannelShares(0.9, 0.05, 0.05)).index_value[
        "u"
    ] == pytest.approx(1.0)


def test_pillar_views_add_up_the_nodes_they_include():
    from dataclasses import replace

    from analysis.index import pillar_view_values
    from questionnaires import PillarView, Text

    framework = replace(
        FRAMEWORK,
        pillar_views=(
            PillarView("V1", Text("V1", "V1"), 60, ("A", "C")),
            PillarView("V2", Text("V2", "V2"), 80, ("A", "B")),
        ),
    )
    scores = compute(framework, POINTS)
    views = pillar_view_values(framework, scores)
    # V1 includes only A of the scored nodes (C does not exist): u1 30 of 40; V2: A and B, u1 30 + 25 of 80,
    # u2 20 + 20 of 80
    assert views["V1"].to_dict() == pytest.approx({"u1": 30 / 40, "u2": 20 / 40})
    assert views["V2"].to_dict() == pytest.approx({"u1": 55 / 80, "u2": 40 / 80})
    # with B2 excluded under "remove", B's maximum drops to 20: V2 over 60
    removed = compute(framework, POINTS, excluded={"B2"}, exclusion="remove")
    assert pillar_view_values(framework, removed)["V2"]["u1"] == pytest.approx((30 + 10) / 60)
