"""Design-based regression against R's svyglm (values made by results/reference_regression.R, kept in
results/reference_regression.json): coefficients to a relative 1e-8; standard errors, t statistics, p-values,
interval bounds, covariances and dispersions to 1e-6."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import Design, EstimationError
from analysis import glm as module
from analysis.glm import Regression, regression
from sampling import rake

RESULTS = Path(__file__).parent / "results"
R = json.loads((RESULTS / "reference_regression.json").read_text())
POP = json.loads((RESULTS / "reference.json").read_text())["population"]
DATA = pd.read_csv(RESULTS / "survey_sample.csv")
DATA["fpc_elements"] = DATA.groupby("stratum")["weight"].transform("sum")
DATA["big"] = DATA["x"] > 10

#: (design, case) → (outcome, predictors, family, (by, domain) or None)
CASES = {
    ("stratified", "gaussian_y"): ("y", ["x", "sex", "age"], "gaussian", None),
    ("stratified", "logistic_used"): ("used_online", ["x", "sex", "urban", "province"], "quasibinomial", None),
    ("stratified", "logistic_used_90"): ("used_online", ["x", "sex", "urban", "province"], "quasibinomial", None),
    ("stratified", "urban_gaussian_y"): ("y", ["x"], "gaussian", ("urban", "urban")),
    ("cluster1", "gaussian_y"): ("y", ["x", "urban"], "gaussian", None),
    ("cluster1", "logistic_used"): ("used_online", ["sex", "age", "urban"], "quasibinomial", None),
    ("cluster1", "binomial_used"): ("used_online", ["sex", "age", "urban"], "binomial", None),
    ("cluster1", "female_logistic_used"): ("used_online", ["x", "urban"], "quasibinomial", ("sex", "female")),
    ("cluster1", "logistic_satisfaction"): ("used_online", ["satisfaction", "sex"], "quasibinomial", None),
    ("cluster1", "gaussian_big"): ("y", ["big", "urban"], "gaussian", None),
    ("cluster2", "logistic_used"): ("used_online", ["x", "age"], "quasibinomial", None),
    ("cluster2", "gaussian_x"): ("x", ["sex", "province"], "gaussian", None),
    ("raked", "logistic_used"): ("used_online", ["x", "urban"], "quasibinomial", None),
    ("raked", "gaussian_y"): ("y", ["x", "sex"], "gaussian", None),
    ("raked", "logistic_categorical"): ("used_online", ["urban", "province"], "quasibinomial", None),
    ("raked", "female_logistic_used"): ("used_online", ["x", "urban"], "quasibinomial", ("sex", "female")),
}


@pytest.fixture(scope="module")
def designs():
    weighting = rake(DATA, DATA["weight"], {"sex": POP["sex"], "age": POP["age"]}, tolerance=1e-14)
    return {
        "stratified": Design(DATA, "weight", strata="stratum", fpc="fpc_elements"),
        "cluster1": Design(DATA, "weight", strata="stratum", clusters="psu"),
        "cluster2": Design(DATA, "weight", strata="stratum", clusters=["psu", "ssu"], fpc=["fpc1", "fpc2"]),
        "raked": Design(
            DATA, weighting.weights, strata="stratum", clusters="psu", calibrations=[weighting.calibration]
        ),
    }


def fitted(designs, name, case, design=None) -> Regression:
    outcome, predictors, family, by = CASES[(name, case)]
    design = design or designs[name]
    level = R[name][case]["level"]
    if by is None:
        return regression(design, outcome, predictors, family=family, confidence=level)
    return regression(design, outcome, predictors, family=family, by=by[0], confidence=level)[by[1]]


def check(fit: Regression, reference: dict):
    table = fit.coefficients
    assert list(table.index) == reference["terms"]
    np.testing.assert_allclose(table["estimate"].to_numpy(), reference["estimate"], rtol=1e-8)
    for column in ("se", "t", "p", "ci_low", "ci_high"):
        np.testing.assert_allclose(table[column].to_numpy(), reference[column], rtol=1e-6, err_msg=column)
    covariance = np.array(reference["covariance"])
    scale = np.sqrt(np.outer(np.diag(covariance), np.diag(covariance)))
    np.testing.assert_allclose(fit.covariance.to_numpy() / scale, covariance / scale, atol=1e-8)
    assert fit.degf == reference["degf"]
    assert fit.iterations == reference["iterations"] and fit.converged


def test_reference_was_made_with_survey_4_1():
    assert R["survey_version"].startswith("4.1")


@pytest.mark.parametrize("name, case", list(CASES))
def test_against_svyglm(designs, name, case):
    reference = R[name][case]
    fit = fitted(designs, name, case)
    check(fit, reference)
    np.testing.assert_allclose(fit.predict(DATA.iloc[:10]), reference["predicted"], rtol=1e-8)
    if not (name == "raked" and CASES[(name, case)][3]):  # R counts a calibrated domain's other rows, weight 0
        assert fit.n == reference["n"]
    if fit.n == len(DATA):
        np.testing.assert_allclose(fit.dispersion, reference["dispersion"], rtol=1e-6)


def test_dispersion_with_missing_rows_differs_from_r_by_its_rescaling(designs):
    # R's summary() rescales the weights over the rows kept, its fit over all rows (see the Notes of regression)
    fit = fitted(designs, "stratified", "gaussian_y")
    kept = DATA["y"].notna()
    ratio = DATA.loc[kept, "weight"].mean() / DATA["weight"].mean()
    np.testing.assert_allclose(fit.dispersion * ratio, R["stratified"]["gaussian_y"]["dispersion"], rtol=1e-10)


def test_binomial_and_quasibinomial_agree(designs):
    binomial = fitted(designs, "cluster1", "binomial_used")
    quasi = fitted(designs, "cluster1", "logistic_used")
    pd.testing.assert_frame_equal(binomial.coefficients, quasi.coefficients)


def test_normal_intervals(designs):
    fit = regression(designs["cluster1"], "y", ["x", "urban"], interval="normal")
    table = fit.coefficients
    np.testing.assert_allclose(table["ci_high"] - table["estimate"], 1.959963984540054 * table["se"], rtol=1e-12)
    t_fit = regression(designs["cluster1"], "y", ["x", "urban"])
    pd.testing.assert_series_equal(t_fit.coefficients["se"], table["se"])
    assert (t_fit.coefficients["ci_high"] > table["ci_high"]).all()


def test_by_fits_every_domain(designs):
    fits = regression(designs["cluster1"], "used_online", ["x", "urban"], family="quasibinomial", by="sex")
    assert list(fits) == ["female", "male"]
    check(fits["female"], R["cluster1"]["female_logistic_used"])


def test_a_design_with_variances_only_gives_the_same_covariance(designs):
    class VariancesOnly:
        """A design without ``covariance``: the covariance comes from variances of sums."""

        def __init__(self, design):
            self._design = design
            self.data, self.weights, self.calibrations = design.data, design.weights, design.calibrations

        def variances(self, influence):
            return self._design.variances(influence)

        def first_stage(self):
            return self._design.first_stage()

    for name, case in [("cluster1", "logistic_used"), ("raked", "logistic_used"), ("cluster2", "gaussian_x")]:
        check(fitted(designs, name, case, VariancesOnly(designs[name])), R[name][case])
    # a calibrated design with fewer patterns than coefficients: one sparse column per pattern, or dense columns
    quick = regression(designs["raked"], "used_online", ["urban"], family="quasibinomial")
    slow = regression(VariancesOnly(designs["raked"]), "used_online", ["urban"], family="quasibinomial")
    pd.testing.assert_frame_equal(quick.coefficients, slow.coefficients, rtol=1e-10)


def test_the_pattern_shortcut_gives_the_same_fit(designs, monkeypatch):
    # categorical predictors: the fit runs on distinct rows of the model matrix, the covariance on one column each
    quick = fitted(designs, "cluster2", "gaussian_x")
    monkeypatch.setattr(module, "_PATTERN_COLUMNS", 0)
    slow = fitted(designs, "cluster2", "gaussian_x")
    pd.testing.assert_frame_equal(quick.coefficients, slow.coefficients, rtol=1e-10)
    # the distinct rows found by numbering them (not every combination of levels), the covariance on dense columns
    check(fitted(designs, "cluster1", "logistic_used"), R["cluster1"]["logistic_used"])


def test_a_pandas_categorical_keeps_its_level_order_and_drops_unused_levels(designs):
    data = DATA.assign(age=pd.Categorical(DATA["age"], categories=["55+", "18-34", "35-54", "unused"]))
    design = Design(data, "weight", strata="stratum", clusters="psu")
    fit = regression(design, "used_online", ["age"], family="quasibinomial")
    assert list(fit.coefficients.index) == ["(Intercept)", "age18-34", "age35-54"]
    reference = regression(designs["cluster1"], "used_online", ["age"], family="quasibinomial")
    # the same model with another reference level: the same fitted means
    np.testing.assert_allclose(fit.predict(DATA), reference.predict(DATA), rtol=1e-10)


def test_rows_missing_a_predictor_are_left_out(designs):
    data = DATA.assign(sex=DATA["sex"].where(DATA.index % 10 != 0))
    design = Design(data, "weight", strata="stratum", clusters="psu")
    fit = regression(design, "used_online", ["x", "sex"], family="quasibinomial")
    assert fit.n == len(DATA) - len(DATA[DATA.index % 10 == 0])
    assert np.isnan(fit.predict(data)[0]) and np.isfinite(fit.predict(data)[1])


def test_predict_on_the_link_scale(designs):
    fit = fitted(designs, "cluster1", "logistic_used")
    link = fit.predict(DATA, scale="link")
    np.testing.assert_allclose(1 / (1 + np.exp(-link)), fit.predict(DATA), rtol=1e-12)
    with pytest.raises(EstimationError) as error:
        fit.predict(DATA.assign(age="90+"))
    assert error.value.code == "unknown_level" and error.value.params == {"column": "age", "level": "90+"}
    with pytest.raises(EstimationError) as error:
        fit.predict(DATA, scale="odds")
    assert error.value.code == "unknown_scale"


@pytest.mark.parametrize(
    "kwargs, code, params",
    [
        ({"outcome": "y", "predictors": ["x"], "family": "poisson"}, "unknown_family", None),
        ({"outcome": "y", "predictors": ["x"], "interval": "student"}, "unknown_interval", None),
        ({"outcome": "y", "predictors": ["x"], "confidence": 95}, "invalid_level", {"level": 95}),
        ({"outcome": "y", "predictors": []}, "no_predictors", None),
        ({"outcome": "y", "predictors": ["x", "y"]}, "outcome_among_predictors", {"column": "y"}),
        ({"outcome": "nowhere", "predictors": ["x"]}, "unknown_column", {"column": "nowhere"}),
        ({"outcome": "y", "predictors": ["x", "nowhere"]}, "unknown_column", {"column": "nowhere"}),
        ({"outcome": "y", "predictors": ["x"], "by": "nowhere"}, "unknown_column", {"column": "nowhere"}),
        (
            {"outcome": "x", "predictors": ["sex"], "family": "quasibinomial"},
            "outcome_out_of_range",
            {"column": "x", "row": 0, "value": "5.5094"},
        ),
        (
            {"outcome": "y", "predictors": ["x", "twice_x"]},
            "collinear",
            {"term": "twice_x", "column": "twice_x"},
        ),
        ({"outcome": "y", "predictors": ["constant"]}, "collinear", {"term": "constant", "column": "constant"}),
        (
            {"outcome": "y", "predictors": ["x", "urban", "rural"]},
            "collinear",
            {"term": "ruralyes", "column": "rural"},
        ),
        ({"outcome": "y", "predictors": ["text"]}, "not_numeric", {"column": "text", "row": 3, "value": "abc"}),
        ({"outcome": "nothing", "predictors": ["x"]}, "no_complete_rows", {"column": "nothing"}),
    ],
)
def test_bad_inputs(kwargs, code, params):
    data = DATA.assign(
        twice_x=2 * DATA["x"] + 1,
        constant=3.0,
        rural=np.where(DATA["urban"] == "rural", "yes", "no"),
        text=np.where(DATA.index == 3, "abc", "1"),
        nothing=np.nan,
    )
    data["text"] = data["text"].astype(object)
    data.loc[data.index != 3, "text"] = DATA.loc[DATA.index != 3, "x"]
    design = Design(data, "weight", strata="stratum", clusters="psu")
    with pytest.raises(EstimationError) as error:
        regression(design, **kwargs)
    assert error.value.code == code
    if params is not None:
        assert error.value.params == params


def test_a_level_held_only_by_rows_without_weight_is_collinear():
    weights = np.where(DATA["province"] == "P05", 0.0, DATA["weight"])
    design = Design(DATA, weights, strata="stratum", clusters="psu")
    with pytest.raises(EstimationError) as error:
        regression(design, "y", ["x", "province"])
    assert error.value.code == "collinear" and error.value.params == {"term": "provinceP05", "column": "province"}


def test_an_empty_domain_is_named(designs):
    data = DATA.assign(group=np.where(DATA["y"].isna(), "no y", "with y"))
    design = Design(data, "weight", strata="stratum", clusters="psu")
    with pytest.raises(EstimationError) as error:
        regression(design, "y", ["x"], by="group")
    assert error.value.code == "empty_domain" and error.value.params == {"domain": "no y"}


def test_no_convergence_names_the_outcome(designs, monkeypatch):
    monkeypatch.setattr(module, "MAX_ITERATIONS", 2)
    with pytest.raises(EstimationError) as error:
        regression(designs["cluster1"], "used_online", ["x", "sex"], family="quasibinomial")
    assert error.value.code == "no_convergence" and error.value.params == {"column": "used_online", "iterations": 2}


def test_a_categorical_predictor_with_one_level_is_named(designs):
    with pytest.raises(EstimationError) as error:
        regression(designs["cluster1"], "y", ["x", "sex"], by="sex")
    assert error.value.code == "single_level" and error.value.params == {"column": "sex", "level": "female"}


def test_no_residual_degrees_of_freedom_gives_no_p_values_or_intervals(designs):
    data = DATA.assign(rating=DATA["satisfaction"].astype(str))
    design = Design(data, "weight", strata="stratum", clusters="psu")
    predictors = ["x", "sex", "age", "urban", "province", "rating", "big"]
    fit = regression(design, "y", predictors)
    assert len(fit.coefficients) == 15 and fit.degf == design.degf() + 1 - 15 == 0
    assert fit.coefficients[["p", "ci_low", "ci_high"]].isna().all().all()
    assert fit.coefficients[["estimate", "se", "t"]].notna().all().all()
    normal = regression(design, "y", predictors, interval="normal")
    assert normal.coefficients[["ci_low", "ci_high"]].notna().all().all()


def test_a_predictor_that_separates_the_outcome_does_not_converge():
    # R: svyglm(used_online ~ sep, ...) stops after 25 iterations with "glm.fit: algorithm did not converge"
    data = DATA.assign(sep=np.where(DATA["used_online"] == 1, "a", "b"))
    design = Design(data, "weight", strata="stratum", clusters="psu")
    with pytest.raises(EstimationError) as error:
        regression(design, "used_online", ["sep"], family="quasibinomial")
    assert error.value.code == "no_convergence" and error.value.params == {"column": "used_online", "iterations": 25}
