"""Cases that used to pass silently: negative calibrated weights, trimming that leaves weights outside, PPS
samples larger than the units that can be drawn, Neyman allocation with nothing to follow. Against R where
R computes a value (results/reference_weights_checks.R, kept in results/reference_weights_checks.json), to a
relative 1e-8 for weights; where R gives no usable answer, we raise."""

import inspect
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sampling import (
    SamplingError,
    adjust_nonresponse,
    allocate,
    calibrate,
    diagnose,
    pps_probabilities,
    select,
    trim,
)

R = json.loads((Path(__file__).parent / "results" / "reference_weights_checks.json").read_text())
API = pd.DataFrame(R["data"])  # R's apiclus1: 183 schools, every base weight 33.847


def test_reference_was_made_with_survey_4_1_and_sampling_2_9():
    assert R["survey_version"].startswith("4.1") and R["sampling_version"].startswith("2.9")


def test_linear_calibration_to_ten_times_a_total_reports_its_negative_weights():
    weighting = calibrate(API, API["pw"], totals={"api99": 10 * R["api99_total"]}, population=R["population"])
    reference = R["linear_10x"]
    np.testing.assert_allclose(weighting.weights, reference["weights"], rtol=1e-8)
    diagnostics = weighting.diagnostics
    # every weight counted: 183 schools, 86 of them with a negative weight (R: the same counts)
    assert (diagnostics.n, diagnostics.negative, diagnostics.zero) == (183, 86, 0)
    assert (reference["n"], reference["negative"], reference["zero"]) == (183, 86, 0)
    # the true extremes: -3,498.68 and 4,165.55, not the smallest positive weight
    assert diagnostics.minimum == pytest.approx(reference["minimum"], rel=1e-8)
    assert diagnostics.minimum == pytest.approx(-3498.68, abs=0.01)
    assert diagnostics.maximum == pytest.approx(reference["maximum"], rel=1e-8)
    assert diagnostics.total == pytest.approx(reference["total"], rel=1e-8)
    assert math.isnan(diagnostics.ratio)
    # the equations are met, but the weights are not clean
    assert diagnostics.converged and not diagnostics.clean


def test_bounded_linear_calibration_cannot_reach_ten_times_the_total_with_weights_above_zero():
    with pytest.raises(SamplingError) as caught:
        calibrate(
            API, API["pw"], totals={"api99": 10 * R["api99_total"]}, population=R["population"], bounds=(0, np.inf)
        )
    assert caught.value.code == "calibration_no_convergence"


def test_diagnostic_counts_every_weight_by_hand():
    diagnostics = diagnose(np.array([0.0, -2.0, 1.0, 4.0]), iterations=3, converged=True)
    assert (diagnostics.n, diagnostics.zero, diagnostics.negative) == (4, 1, 1)
    assert (diagnostics.minimum, diagnostics.maximum, diagnostics.total) == (-2, 4, 3)
    # over the 3 nonzero weights: (Σw)² / Σw² = 9 / 21, Kish's 3 × 21 / 9 = 7
    assert diagnostics.effective_n == pytest.approx(9 / 21) and diagnostics.deff_weighting == pytest.approx(7)
    assert math.isnan(diagnostics.ratio) and diagnostics.converged and not diagnostics.clean
    positive = diagnose(np.array([1.0, 1.0, 1.0, 1.0, 16.0]))
    assert (positive.n, positive.minimum, positive.ratio, positive.clean) == (5, 1, 16, True)


def test_nonresponse_diagnostic_counts_the_non_respondents_as_zero_weights():
    result = adjust_nonresponse([10, 10, 20, 5, 5], [True, False, True, True, False], ["a", "a", "a", "b", "b"])
    # weights 40/3, 0, 80/3, 10, 0: 5 units, 2 of them non-respondents; the rest from 10 to 80/3
    diagnostics = result.diagnostics
    assert (diagnostics.n, diagnostics.zero, diagnostics.negative) == (5, 2, 0)
    assert diagnostics.minimum == pytest.approx(10) and diagnostics.ratio == pytest.approx(8 / 3)
    assert diagnostics.total == pytest.approx(50) and diagnostics.clean


def test_trim_keeps_strict_as_its_default_unlike_r():
    # R's trimWeights defaults to strict = FALSE; ours stays strict because the service trims without naming
    # it and shows the bounds as holding (see trim's docstring)
    assert R["trim"]["default_strict"] is False
    assert inspect.signature(trim).parameters["strict"].default is True


def test_trimming_once_matches_trimweights_default():
    reference = R["trim"]
    result = trim(reference["weights"], lower=reference["lower"], upper=reference["upper"], strict=False)
    np.testing.assert_allclose(result.weights, reference["once"], rtol=1e-10)
    # one pass leaves 5 weights outside [15.75, 47.56] (R: the same 5): not converged
    outside = (result.weights < reference["lower"]) | (result.weights > reference["upper"])
    assert outside.sum() == reference["once_outside"] == 5
    assert result.diagnostics.iterations == 1 and not result.diagnostics.converged
    assert result.weights.sum() == pytest.approx(sum(reference["weights"]), rel=1e-12)


def test_strict_trimming_matches_trimweights_strict():
    reference = R["trim"]
    result = trim(reference["weights"], lower=reference["lower"], upper=reference["upper"], strict=True)
    np.testing.assert_allclose(result.weights, reference["strict"], rtol=1e-10)
    assert reference["strict_outside"] == 0 and result.diagnostics.converged
    assert result.diagnostics.iterations == 16
    assert result.weights.sum() == pytest.approx(sum(reference["weights"]), rel=1e-12)


def test_trimming_negative_weights_at_zero_once_as_r_and_strictly_with_an_error():
    weights = R["linear_10x"]["weights"]
    once = trim(weights, lower=0, strict=False)
    # trimmed at 0, the 86 negative weights' deficit is taken from the 97 others: 52 of them go below 0
    np.testing.assert_allclose(once.weights, R["trim_at_zero"]["once"], rtol=1e-8, atol=1e-9)
    assert (once.weights < 0).sum() == R["trim_at_zero"]["once_negative"] == 52
    assert once.diagnostics.negative == 52 and not once.diagnostics.converged
    # strictly it never settles (R's trimWeights(strict = TRUE) recurses until its stack runs out)
    assert R["trim_at_zero"]["strict"] == "error"
    with pytest.raises(SamplingError) as caught:
        trim(weights, lower=0)
    assert caught.value.code == "trim_no_convergence"
    assert caught.value.params["iterations"] == 100 and caught.value.params["outside"] > 0
    assert 0 < caught.value.params["gap"] < 1e-3


def test_pps_probabilities_cap_at_one_and_rescale_as_inclusionprobabilities():
    small = R["pps"]["small"]
    # sizes 500, 300, 120, 60, 40 reach 1 in turn (2.83; 2.68; 1.85; 1.29; 40 × 2 / 80 = 1), then 20, 10, 5, 5
    # share the last unit over 40 and the unit of size 0 gets 0
    expected = [1, 1, 1, 1, 1, 0.5, 0.25, 0, 0.125, 0.125]
    assert small["probability"] == expected
    probability = pps_probabilities(np.array(small["size"]), small["n"])
    np.testing.assert_allclose(probability, expected, rtol=1e-12)
    assert probability.sum() == pytest.approx(6)
    enroll = R["pps"]["enroll"]
    probability = pps_probabilities(np.array(enroll["size"]), enroll["n"])
    np.testing.assert_allclose(probability, enroll["probability"], rtol=1e-10)
    assert probability.sum() == pytest.approx(60) and probability.max() == 1


def test_pps_sample_larger_than_the_units_with_a_size_is_refused():
    # R's inclusionprobabilities(c(3, 0, 1), 3) gives 1, 0, 1: a sample of 2, not 3
    too_many = R["pps"]["too_many"]
    assert too_many["probability"] == [1, 0, 1]
    with pytest.raises(SamplingError) as caught:
        pps_probabilities(np.array(too_many["size"]), too_many["n"])
    assert (caught.value.code, caught.value.params) == ("sample_exceeds_sized_units", {"n": 3, "units": 2})
    with pytest.raises(SamplingError) as caught:
        pps_probabilities(np.array([1.0, 1.0, 1.0]), 5)
    assert caught.value.params == {"n": 5, "units": 3}
    # as many as there are units with a size: every one of them is certain
    assert pps_probabilities(np.array([3.0, 0.0, 1.0]), 2).tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    "size, n, code, params",
    [
        ([3.0, -1.0, 2.0], 1, "invalid_size", {"row": 1, "value": -1.0}),
        ([3.0, 2.0, float("nan")], 1, "invalid_size", {"row": 2}),
        ([3.0, 2.0], 1.5, "invalid_total", {"total": 1.5}),
        ([3.0, 2.0], -1, "invalid_total", {"total": -1}),
    ],
)
def test_pps_probabilities_refuse_bad_sizes_and_sample_sizes(size, n, code, params):
    with pytest.raises(SamplingError) as caught:
        pps_probabilities(np.array(size), n)
    assert caught.value.code == code
    assert {key: caught.value.params[key] for key in params} == params


def test_pps_selection_names_the_value_of_a_bad_size():
    frame = pd.DataFrame({"id": [1, 2, 3], "employees": [10, 0, 5]})
    with pytest.raises(SamplingError) as caught:
        select(frame, 1, method="pps_systematic", size="employees")
    assert (caught.value.code, caught.value.params) == ("invalid_size", {"row": 1, "value": 0})


def test_neyman_allocation_with_every_deviation_zero_is_refused():
    population = {"a": 100, "b": 100, "c": 200}
    with pytest.raises(SamplingError) as caught:
        allocate(population, 30, "neyman", sd={"a": 0, "b": 0, "c": 0})
    assert (caught.value.code, caught.value.params) == ("zero_deviations", {"strata": 3})
    # a deviation only where there is nobody: still nothing to follow
    with pytest.raises(SamplingError):
        allocate({"a": 100, "b": 0}, 30, "neyman", sd={"a": 0, "b": 2})
    # nothing to allocate: nothing to refuse
    assert allocate(population, 0, "neyman", sd={"a": 0, "b": 0, "c": 0}).sizes.tolist() == [0, 0, 0]


def test_neyman_allocation_with_some_deviations_zero_by_hand():
    population = {"a": 100, "b": 100, "c": 200}
    sd = {"a": 0, "b": 1, "c": 1}
    # N_h S_h: 0, 100, 200 → 0, 10, 20 of 30
    assert allocate(population, 30, "neyman", sd=sd).sizes.tolist() == [0, 10, 20]
    # a minimum of 2: a gets 2, b and c share 28 as 9.33 and 18.67 → 9 and 19 (the larger remainder)
    assert allocate(population, 30, "neyman", sd=sd, minimum=2).sizes.tolist() == [2, 9, 19]
