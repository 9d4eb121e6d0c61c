"""Every route declares who may reach it; each route behind a login is checked for every role, staff and unit,
and for anonymous; a unit's account is refused every page of another unit."""

import re

import pytest

from survey_app.accounts.models import Role, UnitRole
from survey_app.core.security import API_KEY, PUBLIC, access_rule
from tests.conftest import csrf_token, expert_panel, row_counts

ADMIN, DESIGNER, SCORER, VIEWER = (Role.ADMINISTRATOR, Role.SAMPLE_DESIGNER, Role.SCORING_OFFICER, Role.VIEWER)
STAFF = {ADMIN, DESIGNER, SCORER, VIEWER}
REPORTER, APPROVER, OVERSEER, SIGNATORY = (UnitRole.REPORTER, UnitRole.APPROVER, UnitRole.OVERSEER, UnitRole.SIGNATORY)
UNIT = {REPORTER, APPROVER, OVERSEER, SIGNATORY}
EVERYONE = STAFF | UNIT

#: the access rule of every endpoint; a new route must be added here, with its roles
EXPECTED = {
    "static": PUBLIC,
    "main.home": PUBLIC,
    "main.set_language": PUBLIC,
    "auth.login": PUBLIC,
    "api.health": PUBLIC,
    "api.openapi": PUBLIC,
    "api.submit_response": API_KEY,
    "respond.open_link": PUBLIC,
    "respond.resume": PUBLIC,
    "respond.entry": PUBLIC,
    "respond.section": PUBLIC,
    "respond.autosave": PUBLIC,
    "respond.review": PUBLIC,
    "respond.done": PUBLIC,
    "main.dashboard": STAFF,
    "main.job_list": STAFF,
    "main.job_page": STAFF,
    "main.cancel_job": STAFF,
    "scoring.audit": STAFF,
    "scoring.start_audit": {ADMIN, SCORER},
    "scoring.audit_report": STAFF,
    "auth.logout": EVERYONE,
    "auth.code": PUBLIC,
    "auth.invitation": PUBLIC,
    "auth.second_factor_page": EVERYONE,
    "auth.verify": EVERYONE,
    "unit_accounts.index": {ADMIN},
    "unit_accounts.unit": {ADMIN, APPROVER},
    "unit_accounts.invite": {ADMIN, APPROVER},
    "unit_accounts.set_active": {ADMIN, APPROVER},
    "reporting.script": PUBLIC,
    "reporting.home": EVERYONE,
    "reporting.report": EVERYONE,
    "reporting.save": {REPORTER},
    "reporting.upload": {REPORTER},
    "reporting.document": EVERYONE,
    "reporting.submit": {REPORTER},
    "reporting.approve": {APPROVER},
    "reporting.send_back": {APPROVER, SIGNATORY},
    "reporting.sign_off": {SIGNATORY},
    "reporting.reopen": {ADMIN, SCORER},
    "reporting.round_status": STAFF,
    "reporting.add_period": {ADMIN, SCORER},
    "reporting.remind": {ADMIN, SCORER},
    "reporting.reply": {REPORTER, APPROVER, SIGNATORY},
    "reporting.appraisal_closing": {ADMIN, SCORER},
    "reporting.unit_results": EVERYONE,
    "frameworks.index": STAFF,
    "frameworks.show": STAFF,
    "frameworks.export_xlsx": STAFF,
    "frameworks.export_yaml": STAFF,
    "frameworks.upload": {ADMIN, SCORER},
    "frameworks.freeze": {ADMIN},
    "units.index": STAFF,
    "units.show": STAFF,
    "units.new": {ADMIN},
    "rounds.index": STAFF,
    "rounds.create": {ADMIN, SCORER},
    "users.index": {ADMIN},
    "users.create": {ADMIN},
    "users.edit": {ADMIN},
    "audit.index": {ADMIN},
    "sampling.plan": {ADMIN, DESIGNER},
    "sampling.plans": {ADMIN, DESIGNER},
    "sampling.show_plan": {ADMIN, DESIGNER},
    "sampling.plan_csv": {ADMIN, DESIGNER},
    "weighting.draw": {ADMIN, DESIGNER},
    "weighting.weighting_runs": {ADMIN, DESIGNER, SCORER},
    "weighting.show_run": {ADMIN, DESIGNER, SCORER},
    "weighting.run_csv": {ADMIN, DESIGNER, SCORER},
    "questionnaires.index": STAFF,
    "questionnaires.show": STAFF,
    "questionnaires.xlsform": STAFF,
    "questionnaires.publish": {ADMIN, DESIGNER},
    "fieldwork.index": STAFF,
    "fieldwork.show": STAFF,
    "fieldwork.create": {ADMIN, DESIGNER},
    "fieldwork.status": {ADMIN, DESIGNER},
    "fieldwork.quotas": {ADMIN, DESIGNER},
    "fieldwork.invitations": {ADMIN, DESIGNER},
    "fieldwork.revoke": {ADMIN, DESIGNER},
    "fieldwork.import_responses": {ADMIN, DESIGNER},
    "fieldwork.export": {ADMIN, DESIGNER, SCORER},
    "fieldwork.start_export": {ADMIN, DESIGNER, SCORER},
    "fieldwork.export_file": {ADMIN, DESIGNER, SCORER},
    "fieldwork.review": {ADMIN, DESIGNER, SCORER},
    "fieldwork.exclusion": {ADMIN, DESIGNER, SCORER},
    "experts.index": STAFF,
    "experts.nominations": {ADMIN, DESIGNER},
    "experts.upload_nominations": {ADMIN, DESIGNER},
    "experts.panels": STAFF,
    "experts.select_panels": {ADMIN, DESIGNER},
    "experts.panel": STAFF,
    "experts.links": {ADMIN, DESIGNER},
    "experts.remind": {ADMIN, DESIGNER},
    "experts.decline": {ADMIN, DESIGNER},
    "experts.override": {ADMIN, DESIGNER},
    "experts.form_action": {ADMIN, DESIGNER},
    "experts.results": STAFF,
    "expert.entry": PUBLIC,
    "expert.form": PUBLIC,
    "expert.consent": PUBLIC,
    "expert.draft": PUBLIC,
    "expert.submit": PUBLIC,
    "expert.copy": PUBLIC,
    "scoring.index": STAFF,
    "scoring.show": STAFF,
    "scoring.template": STAFF,
    "scoring.upload_self_assessment": {ADMIN, SCORER},
    "scoring.upload_cyberspace": {ADMIN, SCORER},
    "scoring.unit": STAFF,
    "scoring.report_value": {ADMIN, SCORER},
    "scoring.appraise": {ADMIN, SCORER},
    "scoring.attach_evidence": {ADMIN, SCORER},
    "scoring.evidence_document": STAFF,
    "scoring.remove_evidence": {ADMIN, SCORER},
    "scoring.run": {ADMIN, SCORER},
    "scoring.show_run": STAFF,
    "scoring.export_run": STAFF,
    "scoring.explain": STAFF,
    "scoring.explain_json": STAFF,
    "scoring.publish": {ADMIN, SCORER},
    "targets.index": STAFF,
    "targets.report_value": {ADMIN, SCORER},
    "targets.load": {ADMIN},
    "results.index": PUBLIC,
    "results.methodology": PUBLIC,
    "results.ranking": PUBLIC,
    "results.export": PUBLIC,
    "results.scorecard": PUBLIC,
    "results_api.result_rounds": PUBLIC,
    "results_api.result_ranking": PUBLIC,
    "results_api.result_unit": PUBLIC,
    "results.map": PUBLIC,
    "results.compare": PUBLIC,
    "results.series": PUBLIC,
    "results.open_data_page": PUBLIC,
    "results.data_package": PUBLIC,
    "results.round_data": PUBLIC,
    "results_api.result_values": PUBLIC,
    "results.what_if": PUBLIC,
    "api_keys.keys": {ADMIN},
    "privacy.index": {ADMIN},
    "privacy.person": {ADMIN},
    "privacy.export": {ADMIN},
    "privacy.erase": {ADMIN},
    "api_keys.revoke_key": {ADMIN},
}


#: routes that answer an empty form with the form and its errors
REFUSED_EMPTY = {
    "experts.override",
    "scoring.report_value",
    "targets.report_value",
    "privacy.person",
    "units.new",
    "reporting.upload",
    "reporting.add_period",
    "reporting.reply",
    "reporting.appraisal_closing",
}
#: a report's workflow steps, refused (409) on the page when the report is not at their step
#: files for those who may follow the job that wrote them (its creator, administrators): to any other account the
#: route admits they do not exist (404)
FOLLOWERS_ONLY = {"fieldwork.export_file"}
REFUSED_STEP = {
    "reporting.submit",
    "reporting.approve",
    "reporting.send_back",
    "reporting.sign_off",
    "reporting.reopen",
}


#: a concrete value for each parameter of a staff route, pointing at what ``seeded`` made
_SAMPLES = {
    "framework_id": "1",
    "code": "provinces-2019",
    "user_id": "1",
    "questionnaire_id": "1",
    "invitation_id": "1",
    "response_id": "1",
    "key_id": "1",
    "fmt": "csv",
    "fieldwork_code": "invited",
    "plan_id": "1",
    "run_id": "1",
    "round_code": "expert-round",
    "panel_id": "1",
    "seat_id": "1",
    "form_id": "1",
    "action": "revoke",
    "unit_code": "01",
    "assessment_id": "1",
    "document_id": "1",
    "job_id": "1",
    "file_id": "1",
    "period_code": "2023",
    "criterion": "AW.1",
    # set by ``seeded``: Hà Nội's id, and its reporter's account
    "unit_id": None,
    "account_id": None,
}


def _staff_rules(app):
    """(endpoint, method, concrete path) for every route behind a login."""
    for rule in app.url_map.iter_rules():
        if EXPECTED.get(rule.endpoint) in (PUBLIC, API_KEY):
            continue
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", lambda m: _SAMPLES[m.group(1)], rule.rule)
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule.endpoint, method, path


def test_every_endpoint_declares_its_access_and_matches_the_table(app):
    actual = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            declared = access_rule(rule.endpoint)
            assert declared is not None, f"{rule.endpoint} declares no access rule"
            actual[rule.endpoint] = declared if declared in (PUBLIC, API_KEY) else set(declared)
    assert actual == EXPECTED


def test_a_view_without_a_rule_is_denied_to_everyone(app, client, create_user, login):
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert client.get("/forgotten").status_code == 403
    login(create_user(ADMIN))
    assert client.get("/forgotten").status_code == 403


@pytest.fixture
def seeded(app, survey, run_jobs):
    """Something behind every sample address: fieldwork "invited" with invitation 1, response 1, API key 1,
    weighting run 1, sample plan 1, and round "expert-round" with expert panel 1 whose seat 1 has form 1,
    Hà Nội's self-assessed value 1 with evidence document 1, scoring run 1, job 1 (a probe), export file 1
    (written by job 2), and Hà Nội's reporter with a draft for 2023 whose report document is 1."""
    from survey_app.core.extensions import db
    from survey_app.frameworks import operations as frameworks
    from survey_app.sampling import operations as sampling
    from survey_app.survey import operations as collection
    from tests.conftest import CITIZEN_ANSWERS

    frameworks.load_shipped_frameworks()
    collection.issue_invitations(survey.invited, [{"unit": survey.units[0].code}] * 2, actor=None)
    collection.submit(survey.invited, survey.units[0], CITIZEN_ANSWERS, "one", source="api")
    collection.create_api_key("partner", [survey.invited], actor=None)
    sampling.run_weighting(
        survey.invited,
        f"unit,population\n{survey.units[0].code},1000\n".encode(),
        "p.csv",
        margins=[],
        method="rake",
        lower=None,
        upper=None,
        actor=None,
    )
    frame = b"province,population\n01,100\n02,300\n"
    plan = sampling.sample_plan(
        frame,
        "f.csv",
        ["province"],
        "population",
        "proportional",
        total=10,
        margin=None,
        power=0.5,
        minimum=0,
        maximum=None,
        deff=1,
        response_rate=1,
        unit="province",
    )
    sampling.save_plan(plan, "plan", frame, "f.csv", actor=None)
    evaluation, _, _ = expert_panel(survey.framework)
    import io

    from survey_app.scoring import channel_inputs, evidence
    from survey_app.scoring import operations as scoring
    from tests.conftest import pdf_document

    assessment = channel_inputs.report_value(
        evaluation, survey.units[0], "AW.1", "có", evidence="QĐ 1", explanation="", actor=None
    )
    evidence.attach(assessment, io.BytesIO(pdf_document()), "qd1.pdf", actor=None)
    scoring.run_scoring(evaluation, excluded=[], actor=None)
    _unit_report(evaluation, survey.units)
    from survey_app.core import jobs
    from survey_app.survey import jobs as survey_jobs

    jobs.enqueue("core.probe", subject="probe", params={"steps": 1, "seconds": 0})
    from survey_app.accounts import operations as accounts
    from tests.conftest import PASSWORD

    owner = accounts.create_user("exports@example.gov.vn", "Exports", ADMIN, PASSWORD)
    db.session.flush()
    survey_jobs.start_export(survey.invited, "csv", "vi", actor=owner)  # export file 1, written by job 2
    db.session.commit()
    run_jobs()


def _unit_report(evaluation, provinces):
    """Staff account 1, Hà Nội's reporter (whose draft for 2023 has document 1), and their ids in the samples."""
    import io

    from survey_app.accounts import operations as accounts
    from survey_app.accounts import unit_accounts
    from survey_app.reporting import documents
    from survey_app.reporting import operations as reporting
    from tests.conftest import pdf_document

    # account 1 is staff's (``users.edit``), the reporter comes after
    accounts.create_user("canbo@example.gov.vn", "Cán bộ", "viewer", "x" * 12)
    hanoi = next(unit for unit in provinces if unit.code == "01")
    reporter, _ = unit_accounts.create_unit_account(hanoi, "nhaplieu@hanoi.gov.vn", "N", "reporter", actor=None)
    period = reporting.period_of(evaluation, "2023")
    entry = reporting.entry_for(period, hanoi, "AW.1")
    documents.store(entry, io.BytesIO(pdf_document()), "qd.pdf", actor=reporter)
    _SAMPLES["unit_id"], _SAMPLES["account_id"] = str(hanoi.id), str(reporter.id)


def _unit_account(unit_code: str, role: str):
    """A unit's account with ``role``, its password the tests' own."""
    from sqlalchemy import select

    from survey_app.accounts import operations as accounts
    from survey_app.accounts import unit_accounts
    from survey_app.core.extensions import db
    from survey_app.units.models import Unit, UnitList
    from tests.conftest import PASSWORD

    unit = db.session.scalar(
        select(Unit).join(UnitList).where(UnitList.code == "provinces-2019", Unit.code == unit_code)
    )
    user, _ = unit_accounts.create_unit_account(unit, f"{role}.{unit_code}@unit.gov.vn", role, role, actor=None)
    accounts.set_password(user, PASSWORD, actor=None)
    db.session.commit()
    return user


def test_anonymous_is_sent_to_login_on_every_staff_route(app, client, seeded):
    for endpoint, method, path in _staff_rules(app):
        response = client.open(path, method=method, data={"csrf_token": csrf_token(client, "/login")})
        assert response.status_code == 302, endpoint
        assert response.headers["Location"].startswith("/login"), endpoint


@pytest.mark.parametrize("role", sorted(STAFF) + sorted(UNIT))
def test_each_role_reaches_exactly_its_routes(app, client, create_user, login, seeded, role):
    """Staff and Hà Nội's own accounts, each on every route (the sample unit is Hà Nội)."""
    user = _unit_account("01", role) if role in UNIT else create_user(role)
    login(user)
    for endpoint, method, path in _staff_rules(app):
        if endpoint == "auth.logout":
            continue  # would end the session under test; covered in test_auth
        token = csrf_token(client, "/reporting/")
        response = client.open(path, method=method, data={"csrf_token": token})
        # every answer, page, file or refusal, carries the security headers
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], endpoint
        assert response.headers["X-Content-Type-Options"] == "nosniff", endpoint
        assert response.headers["Referrer-Policy"] == "same-origin", endpoint
        if role in EXPECTED[endpoint]:
            # a form posted empty is refused with its page again (400), past the access check
            allowed = (200, 302, 400) if endpoint in REFUSED_EMPTY else (200, 302)
            if endpoint in REFUSED_STEP:
                allowed = (200, 302, 409)
            if endpoint in FOLLOWERS_ONLY:
                allowed = (200,) if role == ADMIN else (404,)
            assert response.status_code in allowed, (endpoint, response.status_code)
        else:
            assert response.status_code == 403, (endpoint, response.status_code)


@pytest.mark.parametrize("role", sorted(UNIT))
def test_a_unit_account_is_refused_every_page_of_another_unit(app, client, login, seeded, role):
    """Generated from the routes: every address naming a unit (Hà Nội's, the samples'), reached by an account of
    Hà Giang, is refused (403), and changes nothing."""
    login(_unit_account("02", role))
    before = row_counts(without=("audit_events", "staff_sessions", "users"))
    reached = set()
    for endpoint, method, path in _staff_rules(app):
        rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
        if not {"unit_code", "unit_id"} & set(rule.arguments):
            continue
        token = csrf_token(client, "/reporting/")
        response = client.open(path, method=method, data={"csrf_token": token, "value-AW.1": "có"})
        assert response.status_code == 403, (endpoint, response.status_code)
        reached.add(endpoint)
    assert {"reporting.report", "reporting.save", "reporting.document", "unit_accounts.unit"} <= reached
    assert row_counts(without=("audit_events", "staff_sessions", "users")) == before


def test_denied_access_is_audited(app, client, create_user, login):
    from sqlalchemy import select

    from survey_app.audit.models import AuditEvent
    from survey_app.core.extensions import db

    viewer = create_user(VIEWER)
    login(viewer)
    assert client.get("/users/").status_code == 403
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access.denied"))
    assert event.actor == viewer.email and event.details["endpoint"] == "users.index"


def test_api_key_routes_refuse_requests_without_a_key_even_from_staff(app, client, create_user, login):
    login(create_user("administrator"))
    for rule in app.url_map.iter_rules():
        if EXPECTED.get(rule.endpoint) == API_KEY:
            path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", "x", rule.rule)
            assert client.post(path, json={}).status_code == 401, rule.endpoint


def test_every_state_changing_form_refuses_a_post_without_its_csrf_token(app, client, create_user, login, seeded):
    """Generated from the routes: a new form is covered without being listed. The JSON API is exempt (a key in
    the Authorization header, never a cookie, authenticates it)."""
    login(create_user(ADMIN))
    samples = {"kind": "i", "key": "k", "section": "1", "token": "t", "code": "vi"}
    before = row_counts()
    posted = set()
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or EXPECTED.get(rule.endpoint) == API_KEY:
            continue
        path = re.sub(
            r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>",
            lambda m: samples.get(m.group(1)) or _SAMPLES[m.group(1)],
            rule.rule,
        )
        response = client.post(path, data={"value": "1", "email": "x@example.vn", "password": "x" * 12})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        assert "Biểu mẫu đã hết hạn hoặc không xuất phát từ trang này" in response.get_data(as_text=True), rule.endpoint
        posted.add(rule.endpoint)
    assert {"auth.login", "respond.section", "expert.submit", "scoring.attach_evidence"} <= posted
    assert row_counts() == before
