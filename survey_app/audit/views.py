"""The audit trail (``/audit``): who changed what and when, page by page, for administrators."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from survey_app.accounts.models import Role
from survey_app.audit.blueprint import blueprint
from survey_app.audit.models import AuditEvent
from survey_app.core.extensions import db
from survey_app.core.security import allow

PAGE_SIZE = 50


@blueprint.get("/")
@allow(Role.ADMINISTRATOR)
def index():
    page = max(request.args.get("page", 1, type=int), 1)
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    action = request.args.get("action", "").strip()
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    events = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return render_template(
        "audit/index.html", events=events[:PAGE_SIZE], page=page, has_next=len(events) > PAGE_SIZE, action=action
    )
