"""The survey channel's estimates per criterion and unit, against hand computations."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import Design, survey_estimates
from questionnaires import RespondentGroup, generate, read_bank, read_yaml
from sampling import rake

DEMO = Path(__file__).resolve().parents[2] / "survey_app" / "core" / "demo"


@pytest.fixture(scope="module")
def demo():
    framework = read_yaml(DEMO / "national-province-2021-demo.yaml")
    bank = read_bank(DEMO / "question-bank.yaml")
    return framework, generate(framework, bank.questions, RespondentGroup.CITIZENS, bank.background)


RESPONSES = pd.DataFrame(
    {
        "unit": ["01", "01", "01", "01", "02", "02"],
        "q_aw3": ["yes", "yes", "no", None, None, None],
        "q_hr2": [["email"], ["none"], ["search", "payment"], ["none"], ["payment"], ["none"]],
        "q_dg3": ["yes", "yes", "no", "yes", "yes", "yes"],
        "q_dg4": ["5", "3", None, "4", "2", "4"],
    }
)
WEIGHTS = np.array([1.0, 2.0, 3.0, 4.0, 1.0, 1.0])


def _one(table, criterion, unit):
    return table[(table["criterion"] == criterion) & (table["unit"] == unit)].iloc[0]


def test_a_weighted_share_its_standard_error_and_points_by_hand(demo):
    table = survey_estimates(RESPONSES, *demo, weights=WEIGHTS)
    row = _one(table, "AW.3", "01")
    # yes, yes, no with weights 1, 2, 3: (1 + 2) / 6; unweighted 2 of 3
    assert row["weighted"] == pytest.approx(0.5, rel=1e-12)
    assert row["unweighted"] == pytest.approx(2 / 3, rel=1e-12)
    assert row["respondents"] == 3
    # each response is a PSU, the unit a stratum of 4 (the unanswered one contributes 0):
    # z = w (y - 0.5) / 6 = 1/12, 2/12, -3/12, 0; variance = 4/3 Σ (z - z̄)², z̄ = 0
    z = np.array([1 / 12, 2 / 12, -3 / 12, 0.0])
    se = math.sqrt(4 / 3 * ((z - z.mean()) ** 2).sum())
    assert row["se"] == pytest.approx(se, rel=1e-10)
    # a share's interval is R's svyciprop(method = "logit") on the unit's subset: t on its 3 - 1 degrees of
    # freedom (qt(0.975, 2) = 4.302652729911275) around logit(0.5) = 0, its standard error divided by p (1 - p)
    half = 4.302652729911275 * se / 0.25
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((1 / (1 + math.exp(half)), 1 / (1 + math.exp(-half))))
    assert row["interval"] == "logit"
    # share_yes times the criterion's 36 points (the demo's AW.3: 40 × 0.9, the other 10% is AW.E's)
    assert (row["points"], row["maximum"]) == pytest.approx((18.0, 36.0))
    assert row["points_low"] == pytest.approx(max(0.0, row["ci_low"]) * 36)


def test_a_share_everyone_gave_alike_has_the_exact_binomial_interval_and_a_mean_the_wald_interval(demo):
    table = survey_estimates(RESPONSES, *demo, weights=WEIGHTS)
    # DG.3 in unit 02: both respondents answered yes, so p = 1 with no variance to go on: Clopper-Pearson on 2
    # respondents, [0.025^(1/2), 1]
    row = _one(table, "DG.3", "02")
    assert row["weighted"] == 1.0 and row["interval"] == "beta"
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((math.sqrt(0.025), 1.0))
    # DG.4 is the mean of a scale: estimate ± 1.96 se
    row = _one(table, "DG.4", "01")
    assert row["interval"] == "normal"
    assert row["ci_high"] - row["weighted"] == pytest.approx(1.959963984540054 * row["se"])


def test_a_unit_nobody_answered_is_missing_not_an_error(demo):
    row = _one(survey_estimates(RESPONSES, *demo, weights=WEIGHTS), "AW.3", "02")
    assert row["respondents"] == 0 and math.isnan(row["weighted"]) and math.isnan(row["points"])


def test_multiple_choice_counts_a_positive_choice_and_a_scale_is_rescaled(demo):
    table = survey_estimates(RESPONSES, *demo, weights=WEIGHTS)
    # HR.2: positive choices are email, search, payment; unit 01 answers yes, no, yes, no
    assert _one(table, "HR.2", "01")["weighted"] == pytest.approx((1 + 3) / 10)
    # DG.4 (asked only after a yes): mean of 5, 3, 4 with weights 1, 2, 4 on a 1-5 scale of 36 points (the
    # demo's 40 × 0.9, the other 10% of digital government is DG.E's)
    row = _one(table, "DG.4", "01")
    mean = (5 * 1 + 3 * 2 + 4 * 4) / 7
    assert row["weighted"] == pytest.approx(mean)
    assert row["points"] == pytest.approx((mean - 1) / 4 * 36)


def test_without_weights_both_columns_agree(demo):
    table = survey_estimates(RESPONSES, *demo).dropna(subset=["weighted"])
    assert np.allclose(table["weighted"], table["unweighted"])
    assert np.allclose(table["ci_low"], table["unweighted_low"])


def test_raked_weights_give_calibrated_standard_errors(demo):
    rng = np.random.default_rng(7)
    n = 400
    responses = pd.DataFrame(
        {
            "unit": rng.choice(["01", "02"], n),
            "sex": rng.choice(["female", "male"], n, p=[0.3, 0.7]),
            "q_aw3": rng.choice(["yes", "no"], n),
        }
    )
    responses.loc[responses["sex"] == "female", "q_aw3"] = rng.choice(
        ["yes", "no"], (responses["sex"] == "female").sum(), p=[0.9, 0.1]
    )
    margins = {"unit": {"01": 5000, "02": 5000}, "sex": {"female": 5000, "male": 5000}}
    raked = rake(responses, np.ones(n), margins)
    fixed = survey_estimates(responses, *demo, weights=raked.weights)
    calibrated = survey_estimates(responses, *demo, weights=raked.weights, calibrations=[raked.calibration])
    a, b = _one(fixed, "AW.3", "01"), _one(calibrated, "AW.3", "01")
    assert a["weighted"] == pytest.approx(b["weighted"], rel=1e-12)
    # sex explains the answer, so accounting for the calibration lowers the standard error
    assert b["se"] < a["se"]


def test_a_shares_interval_is_the_designs_logit_interval_which_is_checked_against_r(demo):
    rng = np.random.default_rng(11)
    n = 300
    responses = pd.DataFrame({"unit": rng.choice(["01", "02", "03"], n), "q_aw3": rng.choice(["yes", "no"], n)})
    weights = rng.uniform(0.5, 3.0, n)
    table = survey_estimates(responses, *demo, weights=weights)
    data = responses.assign(y=(responses["q_aw3"] == "yes").astype(int), w=weights)
    reference = Design(data, "w", strata="unit").proportion_interval("y", by="unit", method="logit")
    for unit in ("01", "02", "03"):
        row = _one(table, "AW.3", unit)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(
            (reference.loc[unit, "low"], reference.loc[unit, "high"]), rel=1e-6
        )
