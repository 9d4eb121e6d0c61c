"""The request boundary: a request's work is committed once, at its end, or rolled back whole; a view keeps its
work on a client error only by saying so; a refused access is audited although the request is rolled back."""

import ast
from pathlib import Path

from sqlalchemy import select

from survey_app.audit import operations as audit
from survey_app.audit.models import AuditEvent
from survey_app.core.app import keep_changes
from survey_app.core.extensions import db
from survey_app.core.security import public
from survey_app.experts.models import ExpertForm
from tests.conftest import csrf_token, expert_panel

SERVICE = Path(__file__).resolve().parents[3] / "survey_app"


def _actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_no_view_operation_or_access_check_commits_by_hand():
    """Only the boundaries commit: the request's (``core/app.py``), the commands' (``core/cli.py``) and a
    background job's (``core/jobs.py``)."""
    commits = []
    boundaries = {SERVICE / "core" / "app.py", SERVICE / "core" / "cli.py", SERVICE / "core" / "jobs.py"}
    modules = sorted(set(SERVICE.rglob("*.py")) - boundaries)
    assert SERVICE / "core" / "security.py" in modules and SERVICE / "survey" / "views" / "respond.py" in modules
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
                commits.append(f"{path.name}:{node.lineno}")
    assert commits == []


def _route(app, rule, status, *, keep=False):
    @public
    def view():
        audit.record("test.work", details={"rule": rule})
        if keep:
            keep_changes()
        return "", status

    app.add_url_rule(rule, rule.strip("/"), view)


def test_a_client_error_keeps_the_work_only_when_the_view_says_so(app, client):
    _route(app, "/kept", 422, keep=True)
    _route(app, "/dropped", 422)
    _route(app, "/failed", 500, keep=True)
    assert client.get("/kept").status_code == 422
    assert client.get("/dropped").status_code == 422
    assert client.get("/failed").status_code == 500
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "test.work")).all()
    assert [event.details["rule"] for event in events] == ["/kept"]


def test_a_refused_access_is_audited_and_the_rest_of_the_request_rolled_back(app, client, create_user, login):
    def work_before_the_access_check():
        audit.record("test.work")

    login(create_user("viewer", email="viewer@example.vn"))
    # the first hook of every request, before the access check refuses it
    app.before_request_funcs.setdefault(None, []).insert(0, work_before_the_access_check)
    assert client.get("/privacy/").status_code == 403
    actions = _actions()
    assert actions.count("access.denied") == 1 and "test.work" not in actions
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access.denied"))
    assert event.actor == "viewer@example.vn" and event.details["endpoint"] == "privacy.index"


def test_an_experts_draft_with_a_wrong_answer_keeps_the_valid_ones(survey, client):
    *_, tokens = expert_panel(survey.framework)
    db.session.commit()
    location = client.get(f"/e/{next(iter(tokens.values()))}").headers["Location"]
    token = csrf_token(client, "/resume")
    assert client.post(f"{location}/consent", data={"csrf_token": token}).status_code == 302
    # the page's "save" button, without its script: the page comes back with the error
    response = client.post(f"{location}/draft", data={"csrf_token": token, "score-AW.E": "5", "score-INST.E": "9"})
    assert response.status_code == 422
    stored = db.session.get(ExpertForm, int(location.rsplit("/", 1)[1]))
    db.session.refresh(stored)
    assert stored.answers == {"AW.E": {"score": 5}}
