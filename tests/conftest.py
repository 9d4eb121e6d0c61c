"""Fixtures: a real PostgreSQL database (started by `make test`), migrated from empty once per run, emptied
after every test; the app, its client and CLI runner; factories that return callables."""

from __future__ import annotations

import os
import re

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text

from survey_app.core.app import create_app
from survey_app.core.extensions import db, limiter

PASSWORD = "correct horse battery staple"


# Property tests: the same examples on every run in CI (a failure can be re-run), a long random hunt on demand
# with HYPOTHESIS_PROFILE=deep
settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile("deep", parent=settings.get_profile("ci"), max_examples=3000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit(
            "TEST_DATABASE_URL is not set: run the tests with `make test`, which starts PostgreSQL", returncode=4
        )
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return url


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an application context of its own, as in production:
    nothing in ``g`` or in the database session leaks from the test, or from one request to the next."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SERVER_NAME": "localhost",
            "EVIDENCE_FOLDER": str(tmp_path / "evidence"),
        }
    )
    app.test_client_class = IsolatedClient
    limiter.reset()
    with app.app_context():
        yield app
        app.extensions["jobs"].stop()  # the in-process job worker a test started, if any
        db.session.remove()
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def run_jobs(app):
    """Wait until the jobs sent so far are done (by the in-process worker the app starts without a broker)."""
    return app.extensions["jobs"].wait


def job_result(client, response, run_jobs) -> str:
    """The address of what the job a response started made (the response leads to the job's page), once the
    job is done."""
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"], response.status_code
    run_jobs()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    found = re.search(r'id="job-result" href="([^"]+)"', page)
    assert found, re.sub(r"\s+", " ", page)[-1500:]
    return found.group(1)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def create_user(app):
    """Make a staff account: ``create_user(role, email=None)``."""
    from survey_app.accounts import operations as accounts

    counter = iter(range(1, 10_000))

    def make(role="administrator", email=None, password=PASSWORD):
        user = accounts.create_user(email or f"user{next(counter)}@example.gov.vn", "Test User", role, password)
        db.session.commit()
        return user

    return make


def csrf_token(client, path="/") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def login(client):
    """Log the client in as a user: ``login(user)``."""

    def do(user, password=PASSWORD):
        response = client.post(
            "/login", data={"email": user.email, "password": password, "csrf_token": csrf_token(client, "/login")}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do


@pytest.fixture
def survey(app):
    """The demo's citizen questionnaire published, and open-link fieldwork in three provinces with quotas by
    urban/rural × sex (unlimited but for the strata a test sets); returns a namespace of what it made."""
    from types import SimpleNamespace

    from questionnaires import RespondentGroup, read_bank, read_yaml
    from survey_app.core.demo import demo_bank_path, demo_framework_path
    from survey_app.frameworks import operations as frameworks
    from survey_app.survey import operations as collection
    from survey_app.survey.models import FieldworkMode
    from survey_app.units import operations as units

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    framework, _ = frameworks.store_framework(read_yaml(demo_framework_path()))
    bank = read_bank(demo_bank_path())
    questionnaire, _ = collection.publish_questionnaire(
        framework,
        RespondentGroup.CITIZENS,
        bank,
        code="citizens",
        name_vi="Phiếu người dân",
        name_en="Citizens",
        actor=None,
    )
    provinces = unit_list.units[:3]
    open_link = collection.create_fieldwork(
        "open",
        questionnaire,
        FieldworkMode.OPEN_LINK,
        provinces,
        name_vi="Khảo sát mở",
        quota_dimensions=["urban", "sex"],
        actor=None,
    )
    invited = collection.create_fieldwork(
        "invited", questionnaire, FieldworkMode.INVITATION, provinces, name_vi="Khảo sát mời", actor=None
    )
    db.session.commit()
    return SimpleNamespace(
        questionnaire=questionnaire, open=open_link, invited=invited, units=provinces, bank=bank, framework=framework
    )


#: a complete, valid set of answers to the demo's citizen questionnaire
CITIZEN_ANSWERS = {
    "q_aw3": "yes",
    "q_infra2": "no",
    "q_hr2": ["email", "payment"],
    "q_dg3": "yes",
    "q_dg4": "4",
    "q_ds1": "yes",
    "q_ds2": "no",
    "attention": "agree",
    "urban": "rural",
    "sex": "female",
    "age": "25-34",
}


def nominee_rows(unit: str, counts=(8, 6, 6), prefix="e") -> list[dict]:
    """Nominations of a unit: ``counts`` retired leaders, serving officials and business leaders."""
    rows = []
    for category, count in zip(("retired_leader", "serving_official", "business_leader"), counts):
        rows += [
            {
                "unit": unit,
                "name": f"{category} {n}",
                "category": category,
                "email": f"{prefix}.{unit}.{category}.{n}@example.vn",
            }
            for n in range(count)
        ]
    return rows


def expert_panel(framework, *, round_code="expert-round", size=15, counts=(8, 6, 6), links=True):
    """A 2023 province round on ``framework`` with nominations for Hà Nội ("01") and a panel of ``size`` selected
    by seed 7, every member with a link; returns (round, panel, {seat id: token})."""
    from survey_app.experts import operations as experts
    from survey_app.experts.models import SeatRole
    from survey_app.rounds import operations as rounds
    from survey_app.units import operations as units

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    evaluation = rounds.create_round(round_code, 2023, "Vòng thử", "Test round", framework, unit_list, actor=None)
    experts.import_nominations(evaluation, nominee_rows("01", counts), actor=None)
    hanoi = next(u for u in unit_list.units if u.code == "01")
    panel = experts.select_panel(evaluation, hanoi, size=size, seed=7, actor=None)
    tokens = {}
    if links:
        tokens = {one.seat.id: one.token for one in experts.issue_links(panel, days=30, actor=None)}
    assert sum(s.role == SeatRole.MEMBER for s in panel.seats) == size
    return evaluation, panel, tokens


def pdf_document(text: str = "Quyết định số 1/QĐ-UBND", *, signed: bool = False) -> bytes:
    """A small real PDF (fpdf2); ``signed`` appends an incremental update with a signature dictionary, as a
    digitally signed document has (its contents are not a valid signature)."""
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text=text.encode("ascii", "replace").decode())
    data = bytes(document.output())
    if signed:
        data += (
            b"\n9 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /ByteRange [0 10 20 30] /Contents <00> >>\n"
            b"endobj\n%%EOF\n"
        )
    return data


def row_counts(*, without: tuple[str, ...] = ()) -> dict[str, int]:
    """The number of rows in every table (but ``without``): what a refused request must leave unchanged."""
    from sqlalchemy import func, select

    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
        if table.name not in without
    }


def import_self_assessed(evaluation, values: dict[str, dict[str, str]]) -> None:
    """Import units' self-assessed values ({unit: {criterion: value}}, each with evidence "BC 1") into the round
    through the officers' CSV, and check that none was refused."""
    import pandas as pd

    from survey_app.scoring import channel_inputs

    rows = [
        {"Mã đơn vị": unit, "Mã tiêu chí": criterion, "Giá trị": value, "Minh chứng": "BC 1"}
        for unit, criteria in values.items()
        for criterion, value in criteria.items()
    ]
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")
    assert channel_inputs.import_self_assessment(evaluation, data, "data.csv", actor=None).rejected == []
