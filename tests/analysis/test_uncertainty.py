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
