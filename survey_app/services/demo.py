"""The demo of `make run`: a 2023 province round on the 2021-2023 framework with example criteria.

Seeding twice changes nothing. The demo accounts' passwords are fixed and printed: the demo runs on an
embedded database on the developer's own machine, never in production.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sqlalchemy import select

from questionnaires import read_yaml
from survey_app.extensions import db
from survey_app.models import EvaluationRound, Role, User
from survey_app.services import accounts, frameworks, rounds, units

DEMO_ROUND = "province-2023-demo"
DEMO_ACCOUNTS = (
    ("admin@demo.dti.gov.vn", "Quản trị hệ thống", Role.ADMINISTRATOR, "demo-admin-2023"),
    ("mau@demo.dti.gov.vn", "Cán bộ thiết kế mẫu", Role.SAMPLE_DESIGNER, "demo-sample-2023"),
    ("chamdiem@demo.dti.gov.vn", "Cán bộ chấm điểm", Role.SCORING_OFFICER, "demo-scoring-2023"),
    ("xem@demo.dti.gov.vn", "Người xem", Role.VIEWER, "demo-viewer-2023"),
)


@dataclass
class DemoSeed:
    #: (e-mail, role, password) of every demo account
    accounts: list[tuple[str, str, str]] = field(default_factory=list)


def demo_framework_path() -> Path:
    return Path(str(resources.files("survey_app") / "demo" / "national-province-2021-demo.yaml"))


def demo_bank_path() -> Path:
    return Path(str(resources.files("survey_app") / "demo" / "question-bank.yaml"))


def seed() -> DemoSeed:
    """Create whatever part of the demo is missing; flushes, the caller commits."""
    result = DemoSeed()
    for email, name, role, password in DEMO_ACCOUNTS:
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            accounts.create_user(email, name, role, password)
        result.accounts.append((email, str(role), password))
    admin = db.session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0][0]))

    unit_lists = units.load_shipped_unit_lists()
    frameworks.load_shipped_frameworks(actor=admin)
    demo_framework, _ = frameworks.store_framework(read_yaml(demo_framework_path()), actor=admin)

    if db.session.scalar(select(EvaluationRound.id).where(EvaluationRound.code == DEMO_ROUND)) is None:
        rounds.create_round(DEMO_ROUND, 2023, "Đánh giá DTI cấp tỉnh năm 2023 (minh họa)",
                            "Province DTI 2023 (demo)", demo_framework, unit_lists["provinces-2019"],
                            actor=admin)
    db.session.flush()
    return result
