"""Degrees of freedom, t intervals and intervals for proportions against R's survey package (values made by
results/reference_intervals.R, kept in results/reference_intervals.json): estimates to a relative 1e-8, standard
errors and bounds to 1e-6."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import Design, EstimationError

RESULTS = Path(__file__).parent / "results"
R = json.loads((RESULTS / "reference_intervals.json").read_text())
DATA = pd.read_csv(RESULTS / "survey_sample.csv", dtype={"satisfaction": str})
DATA["fpc_elements"] = DATA.groupby("stratum")["weight"].transform("sum")
DATA["satisfied_1"] = (DATA["satisfaction"] == "1").astype(int)  # a rare category: 9 of 208 respondents
METHODS = ["logit", "likelihood", "beta", "xlogit"]


def check(table: pd.DataFrame, reference: dict, low: str = "low", high: str = "high"):
    np.testing.assert_allclose(table["estimate"].to_numpy(), reference["estimate"], rtol=1e-8)
    np.testing.assert_allclose(table["se"].to_numpy(), reference["se"], rtol=1e-6)
    np.testing.assert_allclose(table[low].to_numpy(), reference["low"], rtol=1e-6)
    np.testing.assert_allclose(table[high].to_numpy(), reference["high"], rtol=1e-6)


@pytest.fixture(scope="module")
def designs():
    return {
        "stratified": Design(DATA, "weight", strata="stratum", fpc="fpc_elements"),
        "cluster1": Design(DATA, "weight", strata="stratum", clusters="psu"),
        "cluster2": Design(DATA, "weight", strata="stratum", clusters=["psu", "ssu"], fpc=["fpc1", "fpc2"]),
    }


def test_reference_was_made_with_survey_4_1():
    assert R["survey_version"].startswith("4.1")


@pytest.mark.parametrize("name", ["stratified", "cluster1", "cluster2"])
def test_degf(designs, name):
    assert designs[name].degf() == R["degf"][name]


def test_degf_of_the_jackknife(designs):
    assert designs["cluster1"].jackknife().degf() == R["degf"]["jackknife"] == 14


def test_t_intervals(designs):
    r = R["t"]
    check(designs["cluster1"].mean("x", interval="t"), r["cluster1_mean_x"], "ci_low", "ci_high")
    check(designs["cluster1"].total("x", interval="t"), r["cluster1_total_x"], "ci_low", "ci_high")
    check(designs["cluster1"].mean("x", confidence=0.9, interval="t"), r["cluster1_mean_x_90"], "ci_low", "ci_high")
    check(designs["stratified"].mean("y", interval="t"), r["stratified_mean_y"], "ci_low", "ci_high")
    check(designs["stratified"].ratio("y", "x", interval="t"), r["stratified_ratio_y_x"], "ci_low", "ci_high")
    table = designs["cluster2"].proportion("used_online", interval="t").xs(1, level="level")
    check(table, r["cluster2_mean_used"], "ci_low", "ci_high")


def test_the_default_interval_is_still_normal(designs):
    design = designs["cluster1"]
    pd.testing.assert_frame_equal(design.mean("x"), design.mean("x", interval="normal"))
    normal, t = design.mean("x"), design.mean("x", interval="t")
    assert (t["ci_high"] - t["ci_low"]).iloc[0] > (normal["ci_high"] - normal["ci_low"]).iloc[0]
    with pytest.raises(EstimationError) as error:
        design.total("x", interval="student")
    assert error.value.code == "unknown_interval"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "case, design, column, level",
    [
        ("cluster1_used", "cluster1", "used_online", 0.95),
        ("cluster1_rare", "cluster1", "satisfied_1", 0.95),
        ("stratified_used", "stratified", "used_online", 0.95),
        ("stratified_rare_90", "stratified", "satisfied_1", 0.9),
    ],
)
def test_proportion_interval(designs, method, case, design, column, level):
    table = designs[design].proportion_interval(column, level=level, method=method)
    check(table, R["ciprop"][method][case])
    assert table["degf"].iloc[0] == designs[design].degf()


@pytest.mark.parametrize("method", METHODS)
def test_proportion_interval_by_domain(designs, method):
    reference = R["ciprop"][method]["cluster1_by_province_used"]
    table = designs["cluster1"].proportion_interval("used_online", method=method, by="province")
    assert list(table.index) == reference["domain"]
    assert list(table["degf"]) == reference["degf"]  # every domain's own PSUs minus strata
    check(table, reference)


def test_methods_differ_most_for_a_rare_category():
    lows = {method: R["ciprop"][method]["cluster1_rare"]["low"] for method in METHODS}
    assert min(lows.values()) < 0.9 * max(lows.values())


def test_yes_no_coding_is_the_same_as_0_1(designs):
    data = DATA.assign(used=DATA["used_online"].map({1: "Yes", 0: "no"}), flag=DATA["used_online"] == 1)
    design = Design(data, "weight", strata="stratum", clusters="psu")
    expected = designs["cluster1"].proportion_interval("used_online", method="beta")
    for column in ["used", "flag"]:
        pd.testing.assert_frame_equal(
            design.proportion_interval(column, method="beta"), expected.rename(index={"used_online": column})
        )


def test_proportion_interval_errors(designs):
    design = designs["cluster1"]
    for kwargs, code in [
        ({"column": "x"}, "not_binary"),
        ({"column": "nowhere"}, "unknown_column"),
        ({"column": "used_online", "method": "wilson"}, "unknown_ci_method"),
        ({"column": "used_online", "level": 95}, "invalid_level"),
    ]:
        with pytest.raises(EstimationError) as error:
            design.proportion_interval(**kwargs)
        assert error.value.code == code
    with pytest.raises(EstimationError) as error:
        design.proportion_interval("x")
    assert error.value.params["column"] == "x" and error.value.params["row"] == 0
