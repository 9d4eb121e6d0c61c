"""Personal data (``/privacy``, administrators): the register of what is kept and why, and a person's data
found, exported and erased on request. Identifiers travel in POST bodies, never in addresses (and so never in
access logs)."""

from __future__ import annotations

import json

from flask import Response, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from survey_app.accounts.models import Role
from survey_app.core.errors import ServiceError
from survey_app.core.i18n import describe_error
from survey_app.core.security import allow
from survey_app.privacy import operations as privacy
from survey_app.privacy.blueprint import blueprint
from survey_app.privacy.forms import PersonActionForm, PersonForm


def _page(form: PersonForm, records=None, status: int = 200):
    action = PersonActionForm(person=form.person.data) if records is not None else None
    return render_template(
        "privacy/index.html", register=privacy.REGISTER, form=form, records=records, action=action
    ), status


@blueprint.get("/")
@allow(Role.ADMINISTRATOR)
def index():
    return _page(PersonForm())


@blueprint.post("/person")
@allow(Role.ADMINISTRATOR)
def person():
    form = PersonForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        records = privacy.find_person(form.person.data)
    except ServiceError as error:
        form.person.errors = [describe_error(error)]
        return _page(form, status=400)
    return _page(form, records)


def _requested_person():
    """The records of the person an export or erasure names, or None (then the search starts over)."""
    form = PersonActionForm()
    if form.validate_on_submit():
        try:
            return form, privacy.find_person(form.person.data)
        except ServiceError:
            pass
    flash(_("Search for the person again."), "error")
    return form, None


@blueprint.post("/person/export")
@allow(Role.ADMINISTRATOR)
def export():
    _, records = _requested_person()
    if records is None:
        return redirect(url_for("privacy.index"))
    document = privacy.export_person(records, actor=g.user)
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2, default=str),
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=personal-data.json", "Cache-Control": "no-store"},
    )


@blueprint.post("/person/erase")
@allow(Role.ADMINISTRATOR)
def erase():
    form, records = _requested_person()
    if records is None:
        return redirect(url_for("privacy.index"))
    try:
        erased = privacy.erase_person(records, form.reason.data or "", actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(url_for("privacy.index"))
    flash(
        _(
            "Erased: %(contacts)s invitee contacts, %(nominations)s nominations.",
            contacts=erased.invitee_contacts,
            nominations=erased.nominations,
        ),
        "success",
    )
    return redirect(url_for("privacy.index"))
