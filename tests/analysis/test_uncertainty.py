"""Rank intervals by simulation, against cases whose answer is known."""
import numpy as np
import pandas as pd
import pytest

from analysis.index import compute
from analysis.uncertainty import leaf_coefficients, simulate_ranks
from tests.analysis.test_index import FRAMEWORK


def test_leaf_coefficients_by_hand():
    assert leaf_coefficients(FRAMEWORK).to_dict() == {"A1": 0.01, "B1": 0.01, "B2": 0.01}
    # B2 excluded: B1 carries B's 40 points alone
    assert leaf_coefficients(FRAMEWORK, {"B2"}).to_dict() == {"A1": 0.01, "B1": 0.02}


@pytest.mark.parametrize("excluded", [set(), {"B2"}, {"B1", "B2"}])
def test_the_index_is_linear_in_the_leaves(excluded):
    rng = np.random.default_rng(1)
    points = pd.DataFrame({"unit": np.repeat(["u1", "u2", "u3"], 3), "node": ["A1", "B1", "B2"] * 3,
                           "points": rng.uniform(0, 20, 9)})
    scores = compute(FRAMEWORK, points, excluded=excluded)
    coefficients = leaf_coefficients(FRAMEWORK, excluded)
    linear = points[points["node"].isin(coefficients.index)].assign(
        part=lambda t: t["points"] * t["node"].map(coefficients)).groupby("unit")["part"].sum()
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
    result = simulate_ranks(FRAMEWORK, THREE, noise, index_value=scores.index_value, slopes=scores.slopes,
                            replicates=4000, seed=2)
    # A1's values span .5: one raw point moves the normalised points by 2, the index by 0.02 (clipped at 40 above)
    low = result.units.loc["u1", "index_low"]
    assert scores.index_value["u1"] - low == pytest.approx(1.96 * 0.02, rel=0.1)


def test_expert_spread_enters_through_the_pillar_share():
    from analysis.uncertainty import channel_noise, external_coefficients

    assert external_coefficients(FRAMEWORK) == {("P", "cyberspace"): pytest.approx(0.1), ("P", "expert"): pytest.approx(0.1)}
    expert = pd.DataFrame({"unit": ["u1", "u1"], "item": ["A", "B"], "value": [0.6, 0.8], "value_se": [0.1, 0.2]})
    leaves, external = channel_noise(FRAMEWORK, pd.DataFrame(columns=["unit", "node", "points", "source"]),
                                     expert=expert)
    # the pillar's expert value is the points-weighted mean (40 and 40): .7, its SE √(40² .1² + 40² .2²) / 80
    row = external.iloc[0]
    assert leaves.empty and (row["node"], row["channel"]) == ("P", "expert")
    assert row["value"] == pytest.approx(0.7) and row["sd"] == pytest.approx((0.01 + 0.04) ** 0.5 / 2)


def test_survey_noise_follows_the_rule_slope_and_averages_groups():
    from analysis.uncertainty import channel_noise

    points = pd.DataFrame({"unit": ["u1", "u2"], "node": ["B1", "B1"], "points": [10.0, 12.0],
                           "source": ["survey", "self_assessment"]})
    survey = pd.DataFrame({"criterion": ["B1"] * 3, "unit": ["u1", "u1", "u2"], "se": [0.05, 0.05, 0.05],
                           "ci_low": [0.4, 0.4, 0.5], "ci_high": [0.6, 0.6, 0.7], "points_low": [8.0, 8.0, 10.0],
                           "points_high": [12.0, 12.0, 14.0], "maximum": [20.0] * 3, "points": [10.0, 10.0, 12.0]})
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
