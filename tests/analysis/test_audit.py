"""The statistical audit of an index run: data checks and structure against R (results/reference_audit.R, values
in reference_audit.json), the alternative methods and the official one against hand computations and
``analysis.compute``, Sobol' indices against the Ishigami function's analytical values."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import EstimationError, compute, rank
from analysis.audit import (
    audit_run,
    cronbach_alpha,
    data_checks,
    global_uncertainty,
    kurtosis,
    method_index,
    normalise_units,
    scenarios,
    skew_kurtosis_flag,
    skewness,
    sobol_indices,
    structure,
    winsorise,
)
from analysis.audit._model import build_model
from questionnaires import ChannelShares, framework_from_dict
from tests.analysis.test_index import CHANNELS, FRAMEWORK, POINTS, THREE, THREE_CHANNELS

REFERENCE = json.loads((Path(__file__).parent / "results" / "reference_audit.json").read_text())


def _criterion(code, points):
    return {
        "code": code,
        "kind": "criterion",
        "name": {"vi": code},
        "points": points,
        "channels": ["self_assessment"],
        "scoring": {"method": "ratio"},
    }


def _framework(mains: dict[str, dict[str, float]], total: float):
    """A framework of main indices (no pillars, no channel shares): main index → criterion → points."""
    return framework_from_dict(
        {
            "code": "audit",
            "level": "province",
            "year": 2023,
            "name": {"vi": "audit"},
            "total_points": total,
            "nodes": [
                {
                    "code": main,
                    "kind": "main_index",
                    "name": {"vi": main},
                    "points": sum(criteria.values()),
                    "children": [_criterion(code, points) for code, points in criteria.items()],
                }
                for main, criteria in mains.items()
            ],
        }
    )


MAXIMUM = REFERENCE["maximum"]
R_FRAMEWORK = _framework(
    {"A": {c: MAXIMUM[c] for c in "A1 A2 A3 A4".split()}, "B": {c: MAXIMUM[c] for c in "B1 B2 B3".split()}}, 100
)


def _r_points() -> pd.DataFrame:
    values = pd.DataFrame(REFERENCE["values"], index=REFERENCE["units"])
    for cell in REFERENCE["missing"]:
        values.loc[cell["unit"], cell["node"]] = np.nan
    long = values.rename_axis("unit").reset_index().melt(id_vars="unit", var_name="node", value_name="value")
    return long.assign(points=long["value"] * long["node"].map(MAXIMUM), source="self_assessment")[
        ["unit", "node", "points", "source"]
    ]


R_POINTS = _r_points()


def test_availability_distribution_and_outliers_match_r():
    checks = data_checks(R_FRAMEWORK, R_POINTS)
    table = checks.criteria.set_index("node")
    for expected in REFERENCE["checks"]:
        row = table.loc[expected["node"]]
        assert row["with_data"] == expected["with_data"]
        for column in ("mean", "sd", "q1", "median", "q3", "skewness", "kurtosis"):
            assert row[column] == pytest.approx(expected[column], abs=1e-8), column
        assert (row["outliers_iqr"], row["outliers_z"]) == (expected["outliers_iqr"], expected["outliers_z"])
    # A4: one unit far ahead of fourteen: skewness 3.79 and excess kurtosis 14.5, past both JRC limits
    assert table["flagged"].to_dict() == {code: code == "A4" for code in table.index}
    # availability: A2 and B2 each miss one unit of 15; u03 and u09 each miss one criterion of 7
    assert table.loc["A2", "share"] == pytest.approx(14 / 15) and table.loc["A1", "share"] == 1
    units = checks.units.set_index("unit")
    assert units.loc["u03", "share"] == pytest.approx(6 / 7) and units.loc["u01", "share"] == 1
    assert checks.outliers.to_dict("records") == [{"unit": "u15", "node": "A4", "value": 0.95, "iqr": True, "z": True}]


def test_skewness_and_excess_kurtosis_by_hand():
    x = [0.0, 0.0, 0.0, 0.0, 4.0]
    # mean 0.8; moments over n: m2 = 12.8 / 5 = 2.56, m3 = 30.72 / 5 = 6.144, m4 = 106.496 / 5 = 21.2992
    # g1 = 6.144 / 2.56^1.5 = 1.5, G1 = 1.5 √(5 × 4) / 3 = √5
    assert skewness(x) == pytest.approx(math.sqrt(5), abs=1e-12)
    # g2 = 21.2992 / 2.56² - 3 = 0.25 (the non-excess kurtosis m4 / m2² is 3.25), G2 = (6 × 0.25 + 6) × 4 / (3 × 2) = 5
    assert kurtosis(x) == pytest.approx(5.0, abs=1e-12)
    assert skew_kurtosis_flag(skewness(x), kurtosis(x))
    assert not skew_kurtosis_flag(math.sqrt(5), 3.5) and not skew_kurtosis_flag(float("nan"), 9)
    assert (
        math.isnan(skewness([1.0, 2.0])) and math.isnan(kurtosis([1.0, 2.0, 3.0])) and math.isnan(skewness([2.0] * 5))
    )


def test_structure_matches_r():
    found = structure(R_FRAMEWORK, R_POINTS)
    pairs = found.correlations.set_index(["first", "second"])
    for expected in REFERENCE["structure"]:
        main = expected["main_index"]
        codes = [c for c in MAXIMUM if c.startswith(main)]
        for i, first in enumerate(codes):
            for j in range(i + 1, len(codes)):
                row = pairs.loc[(first, codes[j])]
                assert row["pearson"] == pytest.approx(expected["pearson"][i][j], abs=1e-8)
                assert row["spearman"] == pytest.approx(expected["spearman"][i][j], abs=1e-8)
        with_index = pairs.loc[(main, "index")]
        assert with_index["pearson"] == pytest.approx(expected["with_index"]["pearson"], abs=1e-8)
        assert with_index["spearman"] == pytest.approx(expected["with_index"]["spearman"], abs=1e-8)
        assert found.alpha.set_index("main_index").loc[main, "alpha"] == pytest.approx(expected["alpha"], abs=1e-8)
        eigen = found.pca[found.pca["main_index"] == main]
        assert eigen["eigenvalue"].tolist() == pytest.approx(expected["eigenvalues"], abs=1e-8)
        assert eigen["share"].sum() == pytest.approx(1) and eigen["cumulative"].iloc[-1] == pytest.approx(1)
        loadings = found.loadings[found.loadings["main_index"] == main].pivot(
            index="node", columns="component", values="loading"
        )
        assert loadings.loc[codes].to_numpy() == pytest.approx(np.array(expected["loadings"]), abs=1e-6)
    # B3 runs against B1 (r = -0.66) and hardly with B2 (-0.24): flagged; B's alpha is negative for it
    assert pairs.loc[("B1", "B3"), "flag"] == "negative" and pairs.loc[("B2", "B3"), "flag"] == "near_zero"
    assert pairs.loc[("A1", "A2"), "flag"] == ""


def test_cronbach_alpha_and_flags_by_hand():
    # item variances 1 and 7/3, the sum's (3, 5, 8) 19/3: alpha = 2 (1 - (10/3) / (19/3)) = 18/19
    assert cronbach_alpha(np.array([[1, 2], [2, 3], [3, 5]])) == pytest.approx(18 / 19, abs=1e-12)
    assert math.isnan(cronbach_alpha(np.array([[1.0], [2.0], [3.0]])))


def test_a_criterion_without_spread_is_flagged_and_left_out_of_the_pca():
    points = R_POINTS.copy()
    points.loc[points["node"] == "A3", "points"] = 7.5
    found = structure(R_FRAMEWORK, points)
    assert set(found.correlations[found.correlations["first"] == "A3"]["flag"]) == {"constant"}
    assert "A3" not in set(found.loadings["node"]) and len(found.pca[found.pca["main_index"] == "A"]) == 3
    # the first component's squared loadings are the PCA weights: they sum to 1 in each main index, and the
    # criterion without spread weighs nothing in its main index
    assert found.pca_weights()["A"].sum() == pytest.approx(1)
    model = build_model(R_FRAMEWORK, points)
    within = dict(zip(model.leaves, model.within_main("pca", found.pca_weights())))
    assert within["A3"] == 0 and sum(within[c] for c in ("A1", "A2", "A4")) == pytest.approx(1, abs=1e-12)
    assert within["A1"] == pytest.approx(found.pca_weights()["A"]["A1"], abs=1e-12)


def test_too_few_units_and_unknown_nodes_are_refused():
    two = R_POINTS[R_POINTS["unit"].isin(["u01", "u02"])]
    with pytest.raises(EstimationError) as caught:
        structure(R_FRAMEWORK, two)
    assert (caught.value.code, caught.value.params) == ("too_few_units", {"count": 2, "minimum": 3})
    stray = pd.concat([R_POINTS, pd.DataFrame([{"unit": "u01", "node": "Z9", "points": 1.0}])])
    for call in (data_checks, structure, scenarios, global_uncertainty):
        with pytest.raises(EstimationError) as caught:
            call(R_FRAMEWORK, stray)
        assert (caught.value.code, caught.value.params) == ("unknown_node", {"node": "Z9"})
    with pytest.raises(EstimationError) as caught:
        winsorise(R_FRAMEWORK, R_POINTS, nodes=["A9"])
    assert caught.value.params == {"node": "A9"}
    with pytest.raises(EstimationError) as caught:
        winsorise(R_FRAMEWORK, R_POINTS, at_most=-1)
    assert (caught.value.code, caught.value.params) == ("invalid_winsorised", {"count": -1})
    with pytest.raises(EstimationError) as caught:
        data_checks(R_FRAMEWORK, R_POINTS.iloc[:0])
    assert caught.value.code == "no_audit_units"


def test_winsorising_is_a_copy_for_a_scenario():
    before = R_POINTS.copy()
    treated, moves = winsorise(R_FRAMEWORK, R_POINTS)
    pd.testing.assert_frame_equal(R_POINTS, before)
    # A4's leader (0.95 × 15 points) takes the next value, the largest of the others; then A4 passes the check
    others = R_POINTS[(R_POINTS["node"] == "A4") & (R_POINTS["unit"] != "u15")]["points"].max()
    assert moves.to_dict("records")[0] == {
        "node": "A4",
        "unit": "u15",
        "points": pytest.approx(14.25),
        "winsorised": others,
    }
    assert set(moves["node"]) == {"A4"}
    after = treated[treated["node"] == "A4"]["points"] / 15
    assert not skew_kurtosis_flag(skewness(after), kurtosis(after))


@pytest.mark.parametrize("normalisation", ["none", "min-max", "z-score"])
@pytest.mark.parametrize("excluded", [set(), {"B2"}, {"B1", "B2"}])
@pytest.mark.parametrize("exclusion", ["redistribute", "remove"])
@pytest.mark.parametrize("cyberspace, expert", [(0.15, 0.05), (0.15, 0.15)])
def test_the_official_method_is_compute(normalisation, excluded, exclusion, cyberspace, expert):
    run = {"channels": THREE_CHANNELS, "excluded": excluded, "exclusion": exclusion}
    scores = compute(FRAMEWORK, THREE, normalisation=normalisation, **run)
    model = build_model(FRAMEWORK, THREE, **run)
    found = method_index(model, normalisation=normalisation)
    pd.testing.assert_series_equal(found, scores.index_value, check_names=False, atol=1e-12, rtol=0)
    shares = ChannelShares(1 - cyberspace - expert, cyberspace, expert, "pillar")
    other = compute(FRAMEWORK, THREE, normalisation=normalisation, shares=shares, **run)
    found = method_index(
        model,
        normalisation=normalisation,
        cyberspace=cyberspace,
        expert=expert,
    )
    pd.testing.assert_series_equal(found, other.index_value, check_names=False, atol=1e-12, rtol=0)


SMALL = _framework({"A": {"A1": 45, "A2": 15}, "B": {"B1": 40}}, 100)
SMALL_POINTS = pd.DataFrame(
    {
        "unit": ["u1", "u2", "u3"] * 3,
        "node": ["A1"] * 3 + ["A2"] * 3 + ["B1"] * 3,
        "points": [45, 22.5, 0, 0, 7.5, 15, 8, 16, 36],
        "source": "self_assessment",
    }
)


def test_alternative_methods_by_hand():
    # values A1 1 .5 0, A2 0 .5 1, B1 .2 .4 .9; the official index .45 A1 + .15 A2 + .4 B1 = .53 .46 .51
    model = build_model(SMALL, SMALL_POINTS)
    index = lambda **method: method_index(model, **method).tolist()  # noqa: E731
    assert index() == pytest.approx([0.53, 0.46, 0.51], abs=1e-12)
    # equal weights: A = (A1 + A2) / 2 = .5 for everyone, index (A + B1) / 2
    assert index(weighting="equal") == pytest.approx([0.35, 0.45, 0.70], abs=1e-12)
    # geometric across main indices: A = .75 A1 + .25 A2 = .75 .5 .25, index A^.6 B^.4
    assert index(aggregation="geometric") == pytest.approx(
        [0.75**0.6 * 0.2**0.4, 0.5**0.6 * 0.4**0.4, 0.25**0.6 * 0.9**0.4], abs=1e-12
    )
    # ranks (r - 1) / (n - 1): A1 1 .5 0, A2 0 .5 1, B1 0 .5 1
    assert index(normalisation="rank") == pytest.approx([0.45, 0.5, 0.55], abs=1e-12)
    # distance to the leader: B1 over .9
    assert index(normalisation="target") == pytest.approx(
        [0.45 + 0.4 * 0.2 / 0.9, 0.3 + 0.4 * 0.4 / 0.9, 0.15 + 0.4], abs=1e-12
    )
    # A1 and A2 are perfectly opposed: the first component loads ±1/√2 on both, squared 1/2 each
    weights = structure(SMALL, SMALL_POINTS).pca_weights()
    assert weights["A"].to_dict() == pytest.approx({"A1": 0.5, "A2": 0.5}, abs=1e-12)
    assert index(weighting="pca", pca=weights) == pytest.approx([0.38, 0.46, 0.66], abs=1e-12)
    # geometric means floor a value at 1%: a 0 does not zero the index
    zero = SMALL_POINTS.assign(points=SMALL_POINTS["points"].where(SMALL_POINTS["node"] != "B1", 0.0))
    found = method_index(build_model(SMALL, zero), aggregation="geometric")
    assert found["u1"] == pytest.approx(0.75**0.6 * 0.01**0.4, abs=1e-12)


def test_normalisations_of_columns_without_spread_follow_compute():
    flat = np.array([[[0.4], [0.4], [0.4]]])
    assert normalise_units(flat, "min-max").ravel().tolist() == [0.4] * 3
    assert normalise_units(flat, "z-score").ravel().tolist() == [0.0] * 3
    assert normalise_units(flat, "rank").ravel().tolist() == [0.5] * 3
    assert normalise_units(np.zeros((1, 3, 1)), "target").ravel().tolist() == [0.0] * 3
    with pytest.raises(EstimationError) as caught:
        normalise_units(flat, "log")
    assert caught.value.code == "unknown_normalisation"


def test_scenarios_against_the_official_ranks():
    found = scenarios(SMALL, SMALL_POINTS)
    table = found.table.set_index("scenario")
    # official ranks u1 1, u3 2, u2 3; equal weights u3 1, u2 2, u1 3: shifts 2, 1, 1
    equal = table[table["weighting"] == "equal"].iloc[0]
    assert (equal["mean_shift"], equal["max_shift"], equal["units_moved"]) == (pytest.approx(4 / 3), 2, 3)
    assert found.ranks["official"].to_dict() == {"u1": 1, "u2": 3, "u3": 2}
    assert found.shifts()[equal.name].to_dict() == {"u1": 2, "u2": -1, "u3": -1}
    # one change at a time: four other normalisations, geometric, equal and PCA weights; no shares, no exclusions
    assert len(table) == 1 + 4 + 1 + 2 and table.loc["official", "mean_shift"] == 0
    assert table["cyberspace"].isna().all()
    combined = scenarios(FRAMEWORK, THREE, channels=THREE_CHANNELS, excluded={"B2"}, combine=True)
    # 5 normalisations × 2 aggregations × 3 weightings × 9 share pairs, less the official one; the other reading
    # of the exclusion and no exclusions
    assert len(combined.table) == 1 + 5 * 2 * 3 * 9 - 1 + 2
    assert combined.table["scenario"].tolist()[-2:] == ["exclusion: remove", "no exclusions"]
    # the readings rank test_index's two units the other way round: u1 .63 and u2 .70 when B2's points pass to
    # B1, u1 53/80 and u2 50/80 when they leave the total
    # (two units are too few for a PCA: its weights are not asked for)
    readings = scenarios(FRAMEWORK, POINTS, channels=CHANNELS, excluded={"B2"}, weightings=("official", "equal"))
    readings = readings.table.set_index("scenario")
    assert readings.loc["exclusion: remove", ["exclusion", "mean_shift", "units_moved"]].tolist() == ["remove", 1, 2]
    assert readings.loc["official", "exclusion"] == "redistribute"
    alone = scenarios(SMALL, SMALL_POINTS, normalisations=(), aggregations=(), weightings=("official",))
    assert alone.table["scenario"].tolist() == ["official"]
    with pytest.raises(EstimationError) as caught:
        scenarios(SMALL, SMALL_POINTS, weightings=("official", "budget"))
    assert (caught.value.code, caught.value.params) == ("unknown_weighting", {"weighting": "budget"})
    with pytest.raises(EstimationError) as caught:
        scenarios(FRAMEWORK, THREE, share_range=(0.1, 0.6))
    assert caught.value.code == "invalid_share"


def test_sobol_indices_of_the_ishigami_function():
    def ishigami(x, a=7.0, b=0.1):
        return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])

    a, b, pi = 7.0, 0.1, math.pi
    variance = a**2 / 8 + b * pi**4 / 5 + b**2 * pi**8 / 18 + 0.5
    first = [0.5 * (1 + b * pi**4 / 5) ** 2 / variance, a**2 / 8 / variance, 0.0]
    total_3 = 8 * b**2 * pi**8 / 225 / variance
    total = [first[0] + total_3, first[1], total_3]
    found = sobol_indices(ishigami, ["x1", "x2", "x3"], 2**14, bounds=[(-pi, pi)] * 3, seed=1)
    assert found["first_order"].tolist() == pytest.approx(first, abs=0.02)
    assert found["total"].tolist() == pytest.approx(total, abs=0.02)
    with pytest.raises(EstimationError) as caught:
        sobol_indices(ishigami, ["x1", "x2", "x3"], 1000)
    assert (caught.value.code, caught.value.params) == ("invalid_base_samples", {"count": 1000})


def test_global_uncertainty_without_any_uncertainty_keeps_the_official_ranks():
    found = global_uncertainty(
        SMALL,
        SMALL_POINTS,
        normalisations=("none",),
        aggregations=("arithmetic",),
        weightings=("official",),
        perturbation=0.0,
        base_samples=16,
    )
    table = found.units.set_index("unit")
    assert table["rank"].to_dict() == {"u1": 1, "u3": 2, "u2": 3}
    assert (table["median_rank"] == table["rank"]).all() and (table["rank_low"] == table["rank_high"]).all()
    assert found.shift["high"] == 0 and (found.sobol[["first_order", "total"]] == 0).all().all()
    assert found.draws == 16 * (3 + 2)


def test_weighting_alone_explains_the_rank_moves():
    found = global_uncertainty(
        SMALL,
        SMALL_POINTS,
        normalisations=("none",),
        aggregations=("arithmetic",),
        perturbation=0.0,
        weightings=("official", "equal"),
        base_samples=256,
        seed=3,
    )
    shift = found.sobol[found.sobol["output"] == "mean_shift"].set_index("factor")
    # the mean shift is 0 under official weights and 4/3 under equal ones: all of its variance is the weighting's
    assert shift.loc["weighting", "first_order"] == pytest.approx(1, abs=0.05)
    assert shift.loc["weighting", "total"] == pytest.approx(1, abs=0.05)
    assert shift.loc[["normalisation", "aggregation"], "total"].tolist() == [0, 0]
    table = found.units.set_index("unit")
    # each weighting half the draws: u1 ranks 1 or 3
    assert (table.loc["u1", "rank_low"], table.loc["u1", "rank_high"]) == (1, 3)


def test_the_exclusion_reading_enters_as_a_factor_where_the_run_excludes():
    found = global_uncertainty(
        FRAMEWORK,
        POINTS,
        channels=CHANNELS,
        excluded={"B2"},
        normalisations=("none",),
        aggregations=("arithmetic",),
        weightings=("official",),
        perturbation=0.0,
        share_bounds=(0.1, 0.1),
        base_samples=128,
        seed=2,
    )
    assert found.factors.set_index("factor").loc["exclusion", "levels"] == "redistribute, remove"
    # the readings swap the two units (test_scenarios_against_the_official_ranks): the mean shift is 0 or 1, all
    # of its variance the reading's; the shares, fixed at 10%, explain nothing
    shift = found.sobol[found.sobol["output"] == "mean_shift"].set_index("factor")
    assert shift.loc["exclusion", ["first_order", "total"]].tolist() == pytest.approx([1, 1], abs=0.05)
    assert shift.loc[["cyberspace share", "expert share"], "total"].abs().max() < 1e-12
    assert found.units.set_index("unit")[["rank_low", "rank_high"]].to_dict("index") == {
        "u1": {"rank_low": 1, "rank_high": 2},
        "u2": {"rank_low": 1, "rank_high": 2},
    }


def test_survey_error_expert_spread_and_shares_enter_as_factors():
    points = THREE.assign(source=np.where(THREE["node"] == "B1", "survey", "self_assessment"))
    survey = pd.DataFrame(
        {
            "criterion": ["B1", "B1"],
            "unit": ["u1", "u2"],
            "se": [0.2, 0.2],
            "ci_low": [0.2, 0.6],
            "ci_high": [0.8, 1.0],
            "points_low": [4.0, 12.0],
            "points_high": [16.0, 20.0],
            "maximum": [20.0, 20.0],
            "points": [10.0, 20.0],
        }
    )
    expert = pd.DataFrame({"unit": ["u1", "u3"], "item": ["A", "B"], "value": [0.8, 0.6], "value_se": [0.1, 0.1]})
    found = global_uncertainty(
        FRAMEWORK, points, channels=THREE_CHANNELS, survey=survey, expert=expert, base_samples=64, seed=1
    )
    assert found.factors["factor"].tolist() == [
        "survey",
        "expert",
        "normalisation",
        "aggregation",
        "weighting",
        "weights",
        "cyberspace share",
        "expert share",
    ]
    assert found.draws == 64 * (8 + 2) and set(found.sobol["output"]) == {"u1", "u2", "u3", "mean_shift"}
    assert (
        found.units["rank"].tolist()
        == rank(compute(FRAMEWORK, points, channels=THREE_CHANNELS).index_value).sort_values().tolist()
    )
    for bad, code in (
        ({"perturbation": 1.5}, "invalid_perturbation"),
        ({"level": 1.0}, "invalid_level"),
        ({"realisations": 0}, "invalid_realisations"),
        ({"share_bounds": (0.15, 0.05)}, "invalid_share_bounds"),
        ({"aggregations": ("harmonic",)}, "unknown_aggregation"),
        ({"base_samples": 100}, "invalid_base_samples"),
    ):
        with pytest.raises(EstimationError) as caught:
            global_uncertainty(FRAMEWORK, THREE, **bad)
        assert caught.value.code == code
    with pytest.raises(EstimationError) as caught:
        global_uncertainty(FRAMEWORK, THREE, survey=survey)
    assert (caught.value.code, caught.value.params) == ("unknown_column", {"column": "source"})


def test_a_whole_audit():
    found = audit_run(R_FRAMEWORK, R_POINTS, base_samples=32)
    assert len(found.data.criteria) == 7 and len(found.structure.alpha) == 2
    assert "winsorised" in set(found.scenarios.table["scenario"])
    assert len(found.uncertainty.units) == 15


def test_sobol_confidence_half_widths_are_the_same_on_every_call():
    """SALib seeds its bootstrap only for a seed that is true: the audit never hands it 0."""

    def model(x):
        return x[:, 0] + 2 * x[:, 1] * x[:, 2]

    first, again = (sobol_indices(model, ["a", "b", "c"], 64, seed=0) for _ in range(2))
    assert first["first_order_conf"].tolist() == again["first_order_conf"].tolist()
    assert first["total_conf"].tolist() == again["total_conf"].tolist()
