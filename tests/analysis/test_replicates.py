"""Replicate-weight designs against R's survey package (values made by results/reference_replicates.R, kept in
results/reference_replicates.json): designs made from a Design (as R's as.svrepdesign) and from given replicate
weights (as R's svrepdesign), their estimates to a relative 1e-8, standard errors, design effects and t bounds to
1e-6. R's bootstrap draws cannot be reproduced, so R's draws are read from the JSON and given to replicate_design;
the bootstrap's own draws are checked for their statistical properties instead."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import Design, EstimationError, ReplicateDesign, as_replicate_design, hadamard, replicate_design

RESULTS = Path(__file__).parent / "results"
R = json.loads((RESULTS / "reference_replicates.json").read_text())
DATA = pd.read_csv(RESULTS / "survey_sample.csv", dtype={"satisfaction": str})
DATA["fpc_psu"] = 60
DATA["psu_number"] = DATA["psu"].str.split("P").str[-1].astype(int)
DATA["stratum_number"] = DATA["stratum"].str[1:].astype(int)
# as the R script: brr6 keeps the first 2 PSUs of every stratum with the rows in reverse order; brr8 pairs
# consecutive PSUs into 8 pseudo-strata numbered stratum + 6 (pair - 1), dropping PSUs without a pair
BRR6 = DATA.iloc[::-1][lambda frame: frame["psu_number"] <= 2].reset_index(drop=True)
DATA["pseudo"] = DATA["stratum_number"] + 6 * ((DATA["psu_number"] + 1) // 2 - 1)
BRR8 = DATA[DATA.groupby("pseudo")["psu"].transform("nunique") == 2].reset_index(drop=True)


def r_weights(name: str, data: pd.DataFrame) -> np.ndarray:
    """R's replicate weights of a design made by as.svrepdesign: its factors per PSU times the weights."""
    factors = R["factors"][name]
    row = pd.Series(range(len(factors["psu"])), index=factors["psu"])[data["psu"]].to_numpy()
    return data["weight"].to_numpy()[:, None] * np.array(factors["factors"], dtype=float)[row]


def from_r(name: str, data: pd.DataFrame = DATA, source: str | None = None, **kwargs) -> ReplicateDesign:
    return replicate_design(data, "weight", r_weights(source or name, data), **kwargs)


@pytest.fixture(scope="module")
def designs():
    cluster1 = Design(DATA, "weight", strata="stratum", clusters="psu")
    brr8 = Design(BRR8, "weight", strata="pseudo", clusters="psu")
    total = BRR8["weight"].sum()
    scale = {name: R["scales"][name]["scale"] for name in ("boot", "boot_fpc", "subboot")}
    rscales = R["scales"]["jkn"]["rscales"]
    return {
        # made here from a Design, as R's as.svrepdesign
        "jkn": as_replicate_design(cluster1, "JKn"),
        "jkn_mse": as_replicate_design(cluster1, "JKn", mse=True),
        "jk1": as_replicate_design(Design(DATA, "weight", clusters="psu", fpc="fpc_psu"), "JK1"),
        "brr6": as_replicate_design(Design(BRR6, "weight", strata="stratum", clusters="psu"), "BRR"),
        "brr8": as_replicate_design(brr8, "BRR"),
        "fay8": as_replicate_design(brr8, "Fay", rho=0.3),
        "brr8_mse": as_replicate_design(brr8, "BRR", mse=True),
        "brr8_calibrated": as_replicate_design(brr8, "BRR", recalibrate=lambda w: w * total / w.sum()),
        # R's bootstrap draws, with R's scales
        "boot": from_r("boot", type="bootstrap", scale=scale["boot"]),
        "boot_fpc": from_r("boot_fpc", type="bootstrap", scale=scale["boot_fpc"]),
        "subboot": from_r("subboot", type="bootstrap", scale=scale["subboot"]),
        # R's replicate weights given, as R's svrepdesign
        "given_other": from_r("jkn"),
        "given_other_scaled": from_r("jkn", scale=0.5, rscales=np.resize([1, 0.5], len(rscales))),
        "given_jkn": from_r("jkn", type="JKn", rscales=rscales),
        "given_jkn_mse": from_r("jkn", type="JKn", rscales=rscales, mse=True),
        "given_jk1": from_r("jk1", type="JK1"),
        "given_brr": from_r("brr8", BRR8, type="BRR"),
        "given_fay": from_r("fay8", BRR8, type="Fay", rho=0.3),
        "given_boot": from_r("boot", type="bootstrap"),
        "given_boot_scaled": from_r("boot", type="bootstrap", scale=scale["boot"]),
        "given_subboot": from_r("subboot", type="bootstrap", scale=scale["subboot"]),
    }


ESTIMATES = {
    "mean_x": lambda d: d.mean("x", interval="t"),
    "mean_x_90": lambda d: d.mean("x", confidence=0.9, interval="t"),
    "mean_y": lambda d: d.mean("y", interval="t"),
    "total_x": lambda d: d.total("x", interval="t"),
    "total_y": lambda d: d.total("y", interval="t"),
    "ratio_y_x": lambda d: d.ratio("y", "x", interval="t"),
    "share_satisfaction": lambda d: d.proportion("satisfaction", interval="t"),
    "by_province_mean_x": lambda d: d.mean("x", by="province", interval="t"),
    "by_province_total_y": lambda d: d.total("y", by="province", interval="t"),
    "by_province_ratio_y_x": lambda d: d.ratio("y", "x", by="province", interval="t"),
    "by_province_share_age": lambda d: d.proportion("age", by="province", interval="t"),
}


def check(table: pd.DataFrame, reference: dict):
    if "level" in reference:  # R's order: every level's domains in turn
        domains = reference.get("domain", list(table.index.get_level_values(0).unique()) * len(reference["level"]))
        table = table.loc[list(zip(np.atleast_1d(domains), np.atleast_1d(reference["level"])))]
    elif "domain" in reference:
        assert list(table.index) == reference["domain"]
    np.testing.assert_allclose(table["estimate"].to_numpy(), reference["estimate"], rtol=1e-8)
    for column, key in [("se", "se"), ("deff", "deff"), ("ci_low", "low"), ("ci_high", "high")]:
        expected = np.array(np.atleast_1d(reference[key]), dtype=float)
        np.testing.assert_allclose(table[column].to_numpy(), expected, rtol=1e-6, err_msg=column)


def test_reference_was_made_with_survey_4_1():
    assert R["survey_version"].startswith("4.1")


@pytest.mark.parametrize("name", list(R["estimates"]))
def test_degf(designs, name):
    assert designs[name].degf() == R["estimates"][name]["degf"]


@pytest.mark.parametrize("estimate", list(ESTIMATES))
@pytest.mark.parametrize("name", list(R["estimates"]))
def test_estimates_agree_with_r(designs, name, estimate):
    check(ESTIMATES[estimate](designs[name]), R["estimates"][name][estimate])


@pytest.mark.parametrize("reference", R["hadamard"], ids=lambda reference: str(reference["n"]))
def test_hadamard_matrices_are_r_s(reference):
    expected = np.array([[int(c) for c in row] for row in reference["rows"]])
    np.testing.assert_array_equal(hadamard(reference["n"]), expected)


@pytest.mark.parametrize("n", [24, 27, 32, 35, 50, 70])
def test_hadamard_where_r_uses_its_stored_matrices_is_still_hadamard(n):
    h = 2 * hadamard(n) - 1
    assert h.shape[0] > n and (h[0] == 1).all() and (h[:, 0] == 1).all()
    np.testing.assert_array_equal(h.T @ h, len(h) * np.eye(len(h)))


@pytest.mark.parametrize(
    "name, data",
    [("jkn", DATA), ("jk1", DATA), ("brr6", BRR6), ("brr8", BRR8), ("fay8", BRR8)],
)
def test_replicate_weights_are_r_s(designs, name, data):
    np.testing.assert_allclose(designs[name].replicates, r_weights(name, data), rtol=1e-12)
    reference = R["scales"][name]
    np.testing.assert_allclose(designs[name].scales, reference["scale"] * np.array(reference["rscales"]), rtol=1e-12)


def test_brr_totals_have_the_linearised_variance():
    """With 2 PSUs per stratum and full orthogonal balance, BRR's variance of a total is the linearisation's; also
    with 25 strata, where R would use its stored Hadamard matrix of order 28 and this one of order 32."""
    rng = np.random.default_rng(7)
    many = pd.DataFrame({"stratum": np.repeat(np.arange(25), 6), "psu": np.repeat(np.arange(50), 3)})
    many = many.assign(weight=rng.uniform(1, 3, 150), x=rng.normal(5, 2, 150), y=rng.normal(3, 1, 150))
    many["province"] = np.where(rng.uniform(size=150) < 0.5, "P01", "P02")
    for data, strata in [(BRR6, "stratum"), (BRR8, "pseudo"), (many, "stratum")]:
        design = Design(data, "weight", strata=strata, clusters="psu")
        for kind, rho in [("BRR", None), ("Fay", 0.5)]:
            replicated = as_replicate_design(design, kind, rho=rho)
            np.testing.assert_allclose(replicated.total("x")["se"], design.total("x")["se"], rtol=1e-10)
            by = replicated.total("y", by="province")["se"]
            np.testing.assert_allclose(by, design.total("y", by="province")["se"], rtol=1e-10)


@pytest.mark.parametrize(
    "kind, design, tolerance",
    [
        ("bootstrap", Design(DATA, "weight", strata="stratum", clusters="psu"), 0.08),
        ("bootstrap", Design(BRR6, "weight", strata="stratum", clusters="psu"), 0.05),
        ("bootstrap", Design(DATA, "weight", strata="stratum", clusters="psu", fpc="fpc1"), 0.08),
        ("subbootstrap", Design(DATA, "weight", strata="stratum", clusters="psu"), 0.05),
    ],
)
def test_bootstrap_standard_errors_are_close_to_the_linearised(kind, design, tolerance):
    """Over many replicates the bootstrap's standard errors settle near the linearisation's (exactly for the
    subbootstrap and for equal PSU counts; within the bias of R's scale, which takes the harmonic mean of the
    strata's PSU counts, otherwise)."""
    replicated = as_replicate_design(design, kind, replicates=4000, random_state=20261130)
    for estimate in ("total", "mean"):
        ratio = getattr(replicated, estimate)("x")["se"].iloc[0] / getattr(design, estimate)("x")["se"].iloc[0]
        assert abs(ratio - 1) < tolerance, (estimate, ratio)
    assert replicated.degf() == design.degf()


def test_bootstrap_draws_are_whole_resamples():
    design = Design(DATA, "weight", strata="stratum", clusters="psu")
    replicated = as_replicate_design(design, "bootstrap", replicates=200, random_state=1)
    factors = replicated.replicates / DATA["weight"].to_numpy()[:, None]
    stage = design.first_stage()
    per_psu = pd.DataFrame(factors).groupby(stage.row_psu).first().to_numpy()
    assert np.allclose(per_psu, np.round(per_psu))  # every PSU drawn a whole number of times
    drawn = pd.DataFrame(np.round(per_psu)).groupby(stage.psu_stratum).sum().to_numpy()
    np.testing.assert_array_equal(drawn, np.repeat(stage.psus[:, None], 200, axis=1))  # n_h draws per stratum
    again = as_replicate_design(design, "bootstrap", replicates=200, random_state=1)
    np.testing.assert_array_equal(again.replicates, replicated.replicates)
    sub = as_replicate_design(design, "subbootstrap", replicates=200, random_state=1).replicates
    drawn = pd.DataFrame((sub / DATA["weight"].to_numpy()[:, None])).groupby(stage.row_psu).first()
    sums = drawn.groupby(stage.psu_stratum).sum().to_numpy()
    np.testing.assert_allclose(sums, np.repeat(stage.psus[:, None], 200, axis=1))  # (n_h - 1) n_h / (n_h - 1)


def test_jk1_and_jkn_are_the_jackknife():
    design = Design(DATA, "weight", strata="stratum", clusters="psu")
    np.testing.assert_array_equal(as_replicate_design(design).replicates, design.jackknife().replicates)
    assert as_replicate_design(design).type == "JKn"


def test_mse_centres_on_the_full_sample_estimate(designs):
    plain, mse = designs["given_jkn"].mean("x"), designs["given_jkn_mse"].mean("x")
    assert mse["se"].iloc[0] >= plain["se"].iloc[0]
    assert mse["estimate"].iloc[0] == plain["estimate"].iloc[0]


def test_default_scales_per_type():
    weights = r_weights("boot", DATA)
    for kind, kwargs, expected in [
        ("other", {}, 1.0),
        ("bootstrap", {}, 1 / 49),
        ("JK1", {}, 49 / 50),
        ("BRR", {}, 1 / 50),
        ("Fay", {"rho": 0.5}, 4 / 50),
    ]:
        design = replicate_design(DATA, "weight", weights, type=kind, **kwargs)
        np.testing.assert_allclose(design.scales, np.full(50, expected))
    design = replicate_design(DATA, "weight", weights, type="JKn", rscales=np.linspace(0.5, 1, 50), scale=2)
    np.testing.assert_allclose(design.scales, 2 * np.linspace(0.5, 1, 50))


def test_replicate_columns_of_the_data():
    data = DATA.assign(**{f"rep{r}": column for r, column in enumerate(r_weights("jkn", DATA).T)})
    columns = [f"rep{r}" for r in range(20)]
    by_name = replicate_design(data, "weight", columns, type="JKn", rscales=R["scales"]["jkn"]["rscales"])
    by_frame = replicate_design(data, data["weight"], data[columns], type="JKn", rscales=R["scales"]["jkn"]["rscales"])
    pd.testing.assert_frame_equal(by_name.ratio("y", "x"), by_frame.ratio("y", "x"))
    check(by_name.ratio("y", "x", interval="t"), R["estimates"]["given_jkn"]["ratio_y_x"])


def test_the_default_interval_is_normal(designs):
    design = designs["brr8"]
    normal, student = design.mean("x"), design.mean("x", interval="t")
    assert (student["ci_high"] - student["ci_low"]).iloc[0] > (normal["ci_high"] - normal["ci_low"]).iloc[0]
    with pytest.raises(EstimationError) as error:
        design.proportion("age", interval="student")
    assert error.value.code == "unknown_interval"


def code_of(call) -> EstimationError:
    with pytest.raises(EstimationError) as error:
        call()
    return error.value


def test_estimate_errors(designs):
    design = designs["jkn"]
    data = design.data.assign(x=design.data["x"].astype(object))
    data.loc[3, "x"] = "twelve"
    text = ReplicateDesign(data, design.weights, design.replicates, design.scales)
    for call in (lambda: text.mean("x"), lambda: text.total("x"), lambda: text.ratio("y", "x")):
        error = code_of(call)
        assert error.code == "not_numeric" and error.params == {"column": "x", "row": 3, "value": "twelve"}
    assert code_of(lambda: design.mean("nowhere")).code == "unknown_column"
    assert code_of(lambda: design.proportion("nowhere")).code == "unknown_column"
    empty = DATA.assign(y=np.where(DATA["province"] == "P03", np.nan, DATA["y"]))
    gap = ReplicateDesign(empty, design.weights, design.replicates, design.scales)
    for call in (lambda: gap.mean("y", by="province"), lambda: gap.proportion("y", by="province")):
        error = code_of(call)
        assert error.code == "empty_domain" and error.params == {"domain": "P03"}
    zero = DATA.assign(x=np.where(DATA["province"] == "P02", 0.0, DATA["x"]))
    error = code_of(
        lambda: ReplicateDesign(zero, design.weights, design.replicates, design.scales).ratio("y", "x", by="province")
    )
    assert error.code == "zero_denominator" and error.params == {"domain": "P02"}


def test_builder_errors():
    cluster1 = Design(DATA, "weight", strata="stratum", clusters="psu")
    error = code_of(lambda: as_replicate_design(cluster1, "BRR"))
    assert error.code == "brr_psus" and error.params == {"stratum": "S1", "psus": 3}
    assert code_of(lambda: as_replicate_design(cluster1, "JK1")).code == "jk1_stratified"
    assert code_of(lambda: as_replicate_design(cluster1, "bootstrap", replicates=1)).code == "invalid_replicates"
    assert code_of(lambda: as_replicate_design(cluster1, "balanced")).code == "unknown_replicate_type"
    for kind, rho in [("Fay", None), ("Fay", 1.0), ("BRR", 0.5), ("JKn", 0.5)]:
        assert code_of(lambda kind=kind, rho=rho: as_replicate_design(cluster1, kind, rho=rho)).code == "invalid_rho"
    lonely = DATA.assign(stratum=np.where(DATA["psu"] == "S2P1", "S9", DATA["stratum"]))
    adjusted = Design(lonely, "weight", strata="stratum", clusters="psu", lonely_psu="adjust")
    error = code_of(lambda: as_replicate_design(adjusted, "subbootstrap"))
    assert error.code == "few_psus" and error.params == {"type": "subbootstrap", "stratum": "S9", "psus": 1}
    error = code_of(lambda: as_replicate_design(adjusted, "BRR"))
    assert error.code == "brr_psus" and error.params["stratum"] == "S1"
    elements = Design(DATA.groupby("stratum").head(1), "weight", strata="stratum", lonely_psu="certainty")
    assert code_of(lambda: as_replicate_design(elements, "bootstrap")).code == "few_psus"


def test_given_weights_errors():
    weights = r_weights("jkn", DATA)
    for kwargs, code in [
        ({"type": "JKn"}, "jkn_rscales"),
        ({"type": "BRR", "scale": 0.5}, "fixed_scale"),
        ({"type": "Fay"}, "invalid_rho"),
        ({"rho": 0.2}, "invalid_rho"),
        ({"rscales": [1, 2, 3]}, "rscales_length"),
        ({"type": "ACS"}, "unknown_replicate_type"),
    ]:
        assert code_of(lambda kwargs=kwargs: replicate_design(DATA, "weight", weights, **kwargs)).code == code
    assert code_of(lambda: replicate_design(DATA, "weight", weights[:-1])).code == "invalid_replicate_weights"
    holed = weights.copy()
    holed[5, 2] = np.nan
    assert code_of(lambda: replicate_design(DATA, "weight", holed)).code == "invalid_replicate_weights"
    assert code_of(lambda: replicate_design(DATA, "weight", ["rep1"])).code == "unknown_column"
    assert code_of(lambda: replicate_design(DATA, np.ones(3), weights)).code == "invalid_weights"
