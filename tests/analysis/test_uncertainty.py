"""Rank intervals by simulation, against cases whose answer is known."""

import numpy as np
import pandas as pd
import pytest

from analysis.index import compute
from analysis.uncertainty import external_coefficients, leaf_coefficients, simulate_ranks
from tests.analysis.test_index import FRAMEWORK


def test_leaf_coefficients_by_hand():
    assert leaf_coefficients(FRAMEWORK).to_dict() == {"A1": 0.01, "B1": 0.01, "B2": 0.01}
    # B2 excluded: B1 carries B's 40 points alone
    assert leaf_coefficients(FRAMEWORK, {"B2"}).to_dict() == {"A1": 0.01, "B1": 0.02}
    # the other reading: B2's 20 points leave the total of 100, every kept point counts 1/80
    assert leaf_coefficients(FRAMEWORK, {"B2"}, "remove").to_dict() == {"A1": 1 / 80, "B1": 1 / 80}
    assert external_coefficients(FRAMEWORK, excluded={"B2"}, exclusion="remove") == {
        ("P", "cyberspace"): 10 / 80,
        ("P", "expert"): 10 / 80,
    }


@pytest.mark.parametrize("exclusion", ["redistribute", "remove"])
@pytest.mark.parametrize("excluded", [set(), {"B2"}, {"B1", "B2"}])
def test_the_index_is_linear_in_the_leaves(excluded, exclusion):
    rng = np.random.default_rng(1)
    points = pd.DataFrame(
        {"unit": np.repeat(["u1", "u2", "u3"], 3), "node": ["A1", "B1", "B2"] * 3, "points": rng.uniform(0, 20, 9)}
    )
    scores = compute(FRAMEWORK, points, excluded=excluded, exclusion=exclusion)
    coefficients = leaf_coefficients(FRAMEWORK, excluded, exclusion)
    linear = (
        points[points["node"].isin(coefficients.index)]
        .assign(part=lambda t: t["points"] * t["node"].map(coefficients))
        .groupby("unit")["part"]
        .sum()
    )
    pd.testing.assert_series_equal(linear, scores.index_value, check_names=False)


def _case(noise_sd):
    units = ["u1", "u2", "u3"]
    points = pd.DataFrame({"unit": units, "node": ["B1"] * 3, "points": [10.0, 10.0, 18.0]})
    noise = pd.DataFrame({"unit": units, "node": ["B1"] * 3, "sd": [noise_sd] * 3})
    index_value = pd.Series({"u1": 0.50, "u2": 0.50, "u3": 0.80})
    return simulate_ranks(FRAMEWORK, points, noise, index_value=index_value, replicates=2000, seed=4)


def test_no_noise_gives_points_not_intervals():
    result = _case(0.0)
    table = result.units
    assert (table["index_low"] == table["index"]).all() and (table["index_high"] == table["index"]).all()
    assert table.loc["u3", ["rank", "rank_low", "rank_high"]].tolist() == [1, 1, 1]
    assert table.loc["u1", "rank"] == 2 and table.loc["u2", "rank"] == 2


def test_equal_units_under_noise_are_not_meaningfully_apart():
    result = _case(3.0)
    pair = result.neighbours.set_index(["higher", "lower"])
    # u1 and u2 are the same unit twice: the higher stays higher about half the time
    assert pair.loc[("u1", "u2"), "stays_higher"] == pytest.approx(0.5, abs=0.05)
    assert not pair.loc[("u1", "u2"), "meaningful"]
    # u3 is 0.30 ahead and each point is worth 0.01: 30 points of margin against an SD of 3 is far
    assert pair.loc[("u3", "u1"), "meaningful"]
    table = result.units
    # one point sd on B1 moves the index by 0.01 × 3 = 0.03 sd; the 95% interval is about ±0.0588
    assert table.loc["u1", "index_high"] - 0.50 == pytest.approx(1.96 * 0.03, rel=0.1)
    assert table.loc["u1", ["rank_low", "rank_high"]].tolist() == [2, 3]


def test_normalised_runs_simulate_on_the_normalised_scale():
    from tests.analysis.test_index import THREE

    scores = compute(FRAMEWORK, THREE, normalisation="min-max")
    noise = pd.DataFrame({"unit": ["u1"], "node": ["A1"], "sd": [1.0]})
    result = simulate_ranks(
        FRAMEWORK, THREE, noise, index_value=scores.index_value, slopes=scores.slopes, replicates=4000, seed=2
    )
    # A1's values span .5: one raw point moves the normalised points by 2, the index by 0.02 (clipped at 40 above)
    low = result.units.loc["u1", "index_low"]
    assert scores.index_value["u1"] - low == pytest.approx(1.96 * 0.02, rel=0.1)


def test_expert_spread_enters_through_the_pillar_share():
    from analysis.uncertainty import channel_noise, external_coefficients

    assert external_coefficients(FRAMEWORK) == {
        ("P", "cyberspace"): pytest.approx(0.1),
        ("P", "expert"): pytest.approx(0.1),
    }
    expert = pd.DataFrame({"unit": ["u1", "u1"], "item": ["A", "B"], "value": [0.6, 0.8], "value_se": [0.1, 0.2]})
    leaves, external = channel_noise(
        FRAMEWORK, pd.DataFrame(columns=["unit", "node", "points", "source"]), expert=expert
    )
    # the pillar's expert value is the points-weighted mean (40 and 40): .7, its SE √(40² .1² + 40² .2²) / 80
    row = external.iloc[0]
    assert leaves.empty and (row["node"], row["channel"]) == ("P", "expert")
    assert row["value"] == pytest.approx(0.7) and row["sd"] == pytest.approx((0.01 + 0.04) ** 0.5 / 2)


def test_survey_noise_follows_the_rule_slope_and_averages_groups():
    from analysis.uncertainty import channel_noise

    points = pd.DataFrame(
        {"unit": ["u1", "u2"], "node": ["B1", "B1"], "points": [10.0, 12.0], "source": ["survey", "self_assessment"]}
    )
    survey = pd.DataFrame(
        {
            "criterion": ["B1"] * 3,
            "unit": ["u1", "u1", "u2"],
            "se": [0.05, 0.05, 0.05],
            "ci_low": [0.4, 0.4, 0.5],
            "ci_high": [0.6, 0.6, 0.7],
            "points_low": [8.0, 8.0, 10.0],
            "points_high": [12.0, 12.0, 14.0],
            "maximum": [20.0] * 3,
            "points": [10.0, 10.0, 12.0],
        }
    )
    leaves, _ = channel_noise(FRAMEWORK, points, survey=survey)
    # slope 4 / 0.2 = 20 points per unit of estimate; two groups averaged: √(2 × 1²) / 2; u2 is not survey-scored
    assert leaves.to_dict("records") == [{"unit": "u1", "node": "B1", "sd": pytest.approx(2**0.5 / 2)}]


def test_sensitivity_over_normalisations_and_shares():
    from analysis.uncertainty import sensitivity
    from tests.analysis.test_index import THREE, THREE_CHANNELS

    found = sensitivity(FRAMEWORK, THREE, channels=THREE_CHANNELS)
    # three normalisations × three cyberspace × three expert shares
    assert len(found.scenarios) == 27 and found.ranks.shape == (3, 27)
    assert (found.summary["best"] <= found.summary["rank"]).all()
    assert (found.summary["rank"] <= found.summary["worst"]).all()
    # u1 leads by far under every choice; u2 and u3 (raw 40 + 10 = .50 and 15 + 2 + 6 = .23) never swap
    assert found.summary["spread"].to_dict() == {"u1": 0, "u2": 0, "u3": 0}


def test_an_excluded_criterion_leaves_the_simulation_as_it_leaves_the_index():
    """A run with confirmed exclusions: the survey's noise on an excluded criterion is ignored, not an error, and
    the kept sibling carries the parent's points in the simulation as in the index."""
    from tests.analysis.test_index import THREE

    scores = compute(FRAMEWORK, THREE, excluded={"B2"})
    units = list(scores.index_value.index)
    noisy = THREE[THREE["node"] == "B2"]
    only_excluded = simulate_ranks(
        FRAMEWORK,
        noisy,
        noisy.assign(sd=3.0)[["unit", "node", "sd"]],
        index_value=scores.index_value,
        excluded=scores.excluded,
        seed=1,
    )
    # nothing noisy is left in the index: every interval is the index itself, every rank exact
    table = only_excluded.units.loc[units]
    assert table["index_low"].tolist() == table["index_high"].tolist() == scores.index_value.tolist()
    assert (table["rank_low"] == table["rank"]).all() and (table["rank_high"] == table["rank"]).all()
    # B1 alone carries B's 40 points: one point of B1 is 40 / 20 × 1 / 100 = 0.02 of the index, so an sd of 1
    # point gives a 95% half-width of 1.96 × 0.02 = 0.0392 (u1's B1 is 10 of 20: never clipped at 3 sd)
    u1 = pd.DataFrame({"unit": ["u1", "u1"], "node": ["B1", "B2"], "points": [10.0, 15.0], "sd": [1.0, 1.0]})
    both = simulate_ranks(
        FRAMEWORK,
        u1[["unit", "node", "points"]],
        u1[["unit", "node", "sd"]],
        index_value=scores.index_value,
        excluded={"B2"},
        replicates=4000,
        seed=3,
    )
    low, high = both.units.loc["u1", ["index_low", "index_high"]]
    assert high - scores.index_value["u1"] == pytest.approx(0.0392, rel=0.1)
    assert scores.index_value["u1"] - low == pytest.approx(0.0392, rel=0.1)


def test_an_excluded_pillar_takes_its_external_noise_with_it():
    from questionnaires import framework_from_dict

    def pillar(code):
        criterion = {
            "code": f"{code}1",
            "kind": "criterion",
            "name": {"vi": code},
            "points": 80,
            "channels": ["self_assessment"],
            "scoring": {"method": "ratio"},
        }
        return {
            "code": code,
            "kind": "pillar",
            "name": {"vi": code},
            "points": 100,
            "children": [
                {"code": f"{code}A", "kind": "main_index", "name": {"vi": code}, "points": 80, "children": [criterion]}
            ],
        }

    two = framework_from_dict(
        {
            "code": "t2",
            "level": "province",
            "year": 2020,
            "name": {"vi": "t2"},
            "total_points": 200,
            "channel_shares": {"assessment": 0.8, "cyberspace": 0.1, "expert": 0.1, "level": "pillar"},
            "nodes": [pillar("P"), pillar("Q")],
        }
    )
    points = pd.DataFrame(
        {"unit": ["u1", "u1", "u2", "u2"], "node": ["P1", "Q1", "P1", "Q1"], "points": [40.0, 40.0, 20.0, 60.0]}
    )
    # Q1 excluded: Q has no criterion left and leaves the index with its expert share; u1 40 / 200, u2 20 / 200
    scores = compute(two, points, excluded={"Q1"})
    assert scores.index_value.to_dict() == {"u1": 0.2, "u2": 0.1} and "Q" in scores.excluded
    on_q = pd.DataFrame({"unit": ["u2"], "node": ["Q"], "channel": ["expert"], "value": [0.5], "sd": [0.2]})
    no_leaves = pd.DataFrame(columns=["unit", "node", "sd"])
    result = simulate_ranks(
        two,
        points.iloc[:0],
        no_leaves,
        index_value=scores.index_value,
        excluded=scores.excluded,
        external_noise=on_q,
        seed=1,
    )
    assert result.units.loc["u2", ["index_low", "index_high"]].tolist() == [0.1, 0.1]
    # P's expert share still counts: 0.1 × 100 / 200 = 0.05 of the index per unit of value, sd 0.2 → 0.01,
    # a 95% half-width of 0.0196
    on_p = on_q.assign(unit="u1", node="P")
    result = simulate_ranks(
        two,
        points.iloc[:0],
        no_leaves,
        index_value=scores.index_value,
        excluded=scores.excluded,
        external_noise=on_p,
        replicates=4000,
        seed=1,
    )
    assert result.units.loc["u1", "index_high"] - 0.2 == pytest.approx(0.0196, rel=0.1)


def test_a_node_outside_the_framework_is_still_refused():
    from analysis import EstimationError

    points = pd.DataFrame({"unit": ["u1"], "node": ["Z9"], "points": [1.0]})
    with pytest.raises(EstimationError) as caught:
        simulate_ranks(
            FRAMEWORK,
            points,
            points.assign(sd=1.0)[["unit", "node", "sd"]],
            index_value=pd.Series({"u1": 0.5}),
            excluded={"B2"},
        )
    assert caught.value.code == "unknown_node"
