"""Sample size, allocation, selection and the weighting errors, against hand computations."""

import numpy as np
import pandas as pd
import pytest

from sampling import (
    SamplingError,
    adjust_nonresponse,
    allocate,
    base_weights,
    margin_of_error,
    poststratify,
    pps_probabilities,
    rake,
    sample_size_mean,
    sample_size_proportion,
    select,
    trim,
)

Z95 = 1.959963984540054


def test_sample_size_for_a_proportion_by_hand():
    # n0 = 1.96² × 0.25 / 0.05² = 384.146 → 385
    assert sample_size_proportion(0.05) == 385
    # design effect 1.5: 576.22 → 577
    assert sample_size_proportion(0.05, deff=1.5) == 577
    # finite population 2,000: 384.146 / (1 + 383.146 / 2000) = 322.38 → 323
    assert sample_size_proportion(0.05, population=2000) == 323
    # 60% response: 384.146 / 0.6 = 640.24 → 641
    assert sample_size_proportion(0.05, response_rate=0.6) == 641
    # p = 0.2, 99%: 2.5758² × 0.16 / 0.03² = 1179.5 → 1180
    assert sample_size_proportion(0.03, proportion=0.2, confidence=0.99) == 1180


def test_sample_size_for_a_mean_by_hand():
    # (1.96 × 12 / 2)² = 138.29 → 139
    assert sample_size_mean(2, 12) == 139


def test_margin_of_error_inverts_the_size():
    assert margin_of_error(385) == pytest.approx(Z95 * np.sqrt(0.25 / 385))
    assert margin_of_error(100, population=400) == pytest.approx(Z95 * np.sqrt(0.25 / 100 * 0.75))


def test_bad_requests_are_refused_with_a_code():
    with pytest.raises(SamplingError) as caught:
        sample_size_proportion(0.05, response_rate=0)
    assert caught.value.code == "invalid_response_rate"


POPULATION = pd.Series({"A": 5000, "B": 3000, "C": 1500, "D": 400, "E": 100})


@pytest.mark.parametrize(
    "method, expected",
    [
        ("equal", [200, 200, 200, 200, 100]),  # E cannot give more than its 100; the rest shared equally
        ("proportional", [500, 300, 150, 40, 10]),
        ("power", None),
    ],
)
def test_allocation_sums_to_the_total(method, expected):
    allocation = allocate(POPULATION, 900 if method == "equal" else 1000, method)
    assert allocation.sizes.sum() == (900 if method == "equal" else 1000)
    if expected:
        assert allocation.sizes.tolist() == expected


def test_power_allocation_by_hand():
    # sqrt(N_h): 70.71, 54.77, 38.73, 20, 10 → total 194.21; 500 × share = 182.05, 141.01, 99.71, 51.49, 25.75
    allocation = allocate(POPULATION, 500, "power", power=0.5)
    assert allocation.sizes.tolist() == [182, 141, 100, 51, 26]


def test_neyman_allocation_by_hand():
    sd = pd.Series({"A": 1.0, "B": 2.0, "C": 2.0, "D": 5.0, "E": 1.0})
    # N_h S_h: 5000, 6000, 3000, 2000, 100 = 16100; × 322 / 16100 = 100, 120, 60, 40, 2
    assert allocate(POPULATION, 322, "neyman", sd=sd).sizes.tolist() == [100, 120, 60, 40, 2]


def test_largest_remainder_rounding_and_bounds():
    # proportional 101: 50.5, 30.3, 15.15, 4.04, 1.01 → floors 50, 30, 15, 4, 1 = 100, one more to A (0.5)
    assert allocate(POPULATION, 101, "proportional").sizes.tolist() == [51, 30, 15, 4, 1]
    # A's 500 is capped at 450; of the 550 left E's 11 is lifted to 30; B, C, D share 520 in proportion:
    # 318.37, 159.18, 42.45 → floors 318, 159, 42 and the one unit left to D's largest remainder
    bounded = allocate(POPULATION, 1000, "proportional", minimum=30, maximum=450)
    assert bounded.sizes.tolist() == [450, 318, 159, 43, 30]
    assert bounded.sizes.sum() == 1000
    assert (bounded.sizes >= 30).all() and (bounded.sizes <= 450).all()


@pytest.mark.parametrize("seed", range(20))
def test_allocation_always_respects_total_and_bounds(seed):
    rng = np.random.default_rng(seed)
    population = pd.Series(rng.integers(50, 20000, 30))
    total = int(rng.integers(300, 3000))
    minimum = int(rng.integers(0, 10))
    allocation = allocate(population, total, ["equal", "proportional", "power"][seed % 3], minimum=minimum, maximum=400)
    assert allocation.sizes.sum() == total
    assert (allocation.sizes >= minimum).all() and (allocation.sizes <= 400).all()


def test_impossible_minimum_names_the_numbers():
    with pytest.raises(SamplingError) as caught:
        allocate(POPULATION, 100, minimum=30)
    assert caught.value.code == "minimum_exceeds_total"
    assert caught.value.params == {"minimum": 30, "strata": 5, "needed": 150, "total": 100}


def test_expected_margins_by_stratum_and_by_unit():
    allocation = allocate(pd.Series({"P1.urban": 1000, "P1.rural": 3000}), 400, "proportional")
    table = allocation.table
    assert table.loc["P1.urban", "margin_of_error"] == pytest.approx(Z95 * np.sqrt(0.25 / 100 * 0.9))
    # the province: Σ W_h² pq (1-f_h)/n_h = 0.0625×0.25×0.9/100 + 0.5625×0.25×0.9/300
    margin = allocation.margin_by({"P1.urban": "P1", "P1.rural": "P1"})["P1"]
    assert margin == pytest.approx(Z95 * np.sqrt(0.0625 * 0.25 * 0.9 / 100 + 0.5625 * 0.25 * 0.9 / 300))


@pytest.mark.parametrize("name", ["group", "size", "population", "margin_of_error"])
def test_margins_by_unit_whatever_the_stratum_columns_are_called(name):
    # a stratum column may have the name of a column the allocation computes or uses
    index = pd.MultiIndex.from_tuples([("P1", "urban"), ("P1", "rural")], names=[name, "urban"])
    allocation = allocate(pd.Series([1000, 3000], index=index), 400, "proportional")
    assert allocation.sizes.tolist() == [100, 300]
    groups = pd.Series(["P1", "P1"], index=index)
    assert allocation.margin_by(groups)["P1"] == pytest.approx(
        Z95 * np.sqrt(0.0625 * 0.25 * 0.9 / 100 + 0.5625 * 0.25 * 0.9 / 300)
    )


FRAME = pd.DataFrame(
    {"id": range(1, 201), "province": ["P1"] * 120 + ["P2"] * 80, "employees": np.r_[np.arange(1, 121), np.full(80, 5)]}
)


@pytest.mark.parametrize("method", ["srs", "systematic"])
def test_equal_probability_selection_is_reproducible(method):
    first = select(FRAME, {"P1": 12, "P2": 8}, method=method, strata="province", seed=7)
    again = select(FRAME, {"P1": 12, "P2": 8}, method=method, strata="province", seed=7)
    other = select(FRAME, {"P1": 12, "P2": 8}, method=method, strata="province", seed=8)
    assert first["id"].tolist() == again["id"].tolist() != other["id"].tolist()
    assert first.groupby("province").size().to_dict() == {"P1": 12, "P2": 8}
    assert np.allclose(first["inclusion_probability"], 0.1)


def test_pps_probabilities_take_large_units_with_certainty():
    # sizes 50, 30, 10, 5, 5 for n = 3: 50 → 1.5 ≥ 1, certain; then 30,10,5,5 share 2: 1.2 ≥ 1, certain;
    # then 10,5,5 share 1: 0.5, 0.25, 0.25
    assert pps_probabilities(np.array([50, 30, 10, 5, 5]), 3).tolist() == [1, 1, 0.5, 0.25, 0.25]


def test_pps_systematic_selection():
    sample = select(FRAME, 20, method="pps_systematic", size="employees", seed=3)
    assert len(sample) == 20 and sample["id"].is_unique
    expected = pps_probabilities(FRAME["employees"].to_numpy(float), 20)
    assert np.allclose(sample["inclusion_probability"], expected[sample.index])
    assert base_weights(sample["inclusion_probability"]).weights.min() >= 1


def test_nonresponse_adjustment_by_hand():
    result = adjust_nonresponse([10, 10, 20, 5, 5], [True, False, True, True, False], ["a", "a", "a", "b", "b"])
    # class a: 40 / 30 = 4/3; class b: 10 / 5 = 2
    assert result.weights.tolist() == pytest.approx([40 / 3, 0, 80 / 3, 10, 0])
    with pytest.raises(SamplingError) as caught:
        adjust_nonresponse([1, 1], [False, True], ["a", "b"])
    assert caught.value.params == {"level": "a"}


SAMPLE = pd.DataFrame({"sex": ["f", "f", "m", "m", "m"], "age": ["y", "o", "y", "o", "o"]})


def test_poststratification_by_hand_and_its_errors():
    result = poststratify(SAMPLE, [1, 1, 1, 1, 1], "sex", {"f": 60, "m": 40})
    assert result.weights.tolist() == pytest.approx([30, 30, 40 / 3, 40 / 3, 40 / 3])
    assert result.diagnostics.effective_n == pytest.approx(100**2 / (2 * 900 + 3 * (40 / 3) ** 2))
    with pytest.raises(SamplingError) as caught:
        poststratify(SAMPLE, [1] * 5, "sex", {"f": 60, "m": 30, "x": 10})
    assert (caught.value.code, caught.value.params["level"]) == ("empty_level", "x")
    with pytest.raises(SamplingError) as caught:
        poststratify(SAMPLE, [1] * 5, "sex", {"f": 60})
    assert (caught.value.code, caught.value.params["level"]) == ("unknown_level", "m")


def test_raking_by_hand_and_its_errors():
    result = rake(SAMPLE, [1] * 5, {"sex": {"f": 50, "m": 50}, "age": {"y": 40, "o": 60}})
    weights = pd.Series(result.weights)
    assert weights[SAMPLE["sex"] == "f"].sum() == pytest.approx(50)
    assert weights[SAMPLE["age"] == "o"].sum() == pytest.approx(60)
    assert result.diagnostics.converged and result.diagnostics.iterations > 1
    with pytest.raises(SamplingError) as caught:
        rake(SAMPLE, [1] * 5, {"sex": {"f": 50, "m": 50}, "age": {"y": 40, "o": 70}})
    assert caught.value.code == "margin_totals_differ"
    assert caught.value.params["margin"] == "age" and caught.value.params["first"] == "sex"
    with pytest.raises(SamplingError) as caught:
        rake(SAMPLE, [1] * 5, {"sex": {"f": 50, "m": 50}, "age": {"y": 40, "o": 60}}, max_iterations=1)
    assert caught.value.code == "no_convergence" and caught.value.params["margin"] in ("sex", "age")


def test_trimming_keeps_the_total():
    result = trim([1, 1, 1, 1, 16], upper=8)
    # 8 trimmed off, shared equally by the four others: 3 each
    assert result.weights.tolist() == [3, 3, 3, 3, 8]
    assert result.diagnostics.ratio == pytest.approx(8 / 3)


def test_trimming_when_every_weight_is_out_of_bounds():
    # 450, 450, 33.3 × 3 (total 1000) into [100, 300]: the two large ones are cut to 300 and their 300 of
    # excess goes to the small ones, raised to the lower bound first: 100 + 100/3 each
    result = trim([450, 450, 100 / 3, 100 / 3, 100 / 3], lower=100, upper=300)
    assert result.weights == pytest.approx([300, 300, 400 / 3, 400 / 3, 400 / 3])
    assert result.diagnostics.converged
