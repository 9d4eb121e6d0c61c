"""The expert channel for staff (``/experts``): nominations, panels and their status, personal links, reminders
and the results."""

from __future__ import annotations

import pandas as pd
from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from questionnaires.exports import to_csv
from sampling import PANEL_SIZES, ExpertCategory, panel_quotas
from survey_app.core import mail
from survey_app.core.errors import ServiceError, or_404
from survey_app.core.extensions import db
from survey_app.core.i18n import current_language, describe_error, describe_row_problem, label
from survey_app.core.security import ANALYSTS, DESIGNERS, STAFF, allow
from survey_app.core.types import utcnow
from survey_app.experts import operations as experts
from survey_app.experts.blueprint import staff as blueprint
from survey_app.experts.forms import NominationForm, NominationUploadForm, OverrideForm, ReasonForm, SelectPanelForm
from survey_app.experts.models import ExpertForm, ExpertPanel, Nomination, PanelSeat, SeatRole
from survey_app.frameworks.operations import framework_of
from survey_app.rounds.models import EvaluationRound
from survey_app.rounds.operations import get_round


def _panel(panel_id: int) -> ExpertPanel:
    return db.get_or_404(ExpertPanel, panel_id)


def _of_panel(model, record_id: int, panel: ExpertPanel):
    """A seat or form of the panel in the address; any other is not found."""
    record = db.get_or_404(model, record_id)
    seat = record if isinstance(record, PanelSeat) else record.seat
    if seat.panel_id != panel.id:
        abort(404)
    return record


def _category_choices():
    return [(str(c), label(str(c))) for c in ExpertCategory]


# --- staff: nominations ---------------------------------------------------------------------------------


@blueprint.get("/")
@allow(*STAFF)
def index():
    rounds = list(db.session.scalars(select(EvaluationRound).order_by(EvaluationRound.year.desc())))
    counts = {r.id: (len(experts.nominations(r)), len(experts.panels(r)), experts.submitted_count(r)) for r in rounds}
    return render_template("experts/index.html", rounds=rounds, counts=counts)


def _nomination_forms(evaluation_round):
    units = [(u.code, f"{u.code} · {u.name}") for u in experts.round_units(evaluation_round)]
    form = NominationForm(prefix="one")
    form.unit.choices = units
    form.category.choices = _category_choices()
    upload = NominationUploadForm(prefix="file")
    upload.unit.choices = [("", "—")] + units
    return form, upload


@blueprint.route("/<round_code>/nominations", methods=["GET", "POST"])
@allow(*DESIGNERS)
def nominations(round_code: str):
    evaluation_round = or_404(get_round(round_code))
    form, upload = _nomination_forms(evaluation_round)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            report = experts.import_nominations(
                evaluation_round,
                [
                    {
                        "unit": form.unit.data,
                        "name": form.name.data,
                        "category": form.category.data,
                        "organisation": form.organisation.data or "",
                        "position": form.position.data or "",
                        "email": form.email.data or "",
                        "phone": form.phone.data or "",
                        "expertise": form.expertise.data or "",
                    }
                ],
                actor=g.user,
            )
            if report.stored:
                flash(_("Nomination of %(name)s stored.", name=form.name.data), "success")
                return redirect(url_for("experts.nominations", round_code=round_code))
            flash(describe_row_problem(report.rejected[0]), "error")
    listed = experts.nominations(evaluation_round)
    return render_template(
        "experts/nominations.html", evaluation_round=evaluation_round, nominations=listed, form=form, upload=upload
    ), status


@blueprint.post("/<round_code>/nominations/upload")
@allow(*DESIGNERS)
def upload_nominations(round_code: str):
    evaluation_round = or_404(get_round(round_code))
    form, upload = _nomination_forms(evaluation_round)
    if not upload.validate_on_submit():
        flash(_("Choose a file."), "error")
        return redirect(url_for("experts.nominations", round_code=round_code))
    try:
        report = experts.import_nomination_file(
            evaluation_round,
            upload.file.data.read(),
            upload.file.data.filename or "",
            unit=upload.unit.data or None,
            accept_valid=upload.accept_valid_rows.data,
            actor=g.user,
        )
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(url_for("experts.nominations", round_code=round_code)), 303
    status = 400 if report.rejected and not report.stored else 200
    return render_template(
        "row_report.html",
        report=report,
        describe=describe_row_problem,
        back_url=url_for("experts.nominations", round_code=round_code),
        back_label=_("Back to the nominations"),
    ), status


# --- staff: panels --------------------------------------------------------------------------------------


@blueprint.get("/<round_code>/panels")
@allow(*STAFF)
def panels(round_code: str):
    evaluation_round = or_404(get_round(round_code))
    size = request.args.get("size", type=int) or experts.DEFAULT_PANEL_SIZE
    if size not in PANEL_SIZES:
        size = experts.DEFAULT_PANEL_SIZE
    states = experts.panel_states(evaluation_round, size)
    form = SelectPanelForm(size=size)
    form.unit.choices = [("*", _("Every unit whose nominations fill the panel"))] + [
        (s.unit.code, s.unit.name) for s in states if s.panel is None
    ]
    return render_template(
        "experts/panels.html",
        evaluation_round=evaluation_round,
        states=states,
        size=size,
        form=form,
        statuses=experts.STATUSES,
        categories=[str(c) for c in ExpertCategory],
    )


@blueprint.post("/<round_code>/panels")
@allow(*DESIGNERS)
def select_panels(round_code: str):
    evaluation_round = or_404(get_round(round_code))
    form = SelectPanelForm()
    states = experts.panel_states(evaluation_round, form.size.data or experts.DEFAULT_PANEL_SIZE)
    form.unit.choices = [("*", "")] + [(s.unit.code, s.unit.name) for s in states]
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(map(str, errors)), "error")
        return redirect(url_for("experts.panels", round_code=round_code))
    chosen = [
        s
        for s in states
        if s.panel is None and (s.feasible if form.unit.data == "*" else s.unit.code == form.unit.data)
    ]
    try:
        for state in chosen:
            experts.select_panel(evaluation_round, state.unit, size=form.size.data, seed=form.seed.data, actor=g.user)
    except ServiceError as error:
        db.session.rollback()
        flash(describe_error(error), "error")
        return redirect(url_for("experts.panels", round_code=round_code, size=form.size.data))
    flash(_("Panels selected: %(count)s.", count=len(chosen)), "success" if chosen else "error")
    return redirect(url_for("experts.panels", round_code=round_code, size=form.size.data))


def _panel_page(panel: ExpertPanel, status: int = 200, override: OverrideForm | None = None):
    override = override or OverrideForm(prefix="override")
    members = [s for s in panel.seats if s.role == SeatRole.MEMBER]
    reserves = sorted(
        (s for s in panel.seats if s.role == SeatRole.RESERVE),
        key=lambda s: (s.nomination.category, s.reserve_rank or 0),
    )
    # who can take a seat by hand: the reserves in call order, then nominees who came after the draw
    waiting = [s.nomination for s in reserves] + [
        n for n in experts.nominations(panel.evaluation_round, panel.unit) if n.seat is None
    ]
    override.remove.choices = [(s.id, f"{s.nomination.name} ({label(s.nomination.category)})") for s in members]
    override.add.choices = [(n.id, f"{n.name} ({label(n.category)})") for n in waiting]
    counts = {str(c): sum(1 for s in members if s.nomination.category == str(c)) for c in ExpertCategory}
    return render_template(
        "experts/panel.html",
        panel=panel,
        members=members,
        reserves=reserves,
        withdrawn=[s for s in panel.seats if s.role == SeatRole.WITHDRAWN],
        override=override,
        reason=ReasonForm(),
        counts=counts,
        quotas={str(c): n for c, n in panel_quotas(panel.size).items()},
        smtp=mail.configured(current_app.config),
        now=utcnow(),
    ), status


@blueprint.get("/panels/<int:panel_id>")
@allow(*STAFF)
def panel(panel_id: int):
    return _panel_page(_panel(panel_id))


def _links_csv(panel: ExpertPanel, rows: list[dict], name: str) -> Response:
    table = pd.DataFrame(rows, columns=["unit", "name", "category", "email", "phone", "status", "link"])
    return Response(
        to_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=panel-{panel.unit.code}-{name}.csv"},
    )


def _contact_row(seat: PanelSeat, link: str = "") -> dict:
    nomination = seat.nomination
    return {
        "unit": seat.panel.unit.code,
        "name": nomination.name,
        "category": nomination.category,
        "email": nomination.email,
        "phone": nomination.phone,
        "status": seat.status,
        "link": link,
    }


def _invitation_mail(seat: PanelSeat, link: str, *, reminder: bool) -> mail.Mail:
    panel = seat.panel
    subject = (
        _("Reminder: your expert opinion form for %(unit)s", unit=panel.unit.name)
        if reminder
        else _("Your expert opinion form for %(unit)s", unit=panel.unit.name)
    )
    body = _(
        "Dear %(name)s,\n\nYou are on the expert panel assessing %(unit)s in %(round)s. Your personal form: "
        "%(link)s\n\nThe link is yours alone and works until %(until)s.",
        name=seat.nomination.name,
        unit=panel.unit.name,
        round=panel.evaluation_round.name(current_language()),
        link=link,
        until=seat.form.link_expires_at.date().isoformat(),
    )
    return mail.Mail(seat.nomination.email, subject, body)


@blueprint.post("/panels/<int:panel_id>/links")
@allow(*DESIGNERS)
def links(panel_id: int):
    """New personal links for the members who have none (or, with ``seat``, for one member); by e-mail when the
    deployment has SMTP and every member has an address, and always as a CSV, the only time links are shown."""
    panel = _panel(panel_id)
    seat_id = request.form.get("seat", type=int)
    if seat_id:
        seats = [_of_panel(PanelSeat, seat_id, panel)]
    else:
        seats = [s for s in panel.seats if s.role == SeatRole.MEMBER and s.form is None]
    issued = experts.issue_links(panel, days=current_app.config["EXPERT_LINK_DAYS"], actor=g.user, seats=seats)
    if not issued:
        flash(_("Every member already has a link."), "error")
        return redirect(url_for("experts.panel", panel_id=panel_id))
    rows = [_contact_row(one.seat, url_for("expert.entry", token=one.token, _external=True)) for one in issued]
    if mail.configured(current_app.config) and request.form.get("send") == "1":
        queued = mail.queue(
            [
                _invitation_mail(one.seat, row["link"], reminder=False)
                for one, row in zip(issued, rows)
                if one.seat.nomination.email
            ]
        )
        flash(_("Links queued for e-mail: %(count)s.", count=len(queued)), "success")
    return _links_csv(panel, rows, "links")


@blueprint.post("/panels/<int:panel_id>/remind")
@allow(*DESIGNERS)
def remind(panel_id: int):
    """Remind the members who have not submitted: by e-mail with a new link when SMTP is configured, otherwise
    the list of whom to call, with their status."""
    panel = _panel(panel_id)
    waiting = experts.awaiting(panel)
    if not waiting:
        flash(_("Nobody to remind: every member with a link has submitted."), "error")
        return redirect(url_for("experts.panel", panel_id=panel_id))
    if mail.configured(current_app.config):
        with_address = [seat for seat in waiting if seat.nomination.email]
        issued = experts.issue_links(
            panel, days=current_app.config["EXPERT_LINK_DAYS"], actor=g.user, seats=with_address
        )
        queued = mail.queue(
            [
                _invitation_mail(one.seat, url_for("expert.entry", token=one.token, _external=True), reminder=True)
                for one in issued
            ]
        )
        experts.note_reminded(with_address, actor=g.user)
        flash(_("Reminders queued for e-mail: %(count)s.", count=len(queued)), "success")
        return redirect(url_for("experts.panel", panel_id=panel_id))
    experts.note_reminded(waiting, actor=g.user)
    return _links_csv(panel, [_contact_row(seat) for seat in waiting], "reminders")


@blueprint.post("/panels/<int:panel_id>/seats/<int:seat_id>/decline")
@allow(*DESIGNERS)
def decline(panel_id: int, seat_id: int):
    panel = _panel(panel_id)
    seat = _of_panel(PanelSeat, seat_id, panel)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give the reason."), "error")
        return redirect(url_for("experts.panel", panel_id=panel_id))
    try:
        replacement = experts.decline(seat, reason=form.reason.data.strip(), actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(url_for("experts.panel", panel_id=panel_id))
    if replacement is None:
        flash(
            _("%(name)s declined; no reserve is left in the category, the panel is short.", name=seat.nomination.name),
            "error",
        )
    else:
        flash(
            _(
                "%(name)s declined; %(replacement)s takes the seat.",
                name=seat.nomination.name,
                replacement=replacement.nomination.name,
            ),
            "success",
        )
    return redirect(url_for("experts.panel", panel_id=panel_id))


@blueprint.post("/panels/<int:panel_id>/override")
@allow(*DESIGNERS)
def override(panel_id: int):
    panel = _panel(panel_id)
    form = OverrideForm(prefix="override")
    form.remove.choices = [(s.id, "") for s in panel.seats]
    form.add.choices = [(n.id, "") for n in experts.nominations(panel.evaluation_round, panel.unit)]
    if not form.validate_on_submit():
        return _panel_page(panel, 400, override=form)
    try:
        experts.override(
            panel,
            remove=_of_panel(PanelSeat, form.remove.data, panel),
            add=db.get_or_404(Nomination, form.add.data),
            reason=form.reason.data,
            actor=g.user,
        )
    except ServiceError as error:
        flash(describe_error(error), "error")
        return _panel_page(panel, 400, override=form)
    flash(_("The panel was changed; the reason is in the audit log."), "success")
    return redirect(url_for("experts.panel", panel_id=panel_id))


@blueprint.post("/panels/<int:panel_id>/forms/<int:form_id>/<any(revoke, reopen):action>")
@allow(*DESIGNERS)
def form_action(panel_id: int, form_id: int, action: str):
    panel = _panel(panel_id)
    form = _of_panel(ExpertForm, form_id, panel)
    reason = ReasonForm()
    try:
        if action == "revoke":
            experts.revoke_link(form, actor=g.user)
        elif not reason.validate_on_submit():
            raise ServiceError("reason_required")
        else:
            experts.reopen(form, reason=reason.reason.data, actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(url_for("experts.panel", panel_id=panel_id))
    flash(_("Link revoked.") if action == "revoke" else _("The form is open again for the expert."), "success")
    return redirect(url_for("experts.panel", panel_id=panel_id))


# --- staff: results -------------------------------------------------------------------------------------


@blueprint.get("/<round_code>/results")
@allow(*STAFF)
def results(round_code: str):
    evaluation_round = or_404(get_round(round_code))
    found = experts.results(evaluation_round)
    names = experts.expert_names(evaluation_round) if g.user.role in ANALYSTS else {}
    units = {u.code: u for u in experts.round_units(evaluation_round)}
    names_of = {node.code: node.name for node, _ in framework_of(evaluation_round.framework).walk()}
    return render_template(
        "experts/results.html",
        evaluation_round=evaluation_round,
        results=found,
        names=names,
        per_unit=_per_unit(found, units),
        names_of=names_of,
        categories=[str(c) for c in ExpertCategory],
    )


def _per_unit(found: experts.ExpertResults, units: dict) -> list[dict]:
    """The results table by unit, in the round's unit order, as the page shows them."""
    if found.items.empty:
        return []

    def records(table, code):
        return table[table["unit"] == code].to_dict("records")

    return [
        {
            "unit": units[code],
            "items": records(found.items, code),
            "agreement": next(iter(records(found.agreement, code)), None),
            "composition": next(iter(records(found.composition, code)), None),
            "flagged": [row for row in records(found.outliers, code) if row["flagged"]],
        }
        for code in units
        if code in set(found.items["unit"])
    ]
