"""Plans, draws and weighting runs as the staff pages use them, with values checked by hand."""

import math

import pytest
from sqlalchemy import func, select

from sampling import SamplingError
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.sampling.models import SamplePlan, WeightingRun
from survey_app.sampling.operations import (
    draw_invitations,
    plan_sizes,
    run_weighting,
    run_weights,
    sample_plan,
    save_plan,
    stored_plan,
)
from survey_app.survey import operations as collection
from survey_app.survey.models import Invitation
from tests.conftest import CITIZEN_ANSWERS

#: the plan form's settings where a test says nothing else
PLAN_SETTINGS = {"margin": None, "power": 0.5, "minimum": 0, "maximum": None, "deff": 1.0, "response_rate": 1.0}
FRAME = b"province,urban,population\n01,urban,3000\n01,rural,7000\n02,urban,1000\n02,rural,9000\n"


def _plan(frame: bytes, strata: list[str], count: str, method: str, **settings):
    """A plan of ``frame`` (a CSV) with the form's settings unless ``settings`` say otherwise."""
    return sample_plan(frame, "frame.csv", strata, count, method, **(PLAN_SETTINGS | settings))


def _submit(survey, unit, answers, index):
    collection.submit(survey.invited, unit, CITIZEN_ANSWERS | answers, f"w{index}", source="api")


def _population(survey, rows):
    lines = ["unit,sex,population"] + [f"{survey.units[u].code},{sex},{count}" for u, sex, count in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def answered(survey):
    first, second = survey.units[0], survey.units[1]
    for index, (unit, sex, aware) in enumerate(
        [
            (first, "female", "yes"),
            (first, "female", "yes"),
            (first, "male", "yes"),
            (first, "male", "no"),
            (first, "male", "no"),
            (second, "female", "no"),
            (second, "male", "yes"),
        ]
    ):
        _submit(survey, unit, {"sex": sex, "q_aw3": aware}, index)
    db.session.commit()
    return survey


def test_poststratifying_by_sex_within_each_unit(answered):
    survey = answered
    population = _population(survey, [(0, "female", 600), (0, "male", 400), (1, "female", 50), (1, "male", 50)])
    run = run_weighting(
        survey.invited,
        population,
        "population.csv",
        margins=["sex"],
        method="poststratify",
        lower=None,
        upper=None,
        actor=None,
    )
    db.session.commit()
    weights = sorted(run_weights(run).values())
    # unit 1: 2 women stand for 600 (300 each), 3 men for 400; unit 2: one of each for 50
    assert weights == pytest.approx(sorted([300, 300, 400 / 3, 400 / 3, 400 / 3, 50, 50]))
    aware = next(r for r in run.estimates if r["criterion"] == "AW.3" and r["unit"] == survey.units[0].code)
    assert aware["weighted"] == pytest.approx((600 * 1 + 400 * 1 / 3) / 1000)
    assert aware["unweighted"] == pytest.approx(3 / 5)
    # AW.3 is worth 36 of awareness's 100 in the demo framework (90% of 40: AW.E holds the experts' 10)
    assert aware["points"] == pytest.approx(36 * (600 + 400 / 3) / 1000)
    assert run.diagnostics["overall"]["n"] == 7
    assert run.diagnostics["units"][survey.units[0].code]["total"] == pytest.approx(1000)
    assert sum(bin_["count"] for bin_ in run.histogram) == 7


def test_raking_on_one_margin_equals_poststratifying_on_it(answered):
    survey = answered
    population = _population(survey, [(0, "female", 600), (0, "male", 400), (1, "female", 50), (1, "male", 50)])
    raked = run_weighting(
        survey.invited, population, "p.csv", margins=["sex"], method="rake", lower=None, upper=None, actor=None
    )
    assert sorted(run_weights(raked).values()) == pytest.approx(sorted([300, 300, 400 / 3, 400 / 3, 400 / 3, 50, 50]))


def test_trimming_keeps_each_units_total(answered):
    survey = answered
    population = _population(survey, [(0, "female", 900), (0, "male", 100), (1, "female", 50), (1, "male", 50)])
    run = run_weighting(
        survey.invited, population, "p.csv", margins=["sex"], method="poststratify", lower=0.5, upper=1.5, actor=None
    )
    first = [w for w in sorted(run_weights(run).values()) if w > 60]
    # unit 1's mean weight is 200: women's 450 are cut to 300, the excess shared by the men
    assert max(first) == pytest.approx(300)
    assert run.diagnostics["units"][survey.units[0].code]["total"] == pytest.approx(1000)


def test_a_level_with_no_respondent_is_named_and_nothing_is_stored(answered):
    survey = answered
    population = _population(
        survey,
        [(0, "female", 600), (0, "male", 400), (1, "female", 50), (1, "male", 50), (2, "female", 10), (2, "male", 10)],
    )
    with pytest.raises(SamplingError) as error:
        run_weighting(
            survey.invited,
            population,
            "p.csv",
            margins=["sex"],
            method="poststratify",
            lower=None,
            upper=None,
            actor=None,
        )
    assert error.value.code == "empty_level" and survey.units[2].code in str(error.value.params["level"])
    db.session.rollback()
    assert db.session.scalar(select(func.count(WeightingRun.id))) == 0


def test_a_margin_the_questionnaire_does_not_ask_is_refused(answered):
    with pytest.raises(ServiceError) as error:
        run_weighting(
            answered.invited,
            b"unit,income,population\n",
            "p.csv",
            margins=["income"],
            method="rake",
            lower=None,
            upper=None,
            actor=None,
        )
    assert error.value.code == "unknown_margin"


def test_a_saved_plan_gives_per_unit_margins_and_drives_a_draw(survey):
    plan = _plan(FRAME, ["province", "urban"], "population", "proportional", total=40, unit="province")
    assert plan.strata["size"].tolist() == [6, 14, 2, 18] or sorted(plan.strata["size"]) == [2, 6, 14, 18]
    assert plan.units["size"].tolist() == [20, 20]
    # unit 01: W = .3/.7, n = 6/14: margin = 1.96 sqrt(Σ W² .25 (1 - n/N) / n)
    variance = sum(w * w * 0.25 * (1 - n / big) / n for w, n, big in ((0.3, 6, 3000), (0.7, 14, 7000)))
    assert plan.units.loc["01", "margin_of_error"] == pytest.approx(1.959963984540054 * math.sqrt(variance))
    stored = save_plan(plan, "Citizens 2023", FRAME, "frame.csv", actor=None)
    db.session.commit()
    sizes = plan_sizes(db.session.get(SamplePlan, stored.id))
    assert sizes[("01", "urban")] == 6
    first, second = survey.units[0].code, survey.units[1].code
    lines = ["id,province,urban,unit,name"]
    for province, unit in (("01", first), ("02", second)):
        for urban in ("urban", "rural"):
            lines += [f"{province}{urban}{i},{province},{urban},{unit},Person {i}" for i in range(30)]
    frame = ("\n".join(lines) + "\n").encode()
    drawn = draw_invitations(
        survey.invited,
        frame,
        "list.csv",
        strata=["province", "urban"],
        unit="unit",
        sizes=sizes,
        method="srs",
        size=None,
        seed=3,
        actor=None,
    )
    db.session.commit()
    assert len(drawn.issued) == 40
    invitations = db.session.scalars(select(Invitation).where(Invitation.fieldwork_id == survey.invited.id)).all()
    urban_first = [i for i in invitations if i.stratum == "01 × urban"]
    assert len(urban_first) == 6 and urban_first[0].inclusion_probability == pytest.approx(6 / 30)
    again = draw_invitations(
        survey.invited,
        frame,
        "list.csv",
        strata=["province", "urban"],
        unit="unit",
        sizes=sizes,
        method="srs",
        size=None,
        seed=3,
        actor=None,
    )
    assert again.selected["id"].tolist() == drawn.selected["id"].tolist()


def test_a_plan_asking_more_than_a_list_holds_names_the_stratum(survey):
    frame = f"province,urban,unit\n01,urban,{survey.units[0].code}\n".encode()
    with pytest.raises(SamplingError) as error:
        draw_invitations(
            survey.invited,
            frame,
            "list.csv",
            strata=["province", "urban"],
            unit="unit",
            sizes={("01", "urban"): 3},
            method="srs",
            size=None,
            seed=1,
            actor=None,
        )
    assert error.value.code == "size_exceeds_stratum" and error.value.params["stratum"] == ("01", "urban")


Z95 = 1.959963984540054


@pytest.mark.parametrize(
    "strata, count",
    [
        (["size"], "population"),  # the business questionnaire's firm size
        (["province", "size"], "population"),
        (["population"], "count"),
        (["province"], "size"),
        (["group", "n"], "share"),
        (["stratum", "unit"], "allocation"),
        (["margin_of_error", "expected_respondents"], "population"),
        (["plan_size", "size"], "population"),
    ],
)
def test_frame_columns_never_collide_with_the_plans_figures(app, strata, count):
    """Whatever the frame's columns are called, the plan keeps them apart from the figures it computes."""
    rows = ["a,100", "c,300", "b,600"] if len(strata) == 1 else ["a,x,100", "a,y,300", "b,x,600"]
    frame = ",".join(strata + [count]) + "\n" + "\n".join(rows) + "\n"
    unit = strata[0]
    plan = _plan(frame.encode(), strata, count, "proportional", total=100, unit=unit)
    stored = save_plan(plan, "Firms 2023", frame.encode(), "frame.csv", actor=None)
    db.session.commit()
    again = stored_plan(db.session.get(SamplePlan, stored.id))
    # proportional: 100, 300, 600 of 1,000 → 10, 30, 60; every stratum samples a tenth, so its margin is
    # 1.96 sqrt(0.25 × 0.9 / n)
    for shown in (plan, again):
        assert shown.strata.index.names == strata
        assert shown.strata["population"].tolist() == [100, 300, 600]
        assert shown.strata["size"].tolist() == [10, 30, 60]
        assert shown.strata["margin_of_error"].tolist() == pytest.approx(
            [Z95 * math.sqrt(0.225 / n) for n in (10, 30, 60)]
        )
        assert shown.strata["expected_respondents"].tolist() == [10, 30, 60]
        assert shown.total == 100
    sizes = plan_sizes(db.session.get(SamplePlan, stored.id))
    if len(strata) == 1:
        assert sizes == {"a": 10, "c": 30, "b": 60}
    else:
        assert sizes == {("a", "x"): 10, ("a", "y"): 30, ("b", "x"): 60}
        # unit a: W = 1/4, 3/4 with n = 10, 30 and f = 0.1: Σ W² 0.25 × 0.9 / n = 0.225 × 0.025
        for shown in (plan, again):
            assert shown.units.index.name == unit
            assert shown.units.loc["a", "size"] == 40 and shown.units.loc["b", "population"] == 600
            assert shown.units.loc["a", "margin_of_error"] == pytest.approx(Z95 * 0.075)
    table = again.table()
    assert list(table.columns[: len(strata)]) == strata and len(set(table.columns)) == len(table.columns)
    assert table.iloc[:, len(strata) + 1].tolist() == [10, 30, 60]  # the sizes, under a name of their own


def test_a_legacy_plan_with_its_values_beside_the_figures_still_reads(app):
    legacy = SamplePlan(
        name="old",
        frame_name="f.csv",
        frame_hash="0" * 64,
        total=50,
        parameters={"strata": ["province", "urban"], "unit": "province"},
        strata=[
            {
                "province": "01",
                "urban": "urban",
                "population": 100,
                "size": 20,
                "margin_of_error": 0.2,
                "expected_respondents": 12.0,
            },
            {
                "province": "01",
                "urban": "rural",
                "population": 300,
                "size": 30,
                "margin_of_error": None,
                "expected_respondents": 18.0,
            },
        ],
        units=[{"province": "01", "population": 400, "size": 50, "margin_of_error": 0.1}],
    )
    db.session.add(legacy)
    db.session.commit()
    plan = stored_plan(legacy)
    assert plan.strata.loc[("01", "rural"), "size"] == 30 and math.isnan(plan.strata["margin_of_error"].iloc[1])
    assert plan.units.loc["01", "size"] == 50
    assert plan_sizes(legacy) == {("01", "urban"): 20, ("01", "rural"): 30}


def test_a_frame_stratified_on_some_of_its_columns_is_planned_on_their_sums():
    frame = (
        b"province,urban,sex,population\n01,urban,female,1200\n01,urban,male,1100\n01,rural,female,3000\n"
        b"01,rural,male,2900\n02,urban,female,70\n02,urban,male,65\n02,rural,female,400\n02,rural,male,380\n"
    )
    plan = _plan(frame, ["province", "urban"], "population", "proportional", total=910, unit="province")
    # strata 2,300, 5,900, 135, 780 of 9,115: × 910 / 9,115 = 229.6, 589.0, 13.5, 77.9 → 230, 589, 13, 78
    assert plan.strata["population"].tolist() == [2300, 5900, 135, 780]
    assert plan.strata["size"].tolist() == [230, 589, 13, 78]
    assert plan.units["population"].to_dict() == {"01": 8200, "02": 915}


def test_neyman_allocation_from_the_frames_expected_proportions():
    frame = b"province,sex,population,aware\n01,female,100,0.2\n01,male,300,0.6\n02,female,400,0.1\n02,male,400,0.1\n"
    plan = _plan(frame, ["province"], "population", "neyman", total=130, sd_column="aware", sd_kind="proportion")
    # S = 0.5 (P = 200 / 400) and 0.3: N S = 200 and 240, so 130 × 200 / 440 = 59.09 and 70.91 → 59, 71
    assert plan.strata["size"].tolist() == [59, 71]
    assert plan.parameters["sd_column"] == "aware" and plan.parameters["sd_kind"] == "proportion"
    with pytest.raises(SamplingError) as error:
        _plan(frame, ["province"], "population", "neyman", total=130)
    assert error.value.code == "missing_sd"


def test_weight_diagnostics_without_a_value_are_stored_as_null():
    """A unit whose weights are all 0 has no ratio nor design effect: stored as null (JSON has no NaN)."""
    import json
    from types import SimpleNamespace

    import numpy as np

    from survey_app.sampling.operations import _diagnostics

    weighting = SimpleNamespace(diagnostics=SimpleNamespace(iterations=3, converged=True))
    stored = _diagnostics(np.array([1.0, 3.0, 0.0, 0.0]), {"01": np.array([0, 1]), "02": np.array([2, 3])}, weighting)
    assert stored["units"]["02"]["ratio"] is None and stored["units"]["02"]["deff_weighting"] is None
    assert stored["units"]["02"]["zero"] == 2 and stored["units"]["01"]["ratio"] == 3.0
    json.dumps(stored, allow_nan=False)
