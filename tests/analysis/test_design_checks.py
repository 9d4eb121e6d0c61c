"""The jackknife of designs with a finite population correction or a lonely PSU, against R's survey package
(values made by results/reference_design_checks.R, kept in results/reference_design_checks.json), and the
refusals of a missing or varying fpc and of text in an analysis variable."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import Design, EstimationError

RESULTS = Path(__file__).parent / "results"
R = json.loads((RESULTS / "reference_design_checks.json").read_text())
DATA = pd.read_csv(RESULTS / "survey_sample.csv", dtype={"satisfaction": str})
DATA["fpc_elements"] = DATA.groupby("stratum")["weight"].transform("sum")
DATA["fpc_psu"] = DATA.groupby("stratum")["fpc1"].first().sum()
LONELY = DATA.assign(stratum2=np.where(DATA["psu"] == "S1P1", "S0", DATA["stratum"]))


def check(table: pd.DataFrame, reference: dict):
    np.testing.assert_allclose(table["estimate"].to_numpy(), reference["estimate"], rtol=1e-8)
    np.testing.assert_allclose(table["se"].to_numpy(), reference["se"], rtol=1e-6)


def test_reference_was_made_with_survey_4_1():
    assert R["survey_version"].startswith("4.1")


def test_jackknife_of_a_stratified_element_sample_scales_replicates_by_the_fpc():
    # R: as.svrepdesign(svydesign(ids = ~1, strata = ~stratum, fpc = ~fpc_elements, ...), type = "JKn")
    replicates = Design(DATA, "weight", strata="stratum", fpc="fpc_elements").jackknife()
    reference = R["jkn_stratified_fpc"]
    check(replicates.mean("x"), reference["mean_x"])
    check(replicates.total("x"), reference["total_x"])
    check(replicates.mean("y"), reference["mean_y"])
    check(replicates.total("y"), reference["total_y"])
    n_h = DATA.groupby("stratum").size().to_numpy()
    fraction = n_h / DATA.groupby("stratum")["fpc_elements"].first().to_numpy()
    np.testing.assert_allclose(np.unique(replicates.scales), np.unique((1 - fraction) * (n_h - 1) / n_h))


def test_jackknife_of_an_unstratified_cluster_sample_with_fpc_is_r_jk1():
    assert DATA["fpc_psu"].iloc[0] == R["jk1_cluster_fpc"]["fpc_psu"] == 183
    replicates = Design(DATA, "weight", clusters="psu", fpc="fpc_psu").jackknife()
    check(replicates.mean("x"), R["jk1_cluster_fpc"]["mean_x"])
    check(replicates.total("x"), R["jk1_cluster_fpc"]["total_x"])
    np.testing.assert_allclose(replicates.scales, (1 - 20 / 183) * 19 / 20)


def test_jackknife_drops_a_stratum_sampled_whole():
    data = DATA.assign(fpc_whole=np.where(DATA["stratum"] == "S1", 3, DATA["fpc1"]))
    replicates = Design(data, "weight", strata="stratum", clusters="psu", fpc="fpc_whole").jackknife()
    assert replicates.replicates.shape[1] == DATA["psu"].nunique() - 3
    assert (replicates.scales > 0).all()


@pytest.mark.parametrize("rule", ["adjust", "certainty"])
@pytest.mark.parametrize("fpc", [None, "fpc1"])
def test_jackknife_of_a_single_psu_stratum_follows_the_rule_as_r(rule, fpc):
    design = Design(LONELY, "weight", strata="stratum2", clusters="psu", fpc=fpc, lonely_psu=rule)
    replicates = design.jackknife()
    reference = R["jkn_lonely"][rule]
    prefix = "fpc_" if fpc else ""
    check(replicates.mean("x"), reference[f"{prefix}mean_x"])
    check(replicates.total("x"), reference[f"{prefix}total_x"])
    # "adjust" adds one replicate for the lonely stratum (scale (H - 1) / H, H = 7 strata); "certainty" none
    assert replicates.replicates.shape[1] == 19 + (rule == "adjust")
    if rule == "adjust":
        assert replicates.scales[0] == pytest.approx(6 / 7)


def test_missing_fpc_is_refused_as_r_does():
    assert R["fpc_checks"]["missing"] == "error: missing values in `fpc'"
    data = DATA.copy()
    data.loc[40, "fpc_elements"] = np.nan
    with pytest.raises(EstimationError) as caught:
        Design(data, "weight", strata="stratum", fpc="fpc_elements")
    assert caught.value.code == "fpc_missing"
    assert caught.value.params == {"column": "fpc_elements", "stratum": data.loc[40, "stratum"], "stage": 1}


def test_missing_fpc_at_the_second_stage_is_refused():
    data = DATA.copy()
    data.loc[40, "fpc2"] = np.nan
    with pytest.raises(EstimationError) as caught:
        Design(data, "weight", strata="stratum", clusters=["psu", "ssu"], fpc=["fpc1", "fpc2"])
    assert caught.value.code == "fpc_missing"
    assert caught.value.params["column"] == "fpc2" and caught.value.params["stage"] == 2


@pytest.mark.parametrize("as_fraction", [False, True])
def test_fpc_varying_within_a_stratum_is_refused(as_fraction):
    # R's svydesign only warns ("`fpc' varies within strata") and uses each PSU's own value
    assert R["fpc_checks"]["varies"] == "warning: `fpc' varies within strata: stratum S1 at stage 1"
    data = DATA.copy()
    if as_fraction:
        data["fpc_elements"] = data.groupby("stratum")["weight"].transform("size") / data["fpc_elements"]
        data.loc[40, "fpc_elements"] *= 0.9
    else:
        data.loc[40, "fpc_elements"] += 1
    with pytest.raises(EstimationError) as caught:
        Design(data, "weight", strata="stratum", fpc="fpc_elements")
    assert caught.value.code == "fpc_varies"
    assert caught.value.params == {"column": "fpc_elements", "stratum": data.loc[40, "stratum"], "stage": 1}


@pytest.fixture()
def texts():
    data = DATA.copy()
    data["x_text"] = data["x"].astype(object)
    data.loc[7, "x_text"] = "abc"
    data["all_text"] = "abc"
    return data


@pytest.mark.parametrize("estimate", ["mean", "total", "ratio", "replicate mean", "replicate total"])
def test_text_in_an_analysis_variable_is_refused_naming_the_row(texts, estimate):
    design = Design(texts, "weight", strata="stratum", clusters="psu")
    calls = {
        "mean": lambda: design.mean("x_text"),
        "total": lambda: design.total("x_text", by="province"),
        "ratio": lambda: design.ratio("y", "x_text"),
        "replicate mean": lambda: design.jackknife().mean("x_text"),
        "replicate total": lambda: design.jackknife().total("x_text"),
    }
    with pytest.raises(EstimationError) as caught:
        calls[estimate]()
    assert caught.value.code == "not_numeric"
    assert caught.value.params == {"column": "x_text", "row": 7, "value": "abc"}


def test_a_column_of_text_is_refused_as_text_not_as_an_empty_domain(texts):
    with pytest.raises(EstimationError) as caught:
        Design(texts, "weight", strata="stratum", clusters="psu").mean("all_text")
    assert caught.value.code == "not_numeric"
    assert caught.value.params == {"column": "all_text", "row": 0, "value": "abc"}


def test_missing_values_written_in_many_ways_are_still_left_out():
    data = DATA.copy()
    data["x_missing"] = data["x"].astype(object)
    data["x_nan"] = data["x"]
    for row, missing in zip((3, 50, 90, 120, 160, 200), (None, np.nan, "", "  ", "NaN", pd.NA)):
        data.loc[row, "x_missing"] = missing
        data.loc[row, "x_nan"] = np.nan
    design = Design(data, "weight", strata="stratum", clusters="psu")
    pd.testing.assert_frame_equal(
        design.mean("x_missing").reset_index(drop=True), design.mean("x_nan").reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(
        design.total("x_missing", by="province"), design.total("x_nan", by="province"), check_names=False
    )
    assert design.mean("x_missing")["n"].iloc[0] == len(data) - 6


def test_an_fpc_of_text_or_of_fractions_mixed_with_sizes_is_refused():
    data = DATA.assign(fpc_text=DATA["fpc_elements"].astype(object))
    data.loc[3, "fpc_text"] = "about 500"
    with pytest.raises(EstimationError) as caught:
        Design(data, "weight", strata="stratum", fpc="fpc_text")
    assert caught.value.code == "not_numeric" and caught.value.params == {
        "column": "fpc_text",
        "row": 3,
        "value": "about 500",
    }
    mixed = DATA.assign(fpc_mixed=DATA["fpc_elements"].where(DATA["stratum"] != DATA["stratum"].iloc[0], 0.5))
    with pytest.raises(EstimationError) as caught:
        Design(mixed, "weight", strata="stratum", fpc="fpc_mixed")
    assert caught.value.code == "fpc_mixed" and caught.value.params == {"column": "fpc_mixed"}


def test_a_jackknife_with_every_stratum_sampled_whole_is_refused_as_r_does():
    whole = DATA.assign(everyone=DATA.groupby("stratum")["weight"].transform("size"))
    design = Design(whole, "weight", strata="stratum", fpc="everyone")
    with pytest.raises(EstimationError) as caught:
        design.jackknife()
    assert caught.value.code == "no_replicates"
