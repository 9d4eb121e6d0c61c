"""Several variables and domain columns in one call, covariances and contrasts, deff="replace" and tests of two-way
tables against R's survey package (values made by results/reference_design_more.R, kept in
results/reference_design_more.json): estimates to a relative 1e-8; standard errors, design effects, covariances,
statistics and p-values to 1e-6."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm, t

from analysis import Design, EstimationError
from analysis.contrasts import Estimates, contrast, difference
from analysis.tables import independence_test
from sampling import rake

RESULTS = Path(__file__).parent / "results"
R = json.loads((RESULTS / "reference_design_more.json").read_text())
POP = json.loads((RESULTS / "reference.json").read_text())["population"]
DATA = pd.read_csv(RESULTS / "survey_sample.csv", dtype={"satisfaction": str})
DATA["fpc_elements"] = DATA.groupby("stratum")["weight"].transform("sum")
# R's factors: categorical columns say so
DATA["satisfaction"] = DATA["satisfaction"].astype("category")
DATA["sex_factor"] = DATA["sex"].astype("category")
NAMES = ["stratified", "cluster1", "cluster2", "raked"]


def make_design(name: str) -> Design:
    if name == "stratified":
        return Design(DATA, "weight", strata="stratum", fpc="fpc_elements")
    if name == "cluster1":
        return Design(DATA, "weight", strata="stratum", clusters="psu")
    if name == "cluster2":
        return Design(DATA, "weight", strata="stratum", clusters=["psu", "ssu"], fpc=["fpc1", "fpc2"])
    weighting = rake(DATA, DATA["weight"], {"sex": POP["sex"], "age": POP["age"]}, tolerance=1e-14)
    return Design(DATA, weighting.weights, strata="stratum", clusters="psu", calibrations=[weighting.calibration])


@pytest.fixture(scope="module")
def designs():
    return {name: make_design(name) for name in NAMES}


def check(table: pd.DataFrame, reference: dict, *, deff: bool = True):
    np.testing.assert_allclose(table["estimate"].to_numpy(), reference["estimate"], rtol=1e-8)
    # a standard error of 0 up to rounding (a total of a raking margin) is compared on the scale of the estimate
    noise = 1e-12 * np.abs(reference["estimate"]).max()
    np.testing.assert_allclose(table["se"].to_numpy(), reference["se"], rtol=1e-6, atol=noise)
    if deff and "deff" in reference and noise < np.min(reference["se"]):
        np.testing.assert_allclose(table["deff"].to_numpy(), reference["deff"], rtol=1e-6)


def check_covariance(covariance, reference, noise: float = 0.0):
    expected = np.atleast_2d(np.asarray(reference, dtype=float))
    # entries near 0 are compared on the scale of the variances (or of the rounding of the estimates)
    atol = 1e-8 * np.abs(np.diag(expected)).max() + noise**2
    np.testing.assert_allclose(np.asarray(covariance, dtype=float), expected, rtol=1e-6, atol=atol)


def test_reference_was_made_with_survey_4_1():
    assert R["survey_version"].startswith("4.1")


# --- several variables in one call -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_several_variables_with_their_covariance(designs, name):
    design, r = designs[name], R["several"][name]
    cases = {
        "mean_x_y": design.mean(["x", "y"], covariance=True),
        "total_x_used": design.total(["x", "used_online"], covariance=True),
        "mean_satisfaction_x": design.mean(["satisfaction", "x"], covariance=True),
        "total_sex": design.total("sex_factor", covariance=True),
        "ratio_y_used_over_x_weight": design.ratio(["y", "used_online"], ["x", "weight"], covariance=True),
    }
    for key, result in cases.items():
        assert isinstance(result, Estimates)
        check(result.table, r[key])
        check_covariance(result.covariance.to_numpy(), r[key]["vcov"], 1e-12 * np.abs(r[key]["estimate"]).max())
        assert list(result.covariance.index) == list(result.table.index)
    assert list(cases["mean_x_y"].table.index) == ["x", "y"]
    assert cases["mean_x_y"].table.index.name == "variable"
    assert list(cases["mean_satisfaction_x"].table.index) == [("satisfaction", level) for level in "12345"] + [
        ("x", "")
    ]
    assert list(cases["total_sex"].table.index) == [("sex_factor", "female"), ("sex_factor", "male")]
    assert list(cases["ratio_y_used_over_x_weight"].table.index) == [
        "y/x",
        "used_online/x",
        "y/weight",
        "used_online/weight",
    ]


def test_a_categorical_column_in_mean_gives_the_shares_of_its_levels(designs):
    design = designs["cluster1"]
    shares = design.mean("satisfaction")
    pd.testing.assert_frame_equal(shares, design.proportion("satisfaction"))
    assert shares["estimate"].sum() == pytest.approx(1.0, abs=1e-12)
    by = design.mean("satisfaction", by="province")
    assert by.index.names == ["province", "level"]
    pd.testing.assert_frame_equal(by, design.proportion("satisfaction", by="province"))


def test_text_that_is_not_a_number_still_raises_not_numeric(designs):
    with pytest.raises(EstimationError) as caught:
        designs["cluster1"].mean(["x", "sex"])
    assert caught.value.code == "not_numeric" and caught.value.params["column"] == "sex"


def test_booleans_are_zero_one(designs):
    data = DATA.assign(online=DATA["used_online"] == 1)
    design = Design(data, "weight", strata="stratum", clusters="psu")
    pd.testing.assert_frame_equal(
        design.mean("online").reset_index(drop=True), design.mean("used_online").reset_index(drop=True)
    )


def test_single_columns_are_unchanged_by_the_list_form(designs):
    design = designs["stratified"]
    both = design.mean(["x", "y"], listwise=False)
    np.testing.assert_allclose(both.loc["x"].to_numpy(float), design.mean("x").iloc[0].to_numpy(float), rtol=1e-12)
    np.testing.assert_allclose(both.loc["y"].to_numpy(float), design.mean("y").iloc[0].to_numpy(float), rtol=1e-12)
    # listwise (R's na.rm = TRUE with several variables): x on the rows that have y
    listwise = design.mean(["x", "y"])
    assert listwise.loc["x", "n"] == design.mean("y")["n"].iloc[0] < design.mean("x")["n"].iloc[0]
    one = design.mean(["x"])
    assert list(one.index) == ["x"] and one.index.name == "variable"
    by = design.mean("x", by="province")
    pd.testing.assert_frame_equal(by, design.mean("x", by=["province"]))
    pd.testing.assert_frame_equal(by, design.mean("x", by="province", covariance=True).table)


def test_one_variance_computation_for_all_columns_and_domains(designs, monkeypatch):
    design = make_design("cluster1")
    calls = []
    original = design.variances
    monkeypatch.setattr(design, "variances", lambda influence: calls.append(influence.shape) or original(influence))
    design.mean(["x", "used_online", "satisfaction"], by=["province", "urban"])
    assert calls == [(len(DATA), 10 * 7)]


def test_the_covariance_diagonal_is_the_variances(designs):
    for design in designs.values():
        result = design.mean(["x", "used_online"], by="province", covariance=True)
        np.testing.assert_allclose(np.diag(result.covariance), result.table["se"] ** 2, rtol=1e-10)
        correlation = result.correlation().to_numpy()
        np.testing.assert_allclose(np.diag(correlation), 1.0, rtol=1e-12)


# --- domains of several columns --------------------------------------------------------------------------------


BY_CASES = {
    "mean_x_by_province_urban": lambda d: d.mean("x", by=["province", "urban"], covariance=True),
    "mean_x_used_by_province": lambda d: d.mean(["x", "used_online"], by="province", covariance=True),
    "total_used_by_sex_urban": lambda d: d.total("used_online", by=["sex", "urban"], covariance=True),
    "ratio_y_x_by_province": lambda d: d.ratio("y", "x", by="province", covariance=True),
}


def positions(index: pd.Index, reference: dict) -> np.ndarray:
    """Where R's rows (variables slowest, then the first ``by`` column fastest) are in a table."""
    names = [name for name in index.names if name not in ("variable",)]
    keys = list(zip(*[reference[name] for name in names])) if len(names) > 1 else reference[names[0]]
    if "variable" in index.names:
        keys = [(*key, variable) if isinstance(key, tuple) else (key, variable) for key, variable in
                zip(keys, reference["variable"])]  # fmt: skip
    found = index.get_indexer(keys)
    assert (found >= 0).all()
    return found


@pytest.mark.parametrize("case", list(BY_CASES))
@pytest.mark.parametrize("name", NAMES)
def test_domains_of_several_columns_with_covariances(designs, name, case):
    result = BY_CASES[case](designs[name])
    reference = R["by"][name][case]
    order = positions(result.table.index, reference)
    check(result.table.iloc[order], reference, deff=True)
    covariance = result.covariance.to_numpy()[np.ix_(order, order)]
    check_covariance(covariance, reference["vcov_influence"])
    if "vcov" in reference:  # svyby(covmat = TRUE) where R computes it
        check_covariance(covariance, reference["vcov"])


def test_several_domain_columns_are_sorted_first_column_slowest(designs):
    table = designs["cluster1"].mean(["x", "used_online"], by=["urban", "sex"])
    assert table.index.names == ["urban", "sex", "variable"]
    assert list(table.index[:4]) == [
        ("rural", "female", "x"),
        ("rural", "female", "used_online"),
        ("rural", "male", "x"),
        ("rural", "male", "used_online"),
    ]


# --- contrasts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["stratified", "cluster1", "cluster2"])
def test_contrasts_against_svycontrast(designs, name):
    design, r = designs[name], R["contrasts"][name]
    by_province = design.mean("x", by="province", covariance=True)
    two = design.mean(["x", "y"], covariance=True)
    cases = {
        "p01_minus_p02": contrast(by_province, {"P01": 1, "P02": -1}),
        "several": contrast(by_province, {"first_last": {"P01": 1, "P05": -1}, "average": [0.2] * 5}),
        "x_minus_y": contrast(two, {"x": 1, "y": -1}),
        "x_over_y": contrast(two, lambda v: v["x"] / v["y"]),
        "log_ratio_p01_p02": contrast(by_province, lambda v: np.log(v["P01"] / v["P02"])),
    }
    for key, result in cases.items():
        check(result.table, r[key], deff=False)
        check_covariance(result.covariance.to_numpy(), r[key]["vcov"])
    table = cases["p01_minus_p02"].table
    assert list(table.index) == ["contrast"]
    assert table["statistic"].iloc[0] == pytest.approx(table["estimate"].iloc[0] / table["se"].iloc[0])
    assert table["p_value"].iloc[0] == pytest.approx(2 * norm.sf(abs(table["statistic"].iloc[0])))
    assert list(cases["several"].table.index) == ["first_last", "average"]


def test_contrast_with_t_uses_the_design_degrees_of_freedom(designs):
    design = designs["cluster1"]
    result = contrast(design.mean("x", by="province", covariance=True), {"P01": 1, "P02": -1}, interval="t")
    row = result.table.iloc[0]
    degf = design.degf()
    assert result.degf == degf == 14
    assert row["p_value"] == pytest.approx(2 * t.sf(abs(row["statistic"]), degf))
    assert row["ci_high"] - row["estimate"] == pytest.approx(t.ppf(0.975, degf) * row["se"])


def test_contrast_across_a_multiindex(designs):
    result = designs["cluster1"].mean(["x", "used_online"], by="province", covariance=True)
    both = contrast(result, {("P01", "x"): 1, ("P02", "x"): -1})
    alone = contrast(designs["cluster1"].mean("x", by="province", covariance=True), {"P01": 1, "P02": -1})
    np.testing.assert_allclose(both.table["se"], alone.table["se"], rtol=1e-12)


def test_contrast_errors_name_what_is_wrong(designs):
    by_province = designs["cluster1"].mean("x", by="province", covariance=True)
    with pytest.raises(EstimationError) as caught:
        contrast(by_province, [1, -1])
    assert caught.value.code == "contrast_length" and caught.value.params == {"given": 2, "expected": 5}
    with pytest.raises(EstimationError) as caught:
        contrast(by_province, {"P01": 1, "P09": -1})
    assert caught.value.code == "unknown_estimate" and caught.value.params["label"] == "P09"
    with pytest.raises(EstimationError) as caught:
        contrast(by_province.table, {"P01": 1})
    assert caught.value.code == "not_estimates" and caught.value.params == {"kind": "DataFrame"}
    with pytest.raises(EstimationError) as caught:
        contrast(by_province, {"P01": 1}, interval="student")
    assert caught.value.code == "unknown_interval"


# --- independent samples ---------------------------------------------------------------------------------------


def test_difference_of_independent_samples(designs):
    now = designs["cluster1"].mean("x", by="province")
    then = designs["cluster2"].mean("x", by="province").drop("P05").rename({"P01": "P00"})
    change = difference(now, then)
    assert list(change.index) == ["P01", "P02", "P03", "P04", "P05", "P00"]
    row = change.loc["P02"]
    se = np.hypot(now.loc["P02", "se"], then.loc["P02", "se"])
    assert row["estimate"] == pytest.approx(now.loc["P02", "estimate"] - then.loc["P02", "estimate"], rel=1e-12)
    assert row["se"] == pytest.approx(se, rel=1e-12)
    assert row["p_value"] == pytest.approx(2 * norm.sf(abs(row["estimate"] / se)), rel=1e-10)
    assert row["ci_low"] == pytest.approx(row["estimate"] - norm.ppf(0.975) * se, rel=1e-12)
    assert np.isnan(change.loc["P01", "estimate"]) and np.isnan(change.loc["P00", "estimate"])
    by_t = difference(now, designs["cluster2"].mean("x", by="province", covariance=True), degf=14)
    row = by_t.loc["P02"]
    assert row["p_value"] == pytest.approx(2 * t.sf(abs(row["statistic"]), 14), rel=1e-10)


def test_difference_errors(designs):
    now = designs["cluster1"].mean("x", by="province")
    with pytest.raises(EstimationError) as caught:
        difference(now, now.rename(index=lambda label: label + "b"))
    assert caught.value.code == "no_common_estimates"
    with pytest.raises(EstimationError) as caught:
        difference(now, now.drop(columns="se"))
    assert caught.value.code == "missing_estimate_columns" and caught.value.params == {"table": "previous"}
    with pytest.raises(EstimationError) as caught:
        difference(now, now, degf=0)
    assert caught.value.code == "no_degf"


# --- deff = "replace" --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_design_effects_against_sampling_with_replacement(designs, name):
    design, r = designs[name], R["replace"][name]
    check(design.mean("x", deff="replace"), r["mean_x"])
    check(design.total("y", deff="replace"), r["total_y"])
    check(design.mean("satisfaction", deff="replace"), r["mean_satisfaction"])
    check(design.ratio("y", "x", deff="replace"), r["ratio_y_x"])
    check(design.mean("x", by="province", deff="replace"), r["mean_x_by_province"])


def test_unknown_deff(designs):
    with pytest.raises(EstimationError) as caught:
        designs["cluster1"].mean("x", deff="with")
    assert caught.value.code == "unknown_deff" and caught.value.params == {"deff": "with"}


# --- tests of two-way tables -------------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", ["sex_urban", "satisfaction_province", "age_used_online"])
@pytest.mark.parametrize("name", NAMES)
def test_rao_scott_and_wald_tests_against_svychisq(designs, name, pair):
    design, r = designs[name], R["chisq"][name][pair]
    row, column = {"sex_urban": ("sex", "urban"), "satisfaction_province": ("satisfaction", "province"),
                   "age_used_online": ("age", "used_online")}[pair]  # fmt: skip
    second = independence_test(design, row, column)
    np.testing.assert_allclose(second.counts.to_numpy().ravel(order="F"), r["counts"], rtol=1e-8)
    assert second.counts.to_numpy().sum() == pytest.approx(design.weights.sum(), rel=1e-12)
    assert second.proportions.to_numpy().sum() == pytest.approx(1.0, abs=1e-12)
    assert second.method == "F"
    np.testing.assert_allclose(second.statistic, r["F"]["statistic"], rtol=1e-6)
    np.testing.assert_allclose([second.ndf, second.ddf], r["F"]["parameter"], rtol=1e-6)
    np.testing.assert_allclose(second.p_value, r["F"]["p_value"], rtol=1e-6)
    first = independence_test(design, row, column, statistic="Chisq")
    np.testing.assert_allclose(first.pearson, r["Chisq"]["statistic"], rtol=1e-6)  # R prints Pearson's X²
    assert first.ndf == r["Chisq"]["parameter"] and first.ddf is None
    np.testing.assert_allclose(first.p_value, r["Chisq"]["p_value"], rtol=1e-6)
    assert first.statistic == pytest.approx(first.pearson / first.design_effects.mean(), rel=1e-10)
    for statistic in ("Wald", "adjWald"):
        if not r[statistic]:  # R: "system is computationally singular" (recorded as null)
            with pytest.raises(EstimationError) as caught:
                independence_test(design, row, column, statistic=statistic)
            assert caught.value.code == "singular_wald"
            continue
        wald = independence_test(design, row, column, statistic=statistic)
        np.testing.assert_allclose(wald.statistic, r[statistic]["statistic"], rtol=1e-6)
        np.testing.assert_allclose([wald.ndf, wald.ddf], r[statistic]["parameter"], rtol=1e-6)
        if r[statistic]["p_value"] == "NaN":  # too few PSUs for the adjusted F's denominator df
            assert np.isnan(wald.p_value)
        else:
            np.testing.assert_allclose(wald.p_value, r[statistic]["p_value"], rtol=1e-6)


def test_two_way_table_errors(designs):
    design = designs["cluster1"]
    with pytest.raises(EstimationError) as caught:
        independence_test(design, "sex", "urban", statistic="G")
    assert caught.value.code == "unknown_statistic"
    with pytest.raises(EstimationError) as caught:
        independence_test(design, "sex", "region")
    assert caught.value.code == "unknown_column" and caught.value.params == {"column": "region"}
    constant = Design(DATA.assign(country="VN"), "weight", strata="stratum", clusters="psu")
    with pytest.raises(EstimationError) as caught:
        independence_test(constant, "country", "sex")
    assert caught.value.code == "table_too_small"
    assert caught.value.params == {"row": "country", "column": "sex", "rows": 1, "columns": 2}


# --- bad inputs ----------------------------------------------------------------------------------------------------


def test_bad_columns_are_named(designs):
    design = designs["cluster1"]
    with pytest.raises(EstimationError) as caught:
        design.mean(["x", "income"])
    assert caught.value.code == "unknown_column" and caught.value.params == {"column": "income"}
    with pytest.raises(EstimationError) as caught:
        design.total("x", by=["province", "district"])
    assert caught.value.code == "unknown_column" and caught.value.params == {"column": "district"}
    with pytest.raises(EstimationError) as caught:
        design.mean([])
    assert caught.value.code == "no_columns" and caught.value.params == {"argument": "column"}
    with pytest.raises(EstimationError) as caught:
        design.ratio("y", [])
    assert caught.value.code == "no_columns" and caught.value.params == {"argument": "denominator"}


def test_an_empty_domain_of_several_columns_is_named():
    data = DATA.assign(weight=np.where((DATA["province"] == "P03") & (DATA["urban"] == "urban"), 0.0, DATA["weight"]))
    design = Design(data, "weight", strata="stratum", clusters="psu")
    with pytest.raises(EstimationError) as caught:
        design.mean("x", by=["province", "urban"])
    assert caught.value.code == "empty_domain" and caught.value.params == {"domain": "P03, urban"}


def test_block_pseudo_inverse_is_numpys_pinv():
    """The Gram matrix of a calibration within units falls apart into blocks; its pseudo-inverse computed block by
    block is numpy's (at matrix_rank's tolerance), a singular block included."""
    from scipy import sparse as sp

    from analysis._calibration import block_pseudo_inverse

    rng = np.random.default_rng(3)
    first = rng.normal(size=(3, 3))
    singular = np.array([[2.0, 2.0], [2.0, 2.0]])  # rank 1
    gram = np.zeros((6, 6))
    gram[:3, :3] = first @ first.T
    gram[3:5, 3:5] = singular
    gram[5, 5] = 7.0
    order = [4, 0, 5, 2, 3, 1]  # the blocks' members interleaved, as units' columns may be
    gram = gram[order][:, order]
    assert np.allclose(block_pseudo_inverse(sp.csr_matrix(gram)).toarray(), np.linalg.pinv(gram, rtol=None), atol=1e-12)


def test_calibrated_variances_same_with_sparse_and_dense_residuals(monkeypatch):
    """Estimates by unit of a design raked within units take the sparse residuals' path; forced through the dense
    one, every standard error is the same."""
    import analysis.design as design_module

    rng = np.random.default_rng(11)
    n = 600
    data = pd.DataFrame(
        {"unit": rng.choice(["a", "b", "c", "d"], n), "sex": rng.choice(["f", "m"], n), "y": rng.normal(5, 2, n)}
    )
    cells = data.groupby(["unit", "sex"]).size()
    targets = {("unit", "sex"): cells * rng.integers(50, 200, len(cells))}
    weighting = rake(data, np.ones(n), targets)
    design = Design(
        data, weighting.weights, strata="unit", lonely_psu="certainty", calibrations=[weighting.calibration]
    )
    taken = []
    real = design_module._sparse_product
    monkeypatch.setattr(
        design_module, "_sparse_product", lambda *arguments: taken.append(real(*arguments)) or taken[-1]
    )
    sparse_path = design.mean("y", by="unit")
    assert taken == [True]
    monkeypatch.setattr(design_module, "_sparse_product", lambda *arguments: False)
    dense = Design(data, weighting.weights, strata="unit", lonely_psu="certainty", calibrations=[weighting.calibration])
    dense_path = dense.mean("y", by="unit")
    assert np.allclose(sparse_path["se"], dense_path["se"], rtol=1e-10)
    assert (sparse_path["se"] > 0).all()


def test_raking_on_two_margins_gives_the_standard_errors_of_rs_treatment_model():
    """Raking within units on sex and age: the model of every margin's dummies (rank-deficient: each margin's
    dummies add up to the unit) spans what R's intercept and treatment dummies span, so every standard error is
    the one the treatment model gives."""
    from dataclasses import replace

    from sampling.weights import _margin_codes, _margin_model

    rng = np.random.default_rng(21)
    n = 900
    data = pd.DataFrame(
        {
            "unit": rng.choice(["a", "b", "c"], n),
            "sex": rng.choice(["f", "m"], n),
            "age": rng.choice(["young", "middle", "old"], n),
            "y": rng.normal(3, 1, n),
        }
    )
    targets = {
        ("unit", "sex"): data.groupby(["unit", "sex"]).size() * 40.0,
        ("unit", "age"): data.groupby(["unit", "age"]).size() * 40.0,
    }
    weighting = rake(data, np.ones(n), targets)
    indicators = Design(
        data, weighting.weights, strata="unit", lonely_psu="certainty", calibrations=[weighting.calibration]
    )
    prepared = _margin_codes(data, np.ones(n), targets)
    treatment = replace(weighting.calibration, build_model_matrix=lambda: _margin_model(prepared, n))
    r_model = Design(data, weighting.weights, strata="unit", lonely_psu="certainty", calibrations=[treatment])
    ours, theirs = indicators.mean("y", by="unit"), r_model.mean("y", by="unit")
    assert np.allclose(ours["se"], theirs["se"], rtol=1e-9)
    assert (ours["se"] > 0).all()
