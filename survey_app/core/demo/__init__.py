"""The demo of `make run`: a 2023 province round on the 2021-2023 framework with example criteria.

Seeding twice changes nothing. The demo accounts' passwords are fixed and printed: the demo runs on an
embedded database on the developer's own machine, never in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import select, text

from questionnaires import read_yaml
from survey_app.accounts import operations as accounts
from survey_app.accounts import unit_accounts
from survey_app.accounts.models import Role, UnitRole, User
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.frameworks import operations as frameworks
from survey_app.rounds import operations as rounds
from survey_app.rounds.models import EvaluationRound
from survey_app.units import operations as units

DEMO_ROUND = "province-2023-demo"
#: the year before, scored from self-assessed data and expert panels and published, so the public site has results
DEMO_PUBLISHED_ROUND = "province-2022-demo"
DEMO_ACCOUNTS = (
    ("admin@demo.dti.gov.vn", "Quản trị hệ thống", Role.ADMINISTRATOR, "demo-admin-2023"),
    ("mau@demo.dti.gov.vn", "Cán bộ thiết kế mẫu", Role.SAMPLE_DESIGNER, "demo-sample-2023"),
    ("chamdiem@demo.dti.gov.vn", "Cán bộ chấm điểm", Role.SCORING_OFFICER, "demo-scoring-2023"),
    ("xem@demo.dti.gov.vn", "Người xem", Role.VIEWER, "demo-viewer-2023"),
)
#: the unit whose four accounts the demo opens (letter 5066, Annex II.1), and those accounts
DEMO_UNIT = ("provinces-2019", "01")
DEMO_UNIT_ACCOUNTS = (
    ("nhaplieu@hanoi.demo.dti.gov.vn", "Cán bộ nhập liệu Hà Nội", UnitRole.REPORTER, "demo-reporter-2023"),
    ("duyet@hanoi.demo.dti.gov.vn", "Trưởng phòng CNTT Hà Nội", UnitRole.APPROVER, "demo-approver-2023"),
    ("theodoi@hanoi.demo.dti.gov.vn", "Văn phòng UBND Hà Nội", UnitRole.OVERSEER, "demo-overseer-2023"),
    ("ky@hanoi.demo.dti.gov.vn", "Lãnh đạo UBND Hà Nội", UnitRole.SIGNATORY, "demo-signatory-2023"),
)


@dataclass
class DemoSeed:
    #: (e-mail, role, password) of every demo account
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    #: the token of a demo expert's personal link, when this seed created the panels (shown once)
    expert_link: str | None = None


def demo_framework_path() -> Path:
    return Path(str(resources.files("survey_app.core.demo") / "national-province-2021-demo.yaml"))


def demo_population_path() -> Path:
    """Synthetic adults of the 63 provinces by urban/rural × sex × age group, for plans and weighting: five
    provinces' own figures, the others' census-like totals and town shares spread over sex and age as those
    five's are."""
    return Path(str(resources.files("survey_app.core.demo") / "population-citizens-2023.csv"))


def demo_bank_path() -> Path:
    return Path(str(resources.files("survey_app.core.demo") / "question-bank.yaml"))


def seed() -> DemoSeed:
    """Create whatever part of the demo is missing; flushes, the caller commits."""
    result = DemoSeed()
    for email, name, role, password in DEMO_ACCOUNTS:
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            accounts.create_user(email, name, role, password)
        result.accounts.append((email, str(role), password))
    admin = db.session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0][0]))

    unit_lists = units.load_provincial_unit_lists()
    units.load_national_unit_list()  # the country, for a round of the national index
    result.accounts += seed_unit_accounts(unit_lists[DEMO_UNIT[0]])
    frameworks.load_shipped_frameworks(actor=admin)
    demo_framework, _ = frameworks.store_framework(read_yaml(demo_framework_path()), actor=admin)

    evaluation = db.session.scalar(select(EvaluationRound).where(EvaluationRound.code == DEMO_ROUND))
    if evaluation is None:
        evaluation = rounds.create_round(
            DEMO_ROUND,
            2023,
            "Đánh giá DTI cấp tỉnh năm 2023 (minh họa)",
            "Province DTI 2023 (demo)",
            demo_framework,
            unit_lists["provinces-2019"],
            actor=admin,
        )
    seed_fieldwork(admin, evaluation)
    seed_sampling(admin)
    result.expert_link = seed_experts(admin, evaluation)
    seed_scoring(admin, evaluation)
    seed_published_year(admin, demo_framework, unit_lists["provinces-2019"])
    seed_targets(admin)
    db.session.flush()
    return result


def seed_unit_accounts(unit_list) -> list[tuple[str, str, str]]:
    """Hà Nội's four reporting accounts with fixed passwords (the signatory sets up its second factor at its
    first login, as every signatory does).

    :return: (e-mail, role, password) of each
    """
    unit = next(unit for unit in unit_list.units if unit.code == DEMO_UNIT[1])
    for email, name, role, password in DEMO_UNIT_ACCOUNTS:
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            user, _ = unit_accounts.create_unit_account(unit, email, name, role, actor=None)
            accounts.set_password(user, password, actor=None)
    return [(email, f"{role} ({unit.code})", password) for email, _, role, password in DEMO_UNIT_ACCOUNTS]


def seed_targets(admin: User) -> None:
    """Decision 483's indicators with the quarters of 2022 and the first three of 2023 reported (made-up values
    that move from the baseline towards the targets)."""
    from survey_app.publication import targets

    found = targets.load_shipped_indicators(actor=admin)
    if any(indicator.values for indicator in found):
        return
    for position, indicator in enumerate(found):
        start = indicator.baseline if indicator.baseline is not None else 0.0
        goal = indicator.targets.get("2023", start)
        for year, quarters in ((2022, 4), (2023, 3)):
            for quarter in range(1, quarters + 1):
                step = ((year - 2022) * 4 + quarter) / 8 * (0.6 + 0.08 * (position % 6))
                value = round(min(100.0, start + (goal - start) * step if goal > start else start), 1)
                targets.report_value(indicator, year, quarter, value, note="Báo cáo quý (minh họa)", actor=admin)


def seed_sampling(admin: User) -> None:
    """A saved plan for the citizen survey and a weighting of its responses to the demo population."""
    from survey_app.sampling import operations as sampling
    from survey_app.sampling.models import SamplePlan, WeightingRun
    from survey_app.survey import operations as collection

    if db.session.scalar(select(SamplePlan.id).limit(1)) is None:
        import pandas as pd

        # the plan's frame has a row per stratum (province × urban/rural): the population file summed up
        cells = pd.read_csv(demo_population_path(), dtype={"unit": str})
        population = cells.groupby(["unit", "urban"], as_index=False)["population"].sum().to_csv(index=False).encode()
        plan = sampling.sample_plan(
            population,
            "frame-citizens-2023.csv",
            ["unit", "urban"],
            "population",
            "power",
            total=DEMO_PLAN_TOTAL,
            margin=None,
            power=0.5,
            minimum=100,
            maximum=None,
            deff=1.5,
            response_rate=0.6,
            unit="unit",
        )
        sampling.save_plan(
            plan, "Người dân 2023: phân bổ lũy thừa 0,5", population, "frame-citizens-2023.csv", actor=admin
        )
    fieldwork = collection.get_fieldwork("citizens-2023")
    if (
        fieldwork is not None
        and db.session.scalar(select(WeightingRun.id).where(WeightingRun.fieldwork_id == fieldwork.id).limit(1)) is None
    ):
        sampling.run_weighting(
            fieldwork,
            demo_population_path().read_bytes(),
            "population-citizens-2023.csv",
            margins=["urban", "sex", "age"],
            method="rake",
            lower=0.3,
            upper=3.0,
            actor=admin,
        )


#: the provinces of the demo's business survey and expert panels; the citizen survey spans all 63
DEMO_PROVINCES = ("01", "02", "46", "48", "79")
#: synthetic respondents per province on the citizen survey's public links
DEMO_RESPONSES_PER_PROVINCE = 120
#: the citizen sample plan's size: at least 100 in each of the 63 provinces' towns and countryside
DEMO_PLAN_TOTAL = 15000


def seed_fieldwork(
    admin: User,
    evaluation: EvaluationRound,
    *,
    responses_per_province: int = DEMO_RESPONSES_PER_PROVINCE,
    seed: int = 2023,
) -> None:
    """Publish the demo's two questionnaires and field them: citizens in every province on public links with
    quotas by urban/rural × sex, businesses in the demo provinces by invitation; fill them with synthetic
    responses whose answers differ by province."""
    import numpy as np

    from questionnaires import RespondentGroup, document_hash, quality_flags, read_bank
    from survey_app.survey import operations as collection
    from survey_app.survey.models import FieldworkMode, Quota, Response

    if collection.get_fieldwork("citizens-2023") is not None:
        return
    bank = read_bank(demo_bank_path())
    citizens, _ = collection.publish_questionnaire(
        evaluation.framework,
        RespondentGroup.CITIZENS,
        bank,
        code="citizens-2023",
        name_vi="Phiếu khảo sát người dân 2023",
        name_en="Citizen survey 2023",
        actor=admin,
    )
    businesses, _ = collection.publish_questionnaire(
        evaluation.framework,
        RespondentGroup.BUSINESSES,
        bank,
        code="businesses-2023",
        name_vi="Phiếu khảo sát doanh nghiệp 2023",
        name_en="Business survey 2023",
        actor=admin,
    )
    everywhere = list(evaluation.unit_list.units)
    provinces = [u for u in everywhere if u.code in DEMO_PROVINCES]
    open_link = collection.create_fieldwork(
        "citizens-2023",
        citizens,
        FieldworkMode.OPEN_LINK,
        everywhere,
        name_vi="Khảo sát người dân 2023 (minh họa)",
        name_en="Citizen survey 2023 (demo)",
        quota_dimensions=["urban", "sex"],
        evaluation_round=evaluation,
        actor=admin,
    )
    invited = collection.create_fieldwork(
        "businesses-2023",
        businesses,
        FieldworkMode.INVITATION,
        provinces,
        name_vi="Khảo sát doanh nghiệp 2023 (minh họa)",
        name_en="Business survey 2023 (demo)",
        evaluation_round=evaluation,
        actor=admin,
    )
    strata = [(urban, sex) for urban in ("urban", "rural") for sex in ("female", "male")]
    quota_rows = ["unit,urban,sex,target"] + [
        f"{unit.code},{urban},{sex},{responses_per_province // 3}" for unit in everywhere for urban, sex in strata
    ]
    collection.set_quotas(open_link, "\n".join(quota_rows).encode(), actor=admin)
    collection.issue_invitations(
        invited,
        [{"unit": unit.code, "inclusion_probability": "0.02"} for unit in provinces for _ in range(40)],
        actor=admin,
    )
    rng = np.random.default_rng(seed)
    questionnaire = citizens.questionnaire
    now = utcnow()
    quotas = {
        (q.unit_id, q.stratum): q for q in db.session.scalars(select(Quota).where(Quota.fieldwork_id == open_link.id))
    }
    rows = []
    for position, unit in enumerate(everywhere):
        # the provinces differ in how digital their people are
        level = 0.35 + 0.48 * position / max(len(everywhere) - 1, 1)
        for index in range(responses_per_province):
            urban, sex = strata[rng.integers(len(strata))]
            quota = quotas[(unit.id, collection.stratum_key((urban, sex)))]
            if quota.filled >= quota.target:
                continue
            p = min(level + (0.15 if urban == "urban" else -0.1), 0.95)
            used = bool(rng.random() < p)
            answers = {
                "q_aw3": "yes" if rng.random() < p else "no",
                "q_infra2": "yes" if rng.random() < p + 0.1 else "no",
                "q_hr2": [c for c in ("email", "search", "payment") if rng.random() < p] or ["none"],
                "q_dg3": "yes" if used else "no",
                "q_ds1": "yes" if rng.random() < p else "no",
                "q_ds2": "yes" if rng.random() < p - 0.05 else "no",
                "attention": "agree" if rng.random() < 0.97 else "disagree",
                "urban": urban,
                "sex": sex,
                "age": ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")[rng.integers(6)],
            }
            if used:
                answers["q_dg4"] = str(int(np.clip(np.round(rng.normal(2 + 2.5 * p, 0.9)), 1, 5)))
            duration = float(max(rng.lognormal(np.log(420), 0.45), 30))
            quota.filled += 1
            rows.append(
                Response(
                    fieldwork_id=open_link.id,
                    questionnaire_id=citizens.id,
                    unit_id=unit.id,
                    submission_id=f"demo-{unit.code}-{index}",
                    payload_hash=document_hash({"unit": unit.code, "answers": answers}),
                    answers=answers,
                    stratum=collection.stratum_key((urban, sex)),
                    source="web",
                    started_at=now - timedelta(seconds=duration),
                    submitted_at=now,
                    duration_seconds=duration,
                    flags=[str(f) for f in quality_flags(questionnaire, answers, None, None)],
                )
            )
    db.session.add_all(rows)
    db.session.flush()


#: nominations per demo province and category (retired leaders, serving officials, business leaders): enough
#: for a panel of 20 with reserves; a sixth province falls short of business leaders
DEMO_NOMINATIONS = {"retired_leader": 10, "serving_official": 8, "business_leader": 8}
DEMO_SHORT_PROVINCE = ("31", {"retired_leader": 7, "serving_official": 5, "business_leader": 3})
DEMO_PANEL_SIZES = {"01": 20, "79": 18}
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ")
_MIDDLE = ("Văn", "Thị", "Minh", "Thanh", "Đức", "Ngọc", "Quang", "Thu")
_GIVEN = (
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Hà",
    "Hải",
    "Hùng",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phong",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Việt",
    "Yến",
)
_POSITIONS = {
    "retired_leader": ("Nguyên Phó Chủ tịch UBND", "Nguyên Giám đốc Sở", "Nguyên Chủ tịch UBND huyện"),
    "serving_official": ("Phó Giám đốc Sở TT&TT", "Trưởng phòng CNTT", "Chánh Văn phòng"),
    "business_leader": ("Giám đốc doanh nghiệp", "Chủ tịch Hiệp hội", "Tổng Giám đốc"),
}


def seed_experts(admin: User, evaluation: EvaluationRound, *, seed: int = 5066) -> str | None:
    """Nominations for the demo provinces (one short of business leaders), a panel for each of the others with
    its links, and submitted forms whose scores differ by province: most members submitted, one still
    answering, one not yet started, one declined and replaced by a reserve, one far from the rest of the panel.

    :return: the token of a member's link who has not started, to try the expert's side (None when the panels
        were already there)
    """
    import numpy as np

    from survey_app.experts import operations as experts
    from survey_app.experts.models import ExpertPanel, SeatRole

    if db.session.scalar(select(ExpertPanel.id).where(ExpertPanel.round_id == evaluation.id).limit(1)) is not None:
        return None
    rng = np.random.default_rng(seed)
    by_code = {unit.code: unit for unit in evaluation.unit_list.units}
    plan = [(code, DEMO_NOMINATIONS) for code in DEMO_PROVINCES] + [DEMO_SHORT_PROVINCE]
    experts.import_nominations(evaluation, _nomination_rows(rng, by_code, plan), actor=admin, source="demo")
    trial_token = None
    for position, code in enumerate(DEMO_PROVINCES):
        panel = experts.select_panel(
            evaluation, by_code[code], size=DEMO_PANEL_SIZES.get(code, 15), seed=seed, actor=admin
        )
        members = [s for s in panel.seats if s.role == SeatRole.MEMBER]
        experts.decline(members[-1], reason="Bận công tác nước ngoài", actor=admin)
        issued = experts.issue_links(panel, days=30, actor=admin)
        questionnaire = panel.questionnaire.questionnaire
        level = 2.4 + 0.45 * position
        for index, one in enumerate(issued):
            if index == len(issued) - 1:
                trial_token = trial_token or one.token
                continue
            raw = _expert_answers(rng, questionnaire, level + (2.5 if index == 0 and position == 2 else 0))
            raw[questionnaire.items()[0].code]["comment"] = "Ban Chỉ đạo họp định kỳ hằng quý."
            form = experts.open_link(one.token)
            if index == len(issued) - 2:
                experts.save_draft(form, dict(list(raw.items())[:2]))
            else:
                experts.submit(form, raw, f"demo-{code}-{index}")
    return trial_token


def seed_past_panels(admin: User, evaluation: EvaluationRound, *, seed: int) -> None:
    """A closed year's expert channel: a panel of 15 in every province, every member's form submitted, the
    scores rising with the province's place in the list as the citizen survey's answers do. Every province,
    because a criterion fewer than half the units have data for is excluded from the run [1726 II.2.b.vi]:
    panels in the five demo provinces alone would leave the experts' 10% out of the published index."""
    import numpy as np

    from survey_app.experts import operations as experts
    from survey_app.experts.models import ExpertPanel

    if db.session.scalar(select(ExpertPanel.id).where(ExpertPanel.round_id == evaluation.id).limit(1)) is not None:
        return
    rng = np.random.default_rng(seed)
    everywhere = list(evaluation.unit_list.units)
    plan = [(unit.code, DEMO_NOMINATIONS) for unit in everywhere]
    rows = _nomination_rows(rng, {unit.code: unit for unit in everywhere}, plan)
    experts.import_nominations(evaluation, rows, actor=admin, source="demo")
    for position, unit in enumerate(everywhere):
        panel = experts.select_panel(evaluation, unit, size=15, seed=seed, actor=admin)
        questionnaire = panel.questionnaire.questionnaire
        level = 2.0 + 2.5 * position / max(len(everywhere) - 1, 1)
        for index, one in enumerate(experts.issue_links(panel, days=30, actor=admin)):
            raw = _expert_answers(rng, questionnaire, level)
            experts.submit(experts.open_link(one.token), raw, f"demo-{unit.code}-{index}")
    db.session.flush()
    if db.session.get_bind().dialect.name == "postgresql":
        # a thousand forms written in one transaction, on tables whose statistics may still describe them as
        # nearly empty: PostgreSQL then joins them by nested scans and the run's reading of the forms takes
        # minutes. ANALYZE counts the transaction's own rows.
        db.session.execute(text("ANALYZE expert_nominations, expert_panels, expert_panel_seats, expert_forms"))


def _nomination_rows(rng, by_code, plan) -> list[dict[str, str]]:
    """Nominees with made-up names, ``plan`` giving per unit code the number in each category."""
    rows = []
    for code, counts in plan:
        for category, count in counts.items():
            for n in range(count):
                name = f"{_FAMILY[rng.integers(10)]} {_MIDDLE[rng.integers(8)]} {_GIVEN[rng.integers(20)]}"
                rows.append(
                    {
                        "unit": code,
                        "name": name,
                        "category": category,
                        "organisation": by_code[code].name,
                        "position": _POSITIONS[category][n % 3],
                        "email": f"chuyengia.{code}.{category.split('_')[0]}{n + 1}@demo.dti.gov.vn",
                        "expertise": "Chuyển đổi số",
                    }
                )
    return rows


def _expert_answers(rng, questionnaire, level: float) -> dict[str, dict[str, str]]:
    """An expert's answers: around ``level`` on the 1-5 scale, now and then "I cannot judge this"."""
    import numpy as np

    from questionnaires import CANNOT_JUDGE

    raw = {}
    for item in questionnaire.items():
        if rng.random() < 0.06:
            raw[item.code] = {"choice": CANNOT_JUDGE}
            continue
        raw[item.code] = {"choice": str(int(np.clip(np.round(level + rng.normal(0, 0.7)), 1, 5)))}
    return raw


def seed_published_year(admin: User, framework, unit_list) -> None:
    """The 2022 round: every province's self-assessment and cyberspace values and expert panel (so the published
    index carries the experts' 10% of each main index), one run, published."""
    from survey_app.publication import operations as publication
    from survey_app.scoring import operations as scoring

    if db.session.scalar(select(EvaluationRound.id).where(EvaluationRound.code == DEMO_PUBLISHED_ROUND)):
        return
    evaluation = rounds.create_round(
        DEMO_PUBLISHED_ROUND,
        2022,
        "Đánh giá DTI cấp tỉnh năm 2022 (minh họa)",
        "Province DTI 2022 (demo)",
        framework,
        unit_list,
        actor=admin,
    )
    seed_past_panels(admin, evaluation, seed=2022)
    seed_scoring(admin, evaluation, seed=2022)
    publication.publish(scoring.runs(evaluation)[0], actor=admin)


def seed_scoring(admin: User, evaluation: EvaluationRound, *, seed: int = 922) -> None:
    """Self-assessed data of every province (a few values left unreported), cyberspace sentiment per main index,
    an officer's correction, and a first run that excludes the criteria too few provinces have data for."""
    import numpy as np

    from analysis import self_assessed_criteria
    from questionnaires import ScoringMethod
    from survey_app.frameworks.operations import framework_of
    from survey_app.scoring import channel_inputs
    from survey_app.scoring import operations as scoring

    if scoring.runs(evaluation):
        return
    rng = np.random.default_rng(seed)
    framework = framework_of(evaluation.framework)
    criteria = self_assessed_criteria(framework)
    units = list(evaluation.unit_list.units)
    rows = []
    for position, unit in enumerate(units):
        strength = 0.35 + 0.6 * rng.random()
        for node in criteria:
            if rng.random() < 0.04:
                continue
            scoring_method = node.scoring
            if scoring_method.method is ScoringMethod.YES_NO:
                value = "có" if rng.random() < 0.3 + 0.7 * strength else "không"
            elif scoring_method.method is ScoringMethod.RATIO:
                value = f"{(scoring_method.target or 1) * min(1.2, strength + rng.normal(0, 0.15)):.2f}"
                value = value if not value.startswith("-") else "0"
            else:
                top = scoring_method.steps[-1].at_least
                value = f"{max(0.0, top * (strength + rng.normal(0, 0.2))):.0f}"
            rows.append(
                {
                    "unit": unit.code,
                    "criterion": node.code,
                    "value": value,
                    "evidence": f"Báo cáo số {position + 1}/BC-UBND" if rng.random() < 0.9 else "",
                    "explanation": "Số liệu tổng hợp từ các sở, ngành",
                }
            )
    channel_inputs.store_self_assessment(evaluation, rows, actor=admin)
    main_indices = [node.code for node, _ in framework.walk() if node.kind == "main_index" and node.scored]
    values = [
        {"unit": unit.code, "node": code, "value": f"{min(1.0, max(0.0, rng.normal(0.65, 0.12))):.3f}"}
        for unit in units
        for code in main_indices
    ]
    channel_inputs.store_cyberspace(evaluation, values, actor=admin)
    first = channel_inputs.assessments(evaluation, units[0])[0]
    channel_inputs.appraise(first, first.points / 2, "Minh chứng chưa đủ: văn bản chưa có chữ ký số", actor=admin)
    excluded = list(scoring.proposed_exclusions(evaluation)["node"])
    scoring.run_scoring(
        evaluation,
        excluded=excluded,
        actor=admin,
        note="Các tiêu chí có số liệu của dưới 50% số tỉnh: loại khỏi xếp hạng.",
    )
