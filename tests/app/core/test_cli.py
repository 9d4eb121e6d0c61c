"""The flask commands: accounts, frameworks, unit lists, the demo."""

import pytest
from sqlalchemy import func, select

from questionnaires import shipped_framework_files
from survey_app.accounts.models import User
from survey_app.core.demo import DEMO_ACCOUNTS
from survey_app.core.extensions import db
from survey_app.frameworks.models import FrameworkVersion
from survey_app.rounds.models import EvaluationRound
from survey_app.units.models import Unit, UnitList

PROVINCE_2020 = next(p for p in shipped_framework_files() if p.name == "national-province-2020.yaml")


def test_users_create(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Officer@Example.gov.vn",
            "--name",
            "Cán bộ",
            "--role",
            "scoring_officer",
            "--password",
            "a long password 1",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Đã tạo tài khoản officer@example.gov.vn với vai trò scoring_officer." in result.output
    user = db.session.scalar(select(User))
    assert (user.email, user.role) == ("officer@example.gov.vn", "scoring_officer")


def test_users_create_refuses_a_short_password(runner):
    result = runner.invoke(
        args=["users", "create", "--email", "a@example.gov.vn", "--role", "viewer", "--password", "short"]
    )
    assert result.exit_code == 1
    assert "Mật khẩu phải có ít nhất 12 ký tự." in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_framework_validate_ok_and_failing(runner, tmp_path):
    result = runner.invoke(args=["framework", "validate", str(PROVINCE_2020)])
    assert result.exit_code == 0
    assert "national-province-2020.yaml hợp lệ" in result.output and "1000 điểm, 21 nút lá" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(PROVINCE_2020.read_text().replace("points: 80\n", "points: 81\n", 1))
    result = runner.invoke(args=["framework", "validate", str(broken)])
    assert result.exit_code == 1
    assert "Nút DG.ACT:" in result.output and "Nút DG: tổng điểm các nút con là 321, cần bằng 320" in result.output


def test_framework_load_is_all_or_nothing(runner, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(PROVINCE_2020.read_text().replace("points: 80\n", "points: 81\n", 1))
    result = runner.invoke(args=["framework", "load", str(PROVINCE_2020), str(broken)])
    assert result.exit_code == 1
    assert db.session.scalar(select(func.count(FrameworkVersion.id))) == 0
    result = runner.invoke(args=["framework", "load", "--shipped"])
    assert result.exit_code == 0
    assert db.session.scalar(select(func.count(FrameworkVersion.id))) == 11


def test_framework_export_both_formats(runner, tmp_path):
    runner.invoke(args=["framework", "load", str(PROVINCE_2020)])
    for name in ("out.yaml", "out.xlsx"):
        result = runner.invoke(args=["framework", "export", "national-province", "2020", "-o", str(tmp_path / name)])
        assert result.exit_code == 0
        assert runner.invoke(args=["framework", "validate", str(tmp_path / name)]).exit_code == 0


def test_shipped_unit_lists(runner):
    result = runner.invoke(args=["units", "load"])
    assert result.exit_code == 0
    counts = dict(
        db.session.execute(select(UnitList.code, func.count(Unit.id)).join(Unit).group_by(UnitList.code)).all()
    )
    assert counts == {
        "provinces-2019": 63,
        "provinces-2025": 34,
        "ministries-2020": 23,
        "ministries-2025": 17,
        "tuyen-quang-departments": 19,
        "tuyen-quang-districts": 7,
        "tuyen-quang-communes": 137,
        "quang-nam-districts": 17,
        "quang-nam-communes": 234,
        "country": 1,
    }
    merged = db.session.scalar(select(UnitList).where(UnitList.code == "provinces-2025"))
    predecessors = [p.code for unit in merged.units for p in unit.predecessors]
    assert len(predecessors) == 63 and len(set(predecessors)) == 63
    unchanged = [unit for unit in merged.units if len(unit.predecessors) == 1]
    assert len(unchanged) == 11
    hcmc = next(unit for unit in merged.units if unit.name == "Thành phố Hồ Chí Minh")
    assert sorted(p.name for p in hcmc.predecessors) == ["Bà Rịa - Vũng Tàu", "Bình Dương", "TP. Hồ Chí Minh"]
    # loading again changes nothing
    runner.invoke(args=["units", "load"])
    assert db.session.scalar(select(func.count(Unit.id))) == sum(counts.values())


def test_demo_seed_is_complete_and_idempotent(runner):
    for _ in range(2):
        result = runner.invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
    for email, _, _, password in DEMO_ACCOUNTS:
        assert email in result.output and password in result.output
    assert db.session.scalar(select(func.count(User.id))) == 8  # four of the staff, four of a province
    assert db.session.scalar(select(func.count(FrameworkVersion.id))) == 12
    demo_round = db.session.scalar(select(EvaluationRound).where(EvaluationRound.code == "province-2023-demo"))
    assert (demo_round.code, demo_round.year, demo_round.unit_list.code) == (
        "province-2023-demo",
        2023,
        "provinces-2019",
    )
    framework = demo_round.framework
    assert (framework.code, framework.version, framework.total_points) == ("national-province", 2, 1000)
    survey_criteria = [n.code for n in framework.nodes if any(c.startswith("survey") for c in n.channels)]
    assert survey_criteria == ["AW.3", "INFRA.2", "HR.2", "DG.3", "DG.4", "DE.1", "DE.2", "DS.1", "DS.2"]
    # the survey channel: synthetic citizen responses in all 63 provinces within their quotas, and invitations
    from survey_app.core.demo import DEMO_PLAN_TOTAL, DEMO_RESPONSES_PER_PROVINCE
    from survey_app.survey.models import Fieldwork, Invitation, Quota, Response

    responses = db.session.scalar(select(func.count(Response.id)))
    assert 50 * 63 <= responses <= 63 * DEMO_RESPONSES_PER_PROVINCE
    assert db.session.scalar(select(func.count(func.distinct(Response.unit_id)))) == 63
    assert db.session.scalar(select(func.sum(Quota.filled))) == responses
    assert all(q.filled <= q.target for q in db.session.scalars(select(Quota)))
    assert db.session.scalar(select(func.count(Invitation.id))) == 200
    assert {f.code for f in db.session.scalars(select(Fieldwork))} == {"citizens-2023", "businesses-2023"}
    # sampling: a saved plan, and the citizens weighted to the demo population, weighted estimates below the
    # unweighted ones since the quotas over-represent the towns, where more people are aware
    from survey_app.sampling.models import SamplePlan, WeightingRun

    plan = db.session.scalar(select(SamplePlan))
    assert plan.total == DEMO_PLAN_TOTAL and len(plan.units) == 63
    assert all(row["size"] >= 100 for row in plan.strata)
    run = db.session.scalar(select(WeightingRun))
    assert db.session.scalar(select(func.count(WeightingRun.id))) == 1
    assert run.diagnostics["overall"]["n"] == responses - db.session.scalar(
        select(func.count(Response.id)).where(Response.excluded.is_(True))
    )
    hanoi = next(e for e in run.estimates if e["criterion"] == "AW.3" and e["unit"] == "01")
    assert hanoi["weighted"] < hanoi["unweighted"] and hanoi["ci_low"] < hanoi["weighted"] < hanoi["ci_high"]
    assert run.diagnostics["units"]["01"]["total"] == pytest.approx(8_246_600 * 0.72, rel=1e-3)
    # scoring: every province's self-assessment, cyberspace values and one run excluding the criteria too few
    # provinces have data for: the business survey's, fielded in 5 of 63 provinces only (the citizen survey
    # reached all 63), and the experts' part of each main index, whose panels sit in 5 of 63 provinces so far
    from survey_app.scoring.models import ScoringRun, SelfAssessment

    assert db.session.scalar(select(func.count(ScoringRun.id))) == 2
    scored = db.session.scalar(select(ScoringRun).where(ScoringRun.round_id == demo_round.id))
    expert_criteria = ["AW.E", "INST.E", "INFRA.E", "HR.E", "SEC.E", "DG.E", "DE.E", "DS.E"]
    assert scored.excluded == sorted(["DE.1", "DE.2", *expert_criteria]) and len(scored.index) == 63
    assert db.session.scalar(select(func.count(SelfAssessment.id))) > 0.9 * 63 * 14
    # the year before is published, for the public site, with an expert panel of 15 in every province: the
    # experts' part of every main index is scored from their forms in all 63 and none is excluded
    from survey_app.experts.models import ExpertForm

    published = db.session.scalar(select(ScoringRun).where(ScoringRun.published_at.is_not(None)))
    assert published.evaluation_round.code == "province-2022-demo" and published.evaluation_round.status == "published"
    assert not set(expert_criteria) & set(published.excluded)
    expert_points = [row for row in published.inputs["points"] if row["node"] in expert_criteria]
    assert len(expert_points) == 63 * 8 and {row["source"] for row in expert_points} == {"expert"}
    submitted = select(func.count(ExpertForm.id)).where(ExpertForm.submitted_at.is_not(None))
    assert db.session.scalar(submitted) > 63 * 15
