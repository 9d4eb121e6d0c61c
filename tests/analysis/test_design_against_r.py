"""Design-based estimates against R's survey package (values made by results/reference.R, kept in
results/reference.json): estimates to a relative 1e-8, standard errors and design effects to 1e-6."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import Design, EstimationError
from sampling import calibrate, poststratify, rake, trim

RESULTS = Path(__file__).parent / "results"
R = json.loads((RESULTS / "reference.json").read_text())
POP = R["population"]
DATA = pd.read_csv(RESULTS / "survey_sample.csv", dtype={"satisfaction": str})
DATA["fpc_elements"] = DATA.groupby("stratum")["weight"].transform("sum")


def check(table: pd.DataFrame, reference: dict, *, deff: bool = True):
    np.testing.assert_allclose(table["estimate"].to_numpy(), reference["estimate"], rtol=1e-8)
    np.testing.assert_allclose(table["se"].to_numpy(), reference["se"], rtol=1e-6)
    if deff and "deff" in reference:
        np.testing.assert_allclose(table["deff"].to_numpy(), reference["deff"], rtol=1e-6)


def test_reference_was_made_with_survey_4_1():
    assert R["survey_version"].startswith("4.1")


@pytest.fixture(scope="module")
def stratified():
    return Design(DATA, "weight", strata="stratum", fpc="fpc_elements")


@pytest.fixture(scope="module")
def cluster1():
    return Design(DATA, "weight", strata="stratum", clusters="psu")


def test_stratified_with_fpc(stratified):
    check(stratified.mean("y"), R["stratified"]["mean_y"])
    check(stratified.total("y"), R["stratified"]["total_y"])
    check(stratified.mean("used_online"), R["stratified"]["mean_used"])
    check(stratified.ratio("y", "x"), R["stratified"]["ratio_y_x"])


def test_stratified_proportions_of_a_categorical_answer(stratified):
    table = stratified.proportion("satisfaction")
    assert list(table.index.get_level_values("level")) == ["1", "2", "3", "4", "5"]
    check(table, R["stratified"]["proportion_satisfaction"])
    assert table["estimate"].sum() == pytest.approx(1.0, abs=1e-12)


def test_domain_means_as_subpopulations(stratified):
    for name, column in (("by_province_mean_used", "used_online"), ("by_province_mean_y", "y")):
        reference = R["stratified"][name]
        table = stratified.mean(column, by="province")
        assert list(table.index) == reference["domain"]
        check(table, reference)


def test_one_stage_cluster_design(cluster1):
    check(cluster1.mean("x"), R["cluster1"]["mean_x"])
    check(cluster1.total("x"), R["cluster1"]["total_x"])
    check(cluster1.mean("x", by="province"), R["cluster1"]["by_province_mean_x"])


def test_two_stage_cluster_design_with_fpc_at_both_stages():
    design = Design(DATA, "weight", strata="stratum", clusters=["psu", "ssu"], fpc=["fpc1", "fpc2"])
    check(design.mean("x"), R["cluster2"]["mean_x"])
    check(design.total("x"), R["cluster2"]["total_x"])
    check(design.mean("used_online"), R["cluster2"]["mean_used"])


def test_poststratification_weights_and_residual_standard_errors():
    targets = {
        (sex, urban): POP["sex_urban"][f"{sex}.{urban}"] for sex in ("female", "male") for urban in ("rural", "urban")
    }
    weighting = poststratify(DATA, DATA["weight"], ["sex", "urban"], targets)
    np.testing.assert_allclose(weighting.weights, R["poststratified"]["weights"], rtol=1e-10)
    design = Design(DATA, weighting.weights, strata="stratum", clusters="psu", calibrations=[weighting.calibration])
    check(design.mean("x"), R["poststratified"]["mean_x"])
    check(design.total("x"), R["poststratified"]["total_x"])
    check(design.mean("x", by="province"), R["poststratified"]["by_province_mean_x"])


def test_raking_on_two_margins_matches_calibrate_raking():
    weighting = rake(DATA, DATA["weight"], {"sex": POP["sex"], "age": POP["age"]}, tolerance=1e-14)
    np.testing.assert_allclose(weighting.weights, R["raked"]["weights"], rtol=1e-9)
    assert weighting.diagnostics.converged
    design = Design(DATA, weighting.weights, strata="stratum", clusters="psu", calibrations=[weighting.calibration])
    check(design.mean("x"), R["raked"]["mean_x"])
    check(design.mean("used_online"), R["raked"]["mean_used"])
    check(design.mean("used_online", by="province"), R["raked"]["by_province_mean_used"])


def test_raking_by_newton_calibration_reaches_the_same_weights():
    weighting = calibrate(
        DATA, DATA["weight"], {"sex": POP["sex"], "age": POP["age"]}, method="raking", tolerance=1e-14
    )
    np.testing.assert_allclose(weighting.weights, R["raked"]["weights"], rtol=1e-9)


def test_linear_calibration_greg():
    weighting = calibrate(DATA, DATA["weight"], {"sex": POP["sex"]}, totals={"x": POP["x_total"]})
    np.testing.assert_allclose(weighting.weights, R["linear"]["weights"], rtol=1e-9)
    design = Design(DATA, weighting.weights, strata="stratum", clusters="psu", calibrations=[weighting.calibration])
    check(design.mean("y"), R["linear"]["mean_y"])
    check(design.total("used_online"), R["linear"]["total_used"])


def test_bounded_linear_calibration_bounds_the_ratio_to_the_base_weight():
    weighting = calibrate(
        DATA,
        DATA["weight"],
        {"sex": POP["sex"]},
        totals={"x": POP["x_total"]},
        bounds=(0.8, 1.25),
        tolerance=1e-14,
        max_iterations=200,
    )
    np.testing.assert_allclose(weighting.weights, R["linear"]["bounded_weights"], rtol=1e-8)
    ratio = weighting.weights / DATA["weight"].to_numpy()
    assert ratio.min() >= 0.8 - 1e-12 and ratio.max() <= 1.25 + 1e-12
    design = Design(DATA, weighting.weights, strata="stratum", clusters="psu", calibrations=[weighting.calibration])
    check(design.total("used_online"), R["linear"]["bounded_total_used"])


@pytest.mark.parametrize("rule", ["adjust", "certainty"])
def test_single_psu_stratum_rules(rule):
    data = DATA.assign(stratum2=np.where(DATA["psu"] == "S1P1", "S0", DATA["stratum"]))
    design = Design(data, "weight", strata="stratum2", clusters="psu", lonely_psu=rule)
    check(design.mean("x"), R["lonely"][rule]["mean_x"], deff=False)
    check(design.total("x"), R["lonely"][rule]["total_x"], deff=False)


def test_single_psu_stratum_fails_by_default_naming_it():
    data = DATA.assign(stratum2=np.where(DATA["psu"] == "S1P1", "S0", DATA["stratum"]))
    with pytest.raises(EstimationError) as caught:
        Design(data, "weight", strata="stratum2", clusters="psu")
    assert caught.value.code == "lonely_psu" and caught.value.params == {"stratum": "S0", "stage": 1}


def test_jackknife_replicate_variance(cluster1):
    replicates = cluster1.jackknife()
    check(replicates.mean("x"), R["jackknife"]["mean_x"], deff=False)
    check(replicates.total("x"), R["jackknife"]["total_x"], deff=False)
    check(replicates.mean("x", by="province"), R["jackknife"]["by_province_mean_x"], deff=False)


def test_jackknife_with_replicates_raked_again():
    margins = {"sex": POP["sex"], "age": POP["age"]}
    weighting = rake(DATA, DATA["weight"], margins, tolerance=1e-14)
    design = Design(DATA, weighting.weights, strata="stratum", clusters="psu", calibrations=[weighting.calibration])
    replicates = design.jackknife(recalibrate=lambda base: rake(DATA, base, margins, tolerance=1e-14).weights)
    check(replicates.mean("used_online"), R["jackknife"]["raked_mean_used"], deff=False)


def test_trimming_redistributes_as_r_does():
    greg = calibrate(DATA, DATA["weight"], {"sex": POP["sex"]}, totals={"x": POP["x_total"]})
    trimmed = trim(greg.weights, lower=R["trim"]["lower"], upper=R["trim"]["upper"], strict=True)
    np.testing.assert_allclose(trimmed.weights, R["trim"]["weights"], rtol=1e-9)
    assert trimmed.weights.sum() == pytest.approx(greg.weights.sum(), rel=1e-12)
