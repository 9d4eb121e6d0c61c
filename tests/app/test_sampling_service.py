"""Plans, draws and weighting runs as the staff pages use them, with values checked by hand."""
import pytest
from sqlalchemy import func, select

from sampling import SamplingError
from survey_app.extensions import db
from survey_app.models import Invitation, SamplePlan, WeightingRun
from survey_app.services import ServiceError, collection
from survey_app.services.sampling import draw_invitations, plan_sizes, run_weighting, sample_plan, save_plan
from tests.conftest import CITIZEN_ANSWERS

FRAME = b"province,urban,population\n01,urban,3000\n01,rural,7000\n02,urban,1000\n02,rural,9000\n"


def _submit(survey, unit, answers, index):
    collection.submit(survey.invited, unit, CITIZEN_ANSWERS | answers, f"w{index}", source="api")


def _population(survey, rows):
    lines = ["unit,sex,population"] + [f"{survey.units[u].code},{sex},{count}" for u, sex, count in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def answered(survey):
    first, second = survey.units[0], survey.units[1]
    for index, (unit, sex, aware) in enumerate([
            (first, "female", "yes"), (first, "female", "yes"), (first, "male", "yes"), (first, "male", "no"),
            (first, "male", "no"), (second, "female", "no"), (second, "male", "yes")]):
        _submit(survey, unit, {"sex": sex, "q_aw3": aware}, index)
    db.session.commit()
    return survey


def test_poststratifying_by_sex_within_each_unit(answered):
    survey = answered
    population = _population(survey, [(0, "female", 600), (0, "male", 400), (1, "female", 50), (1, "male", 50)])
    run = run_weighting(survey.invited, population, "population.csv", margins=["sex"], method="poststratify",
                        lower=None, upper=None, actor=None)
    db.session.commit()
    weights = sorted(run.weights.values())
    # unit 1: 2 women stand for 600 (300 each), 3 men for 400; unit 2: one of each for 50
    assert weights == pytest.approx(sorted([300, 300, 400 / 3, 400 / 3, 400 / 3, 50, 50]))
    aware = next(r for r in run.estimates if r["criterion"] == "AW.3" and r["unit"] == survey.units[0].code)
    assert aware["weighted"] == pytest.approx((600 * 1 + 400 * 1 / 3) / 1000)
    assert aware["unweighted"] == pytest.approx(3 / 5)
    assert aware["points"] == pytest.approx(40 * (600 + 400 / 3) / 1000)
    assert run.diagnostics["overall"]["n"] == 7
    assert run.diagnostics["units"][survey.units[0].code]["total"] == pytest.approx(1000)
    assert sum(bin_["count"] for bin_ in run.histogram) == 7


def test_raking_on_one_margin_equals_poststratifying_on_it(answered):
    survey = answered
    population = _population(survey, [(0, "female", 600), (0, "male", 400), (1, "female", 50), (1, "male", 50)])
    raked = run_weighting(survey.invited, population, "p.csv", margins=["sex"], method="rake", lower=None,
                          upper=None, actor=None)
    assert sorted(raked.weights.values()) == pytest.approx(sorted([300, 300, 400 / 3, 400 / 3, 400 / 3, 50, 50]))


def test_trimming_keeps_each_units_total(answered):
    survey = answered
    population = _population(survey, [(0, "female", 900), (0, "male", 100), (1, "female", 50), (1, "male", 50)])
    run = run_weighting(survey.invited, population, "p.csv", margins=["sex"], method="poststratify", lower=0.5,
                        upper=1.5, actor=None)
    first = [w for w in sorted(run.weights.values()) if w > 60]
    # unit 1's mean weight is 200: women's 450 are cut to 300, the excess shared by the men
    assert max(first) == pytest.approx(300)
    assert run.diagnostics["units"][survey.units[0].code]["total"] == pytest.approx(1000)


def test_a_level_with_no_respondent_is_named_and_nothing_is_stored(answered):
    survey = answered
    population = _population(survey, [(0, "female", 600), (0, "male", 400), (1, "female", 50), (1, "male", 50),
                                      (2, "female", 10), (2, "male", 10)])
    with pytest.raises(SamplingError) as error:
        run_weighting(survey.invited, population, "p.csv", margins=["sex"], method="poststratify", lower=None,
                      upper=None, actor=None)
    assert error.value.code == "empty_level" and survey.units[2].code in str(error.value.params["level"])
    db.session.rollback()
    assert db.session.scalar(select(func.count(WeightingRun.id))) == 0


def test_a_margin_the_questionnaire_does_not_ask_is_refused(answered):
    with pytest.raises(ServiceError) as error:
        run_weighting(answered.invited, b"unit,income,population\n", "p.csv", margins=["income"], method="rake",
                      lower=None, upper=None, actor=None)
    assert error.value.code == "unknown_margin"


def test_a_saved_plan_gives_per_unit_margins_and_drives_a_draw(survey):
    plan = sample_plan(FRAME, "frame.csv", ["province", "urban"], "population", "proportional", total=40,
                       margin=None, power=0.5, minimum=0, maximum=None, deff=1.0, response_rate=1.0,
                       unit="province")
    assert plan.strata["size"].tolist() == [6, 14, 2, 18] or sorted(plan.strata["size"]) == [2, 6, 14, 18]
    assert plan.units["size"].tolist() == [20, 20]
    # unit 01: W = .3/.7, n = 6/14: margin = 1.96 sqrt(Σ W² .25 (1 - n/N) / n)
    import math
    variance = sum(w * w * 0.25 * (1 - n / big) / n for w, n, big in ((0.3, 6, 3000), (0.7, 14, 7000)))
    assert plan.units.loc[plan.units["province"] == "01", "margin_of_error"].iloc[0] == pytest.approx(
        1.959963984540054 * math.sqrt(variance))
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
    drawn = draw_invitations(survey.invited, frame, "list.csv", strata=["province", "urban"], unit="unit",
                             sizes=sizes, method="srs", size=None, seed=3, actor=None)
    db.session.commit()
    assert len(drawn.issued) == 40
    invitations = db.session.scalars(select(Invitation).where(Invitation.fieldwork_id == survey.invited.id)).all()
    urban_first = [i for i in invitations if i.stratum == "01 × urban"]
    assert len(urban_first) == 6 and urban_first[0].inclusion_probability == pytest.approx(6 / 30)
    again = draw_invitations(survey.invited, frame, "list.csv", strata=["province", "urban"], unit="unit",
                             sizes=sizes, method="srs", size=None, seed=3, actor=None)
    assert again.selected["id"].tolist() == drawn.selected["id"].tolist()


def test_a_plan_asking_more_than_a_list_holds_names_the_stratum(survey):
    frame = f"province,urban,unit\n01,urban,{survey.units[0].code}\n".encode()
    with pytest.raises(SamplingError) as error:
        draw_invitations(survey.invited, frame, "list.csv", strata=["province", "urban"], unit="unit",
                         sizes={("01", "urban"): 3}, method="srs", size=None, seed=1, actor=None)
    assert error.value.code == "size_exceeds_stratum" and error.value.params["stratum"] == ("01", "urban")
