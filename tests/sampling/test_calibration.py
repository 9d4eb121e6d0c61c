"""Calibration with bounds against R's survey package: logit, bounded linear and bounded raking, with bounds on
g or on the weights (R's bounds.const), and the standard errors of the calibrated design. R's values are made
by results/reference_calibration.R and kept in results/reference_calibration.json: weights to a relative 1e-8,
estimates to 1e-8, standard errors to 1e-6. Bounds that R accepts but cannot use, or that leave no weights
meeting the totals, are refused with an error naming what is wrong."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sampling.calibration
from analysis import Design
from sampling import SamplingError, calibrate

R = json.loads((Path(__file__).parent / "results" / "reference_calibration.json").read_text())
POP = R["population"]
DATA = pd.read_csv(Path(__file__).parents[1] / "analysis" / "results" / "survey_sample.csv")
MAIN = {"sex": POP["sex"], "age": POP["age"], "urban": POP["urban"]}
CASES = [name for name, value in R.items() if isinstance(value, dict) and "weights" in value]


def margins_of(name: str) -> dict:
    return {"province": POP["province"], "sex": POP["sex"]} if "province" in name else MAIN


def calibrated(name: str, **options):
    reference = R[name]
    return calibrate(
        DATA,
        DATA["weight"],
        margins_of(name),
        totals={"x": POP["x_total"]},
        method=reference["calfun"],
        bounds=tuple(reference["bounds"]),
        bounds_on_weights=reference["bounds_const"],
        tolerance=1e-13,  # R's epsilon = 1e-13 in the reference
        max_iterations=200,
        **options,
    )


def check(table: pd.DataFrame, reference: dict):
    np.testing.assert_allclose(table["estimate"].to_numpy(), reference["estimate"], rtol=1e-8)
    np.testing.assert_allclose(table["se"].to_numpy(), reference["se"], rtol=1e-6)


def test_reference_was_made_with_survey_4_1():
    assert R["survey_version"].startswith("4.1")
    assert len(CASES) == 10


def test_calibrate_is_exported_from_its_own_module():
    assert calibrate is sampling.calibration.calibrate


@pytest.mark.parametrize("name", CASES)
def test_calibrated_weights_match_r(name):
    reference = R[name]
    weighting = calibrated(name)
    np.testing.assert_allclose(weighting.weights, reference["weights"], rtol=1e-8)
    g = weighting.weights / DATA["weight"].to_numpy()
    assert g.min() == pytest.approx(reference["g_min"], rel=1e-8)
    assert g.max() == pytest.approx(reference["g_max"], rel=1e-8)
    assert weighting.diagnostics.converged and weighting.diagnostics.clean
    # every total met: the sample's weighted counts and total of x are the population's
    for margin, counts in margins_of(name).items():
        reached = pd.Series(weighting.weights).groupby(DATA[margin].to_numpy()).sum()
        np.testing.assert_allclose(reached[list(counts)].to_numpy(), list(counts.values()), rtol=1e-10)
    assert weighting.weights @ DATA["x"].to_numpy() == pytest.approx(POP["x_total"], rel=1e-10)


@pytest.mark.parametrize("name", CASES)
def test_bounds_hold_as_in_r(name):
    reference = R[name]
    weighting = calibrated(name)
    lower, upper = reference["bounds"]
    held = weighting.weights if reference["bounds_const"] else weighting.weights / DATA["weight"].to_numpy()
    assert held.min() >= lower * (1 - 1e-12) and held.max() <= upper * (1 + 1e-12)
    at_bounds = (np.abs(held - lower) < 1e-8 * lower) | (np.abs(held - upper) < 1e-8 * upper)
    assert at_bounds.sum() == reference["at_bounds"]
    if reference["calfun"] == "logit":
        # the logit g-function never reaches its bounds
        assert reference["at_bounds"] == 0
    else:
        # linear and raking clip g: here some end at a bound (31 and 127 linear, 30 and 123 raking)
        assert reference["at_bounds"] > 0


@pytest.mark.parametrize("name", CASES)
def test_standard_errors_on_the_calibrated_design_match_r(name):
    # R's calibrate stores the same calibration (model matrix, initial weights, g) for every distance: the
    # design's residuals give svymean's and svytotal's standard errors
    reference = R[name]
    weighting = calibrated(name)
    assert weighting.calibration.kind == f"calibrate_{reference['calfun']}"
    np.testing.assert_allclose(weighting.calibration.factors * DATA["weight"], weighting.weights, rtol=1e-14)
    design = Design(DATA, weighting.weights, strata="stratum", clusters="psu", calibrations=[weighting.calibration])
    check(design.mean("y"), reference["mean_y"])
    check(design.total("y"), reference["total_y"])
    check(design.mean("used_online"), reference["mean_used"])
    check(design.total("used_online"), reference["total_used"])
    by_province = design.mean("used_online", by="province")
    assert list(by_province.index) == reference["by_province_mean_used"]["domain"]
    check(by_province, reference["by_province_mean_used"])


def test_bounds_that_do_not_bind_give_the_unbounded_greg_weights():
    # with g between 0.75 and 1.35 unbounded, bounds [0.5, 2] change nothing
    plain = calibrate(DATA, DATA["weight"], MAIN, totals={"x": POP["x_total"]})
    bounded = calibrate(DATA, DATA["weight"], MAIN, totals={"x": POP["x_total"]}, bounds=(0.5, 2), tolerance=1e-13)
    np.testing.assert_allclose(bounded.weights, plain.weights, rtol=1e-10)


def test_rows_without_weight_stay_at_zero():
    weights = DATA["weight"].to_numpy().copy()
    weights[:5] = 0
    weighting = calibrate(
        DATA, weights, MAIN, totals={"x": POP["x_total"]}, method="logit", bounds=(600, 1800), bounds_on_weights=True
    )
    assert (weighting.weights[:5] == 0).all() and (weighting.calibration.factors[:5] == 1).all()
    assert weighting.diagnostics.zero == 5
    held = weighting.weights[5:]
    assert held.min() > 600 and held.max() < 1800
    assert weighting.weights @ DATA["x"].to_numpy() == pytest.approx(POP["x_total"], rel=1e-9)


# --- bounds refused ---------------------------------------------------------------------------------------


def refused(**options) -> SamplingError:
    with pytest.raises(SamplingError) as caught:
        calibrate(DATA, DATA["weight"], MAIN, totals={"x": POP["x_total"]}, **options)
    return caught.value


def test_logit_without_bounds_is_refused_as_in_r():
    assert R["refused"]["logit_unbounded"]["message"] == "Logit calibration requires finite bounds"
    error = refused(method="logit")
    assert (error.code, error.params) == ("logit_needs_bounds", {"lower": -math.inf, "upper": math.inf})
    assert refused(method="logit", bounds=(0.5, math.inf)).code == "logit_needs_bounds"


def test_bounds_without_one_between_them_are_refused():
    # R returns logit weights with g outside [1.1, 2], without a warning, and never moves from g = 1 with a
    # linear lower bound of 1
    assert R["refused"]["logit_above_one"]["outcome"] == "weights" and R["refused"]["logit_above_one"]["g_min"] < 1.1
    assert R["refused"]["linear_from_one"]["message"] == "Calibration failed"
    for method, bounds in (("logit", (1.1, 2)), ("linear", (1, 2)), ("raking", (0.5, 1)), ("linear", (0.2, 0.9))):
        error = refused(method=method, bounds=bounds)
        assert (error.code, error.params) == ("bounds_exclude_one", {"lower": bounds[0], "upper": bounds[1]})


def test_logit_bounds_on_the_weights_must_hold_every_initial_weight():
    assert R["refused"]["logit_weights_outside"]["outcome"] == "weights"  # R: g from 0.23 to 2.33, no warning
    error = refused(method="logit", bounds=(650, 1600), bounds_on_weights=True)
    assert error.code == "weight_outside_bounds"
    row = error.params["row"]
    assert error.params["weight"] == DATA["weight"][row] and not 650 < DATA["weight"][row] < 1600
    # linear and raking move the initial weights outside them in, as R does (the reference cases above)
    assert R["linear_weights_650_1600"]["g_max"] > 1


@pytest.mark.parametrize("bounds", [(1.25, 0.8), (1, 1), (math.nan, 2), (0.8,), None, ("low", "high")])
def test_bounds_that_are_not_two_increasing_numbers_are_refused(bounds):
    assert refused(bounds=bounds).code == "invalid_bounds"


def test_unknown_method_is_refused():
    assert refused(method="truncated").code == "unknown_method"


# --- totals out of reach ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["linear", "raking", "logit"])
def test_bounds_too_narrow_for_the_totals_say_so(method):
    # R: grake fails to converge and calibrate stops with "Calibration failed"
    assert R["refused"][f"{method}_narrow"]["message"] == "Calibration failed"
    error = refused(method=method, bounds=(0.9, 1.1), tolerance=1e-13, max_iterations=200)
    assert error.code == "calibration_no_convergence"
    assert (error.params["lower"], error.params["upper"], error.params["iterations"]) == (0.9, 1.1, 200)
    # the total furthest off is named by its margin and level
    assert error.params["column"] == "age = 55+" and error.params["gap"] > 1000
    assert "[0.9, 1.1] leave no calibrated weights" in str(error)


def test_unbounded_raking_to_a_total_no_positive_weights_reach_names_its_lower_bound_zero():
    # ten times the total of x: above the largest x times the population
    with pytest.raises(SamplingError) as caught:
        calibrate(DATA, DATA["weight"], MAIN, totals={"x": 10 * POP["x_total"]}, method="raking")
    assert caught.value.code == "calibration_no_convergence"
    assert (caught.value.params["lower"], caught.value.params["upper"]) == (0, math.inf)
    assert caught.value.params["column"] == "x"


def test_too_few_iterations_are_told_apart_from_bounds_too_narrow():
    # weights within [0.85, 1.2] meet the totals (R reaches them in the reference), but not in 3 steps
    error = refused(method="logit", bounds=(0.85, 1.2), max_iterations=3)
    assert error.code == "calibration_not_settled" and error.params["iterations"] == 3
    assert error.params["column"] in ("sex = female", "sex = male", "age = 18-34", "age = 35-54", "age = 55+", "x")


def test_totals_that_contradict_each_other_are_named():
    # a 0/1 column of the men with a total that is not the margin's count of men: no weights meet both
    data = DATA.assign(male=(DATA["sex"] == "male").astype(float))
    with pytest.raises(SamplingError) as caught:
        calibrate(data, data["weight"], {"sex": POP["sex"]}, totals={"male": 100000.0})
    assert caught.value.code == "calibration_inconsistent_totals"
    assert caught.value.params["column"] in ("male", "sex = male", "sex = female")
    # the same column with the margin's count is collinear but consistent: calibrated in one step
    consistent = calibrate(data, data["weight"], {"sex": POP["sex"]}, totals={"male": float(POP["sex"]["male"])})
    assert consistent.weights @ data["male"].to_numpy() == pytest.approx(POP["sex"]["male"], rel=1e-10)
