"""Every route declares who may reach it; each staff route is checked for every role and for anonymous."""

import re

import pytest

from survey_app.accounts.models import Role
from survey_app.core.security import API_KEY, PUBLIC, access_rule
from tests.conftest import csrf_token, expert_panel, row_counts

ADMIN, DESIGNER, SCORER, VIEWER = (Role.ADMINISTRATOR, Role.SAMPLE_DESIGNER, Role.SCORING_OFFICER, Role.VIEWER)
STAFF = {ADMIN, DESIGNER, SCORER, VIEWER}

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
    "auth.logout": STAFF,
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
    "results.ranking": PUBLIC,
    "results.export": PUBLIC,
    "results.scorecard": PUBLIC,
    "results_api.result_rounds": PUBLIC,
    "results_api.result_ranking": PUBLIC,
    "results_api.result_unit": PUBLIC,
    "api_keys.keys": {ADMIN},
    "privacy.index": {ADMIN},
    "privacy.person": {ADMIN},
    "privacy.export": {ADMIN},
    "privacy.erase": {ADMIN},
    "api_keys.revoke_key": {ADMIN},
}


#: routes that answer an empty form with the form and its errors
REFUSED_EMPTY = {"experts.override", "scoring.report_value", "targets.report_value", "privacy.person", "units.new"}


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
}


def _staff_rules(app):
    """(endpoint, method, concrete path) for every staff route."""
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
def seeded(app, survey):
    """Something behind every sample address: fieldwork "invited" with invitation 1, response 1, API key 1,
    weighting run 1, sample plan 1, and round "expert-round" with expert panel 1 whose seat 1 has form 1,
    Hà Nội's self-assessed value 1 with evidence document 1, scoring run 1, and job 1 (a probe)."""
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
    from survey_app.core import jobs

    jobs.enqueue("core.probe", subject="probe", params={"steps": 1, "seconds": 0})
    db.session.commit()


def test_anonymous_is_sent_to_login_on_every_staff_route(app, client, seeded):
    for endpoint, method, path in _staff_rules(app):
        response = client.open(path, method=method, data={"csrf_token": csrf_token(client, "/login")})
        assert response.status_code == 302, endpoint
        assert response.headers["Location"].startswith("/login"), endpoint


@pytest.mark.parametrize("role", sorted(STAFF))
def test_each_role_reaches_exactly_its_routes(app, client, create_user, login, seeded, role):
    user = create_user(role)
    login(user)
    for endpoint, method, path in _staff_rules(app):
        if endpoint == "auth.logout":
            continue  # would end the session under test; covered in test_auth
        token = csrf_token(client, "/dashboard")
        response = client.open(path, method=method, data={"csrf_token": token})
        # every answer, page, file or refusal, carries the security headers
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], endpoint
        assert response.headers["X-Content-Type-Options"] == "nosniff", endpoint
        assert response.headers["Referrer-Policy"] == "same-origin", endpoint
        if role in EXPECTED[endpoint]:
            # a form posted empty is refused with its page again (400), past the access check
            allowed = (200, 302, 400) if endpoint in REFUSED_EMPTY else (200, 302)
            assert response.status_code in allowed, (endpoint, response.status_code)
        else:
            assert response.status_code == 403, (endpoint, response.status_code)


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
