"""Quantiles with Woodruff's intervals and population variances against R's survey package (values made by
results/reference_distribution.R, kept in results/reference_distribution.json): estimates to a relative 1e-8,
standard errors and bounds to 1e-6; and the errors for bad inputs."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import Design, EstimationError
from analysis.distribution import INTERVAL_TYPES, RULES, quantiles, variance
from sampling import rake

RESULTS = Path(__file__).parent / "results"
R = json.loads((RESULTS / "reference_distribution.json").read_text())
POP = R["population"]
DATA = pd.read_csv(RESULTS / "survey_sample.csv", dtype={"satisfaction": str})
DATA["fpc_elements"] = DATA.groupby("stratum")["weight"].transform("sum")
DATA["x_round"] = DATA["x"].round()  # many ties; numpy rounds half to even, as R


def values(reference) -> np.ndarray:
    """R's numbers, NaN where R has NA (a bound whose share falls outside [0, 1])."""
    return np.array([np.nan if v is None else v for v in np.atleast_1d(reference)], dtype=float)


def check(table: pd.DataFrame, reference: dict):
    np.testing.assert_allclose(table["estimate"].to_numpy(), values(reference["estimate"]), rtol=1e-8)
    np.testing.assert_allclose(table["se"].to_numpy(), values(reference["se"]), rtol=1e-6)
    np.testing.assert_allclose(table["ci_low"].to_numpy(), values(reference["low"]), rtol=1e-6)
    np.testing.assert_allclose(table["ci_high"].to_numpy(), values(reference["high"]), rtol=1e-6)


@pytest.fixture(scope="module")
def designs():
    weighting = rake(DATA, DATA["weight"], {"sex": POP["sex"], "age": POP["age"]}, tolerance=1e-14)
    np.testing.assert_allclose(weighting.weights, R["raked_weights"], rtol=1e-9)
    return {
        "stratified": Design(DATA, "weight", strata="stratum", fpc="fpc_elements"),
        "cluster1": Design(DATA, "weight", strata="stratum", clusters="psu"),
        "cluster2": Design(DATA, "weight", strata="stratum", clusters=["psu", "ssu"], fpc=["fpc1", "fpc2"]),
        "raked": Design(
            DATA, weighting.weights, strata="stratum", clusters="psu", calibrations=[weighting.calibration]
        ),
    }


def test_reference_was_made_with_survey_4_1():
    assert R["survey_version"].startswith("4.1")


def test_the_reference_covers_every_rule_and_interval_type():
    cases = R["quantiles"].values()
    assert {case["rule"] for case in cases} == set(RULES)
    assert {case["interval"] for case in cases} == set(INTERVAL_TYPES)
    assert {case["design"] for case in cases} == {"stratified", "cluster1", "cluster2", "raked"}


@pytest.mark.parametrize("case", sorted(R["quantiles"]))
def test_quantiles_match_svyquantile(designs, case):
    reference = R["quantiles"][case]
    table = quantiles(
        designs[reference["design"]],
        reference["column"],
        reference["probabilities"],
        by=reference.get("by"),
        confidence=reference["level"],
        interval_type=reference["interval"],
        rule=reference["rule"],
    )
    probabilities = reference["probabilities"]
    domains = np.atleast_1d(reference["domain"])
    assert list(table.index) == [(domain, p) for domain in domains for p in probabilities]
    assert table.index.names == [reference.get("by", "variable"), "probability"]
    check(table, reference)


@pytest.mark.parametrize("case", sorted(R["variances"]))
def test_variances_match_svyvar(designs, case):
    reference = R["variances"][case]
    columns = reference["columns"]
    table = variance(designs[reference["design"]], columns[0] if len(columns) == 1 else columns, by=reference.get("by"))
    if "domain" in reference:
        assert list(table.index) == reference["domain"]
    check(table, reference)


def test_quantile_table_and_counts(designs):
    table = quantiles(designs["cluster1"], "y", [0.5], by="province")
    assert list(table.columns) == ["estimate", "se", "ci_low", "ci_high", "n"]
    expected = DATA.dropna(subset=["y"]).groupby("province").size()
    assert list(table["n"]) == list(expected)
    assert (table["ci_low"] <= table["estimate"]).all() and (table["estimate"] <= table["ci_high"]).all()
    single = quantiles(designs["cluster1"], "y", 0.5)
    assert list(single.index) == [("y", 0.5)]


def test_a_domain_of_one_respondent(designs):
    data = DATA.assign(group=np.where(np.arange(len(DATA)) == 0, "alone", "rest"))
    design = Design(data, "weight", strata="stratum", fpc="fpc_elements")
    for rule in ("math", "hf7"):
        table = quantiles(design, "x", [0.25, 0.5], by="group", rule=rule)
        assert (table.loc["alone", "estimate"] == DATA["x"].iloc[0]).all()


def test_covariance_matrix_is_symmetric(designs):
    table = variance(designs["cluster2"], ["x", "y"], by="province")
    matrix = table["estimate"].xs("P01", level="province").unstack()
    assert matrix.loc["x", "y"] == matrix.loc["y", "x"]
    # the matrix leaves out the rows missing y: so does the variance of x alone once x is missing there too
    masked = Design(
        DATA.assign(x=DATA["x"].where(DATA["y"].notna())),
        "weight",
        strata="stratum",
        clusters=["psu", "ssu"],
        fpc=["fpc1", "fpc2"],
    )
    single = variance(masked, "x", by="province")
    np.testing.assert_allclose(matrix.loc["x", "x"], single["estimate"]["P01"], rtol=1e-12)
    assert single["n"]["P01"] == table["n"].xs("P01", level="province").iloc[0]


def test_quantile_errors(designs):
    design = designs["cluster1"]
    for kwargs, code in [
        ({"column": "nowhere", "probabilities": 0.5}, "unknown_column"),
        ({"column": "x", "probabilities": 0.5, "by": "nowhere"}, "unknown_column"),
        ({"column": "x", "probabilities": [0.5, 1.5]}, "invalid_probability"),
        ({"column": "x", "probabilities": -0.1}, "invalid_probability"),
        ({"column": "x", "probabilities": "half"}, "invalid_probability"),
        ({"column": "x", "probabilities": np.nan}, "invalid_probability"),
        ({"column": "x", "probabilities": 0.5, "confidence": 95}, "invalid_level"),
        ({"column": "x", "probabilities": 0.5, "rule": "hf10"}, "unknown_quantile_rule"),
        ({"column": "x", "probabilities": 0.5, "interval_type": "score"}, "unknown_quantile_interval"),
    ]:
        with pytest.raises(EstimationError) as error:
            quantiles(design, **kwargs)
        assert error.value.code == code
    with pytest.raises(EstimationError) as error:
        quantiles(design, "x", [0.5, 1.5])
    assert error.value.params == {"probability": 1.5}


def test_text_that_is_not_a_number_is_refused(designs):
    data = DATA.assign(x_text=DATA["x"].astype(str))
    data.loc[3, "x_text"] = "about ten"
    data.loc[4, "x_text"] = ""  # an empty text is a missing value, not an error
    design = Design(data, "weight", strata="stratum", clusters="psu")
    for call in (lambda: quantiles(design, "x_text", 0.5), lambda: variance(design, "x_text")):
        with pytest.raises(EstimationError) as error:
            call()
        assert error.value.code == "not_numeric"
        assert error.value.params == {"column": "x_text", "row": 3, "value": "about ten"}


def test_an_empty_domain_is_named(designs):
    data = DATA.assign(x=DATA["x"].where(DATA["province"] != "P03"))
    design = Design(data, "weight", strata="stratum", clusters="psu")
    for call in (lambda: quantiles(design, "x", 0.5, by="province"), lambda: variance(design, "x", by="province")):
        with pytest.raises(EstimationError) as error:
            call()
        assert error.value.code == "empty_domain" and error.value.params == {"domain": "P03"}


def test_variance_errors(designs):
    with pytest.raises(EstimationError) as error:
        variance(designs["stratified"], ["x", "nowhere"])
    assert error.value.code == "unknown_column" and error.value.params == {"column": "nowhere"}
    with pytest.raises(EstimationError) as error:
        variance(designs["stratified"], "x", confidence=0)
    assert error.value.code == "invalid_level"
    with pytest.raises(EstimationError) as error:
        variance(designs["stratified"], [])
    assert error.value.code == "no_columns"
