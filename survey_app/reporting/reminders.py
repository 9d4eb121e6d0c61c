"""Reminders to the units whose report for a period is not signed off: an e-mail to each of their active
accounts through the outbox, or, where the deployment sends no mail, the list of whom to call."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from flask import Response
from flask_babel import gettext as _
from sqlalchemy import select

from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core import mail
from survey_app.core.downloads import table_file
from survey_app.core.extensions import db
from survey_app.core.i18n import current_language, label
from survey_app.reporting import operations as reporting
from survey_app.reporting.models import ReportingPeriod, ReportStatus
from survey_app.rounds.models import EvaluationRound, RoundStatus


def waiting(evaluation_round: EvaluationRound, period: ReportingPeriod) -> list[tuple]:
    """(unit, status, its active accounts) of every unit whose report for the period is not signed off."""
    late = [
        (unit, status)
        for unit, status in reporting.round_statuses(evaluation_round, period)
        if status not in (ReportStatus.SIGNED_OFF, ReportStatus.APPRAISED)
    ]
    accounts: dict[int, list[User]] = {}
    for user in db.session.scalars(
        select(User)
        .where(User.unit_id.in_([unit.id for unit, _status in late]), User.active.is_(True))
        .order_by(User.email)
    ):
        accounts.setdefault(user.unit_id, []).append(user)
    return [(unit, status, accounts.get(unit.id, [])) for unit, status in late]


def remind(evaluation_round: EvaluationRound, period: ReportingPeriod, *, actor: User | None) -> int:
    """Queue a reminder to every active account of every unit not signed off.

    :return: how many e-mails were queued
    """
    messages = []
    for unit, status, users in waiting(evaluation_round, period):
        for user in users:
            subject = _("Reminder: the DTI report of %(unit)s for %(period)s", unit=unit.name, period=period.name_vi)
            body = _(
                "Dear %(name)s,\n\nThe report of %(unit)s for %(period)s in %(round)s is %(status)s. It must be "
                "signed off by %(deadline)s.",
                name=user.name,
                unit=unit.name,
                period=period.name(current_language()),
                round=evaluation_round.name(current_language()),
                status=label(status),
                deadline=period.deadline.isoformat(),
            )
            messages.append(mail.Mail(user.email, subject, body))
    mail.queue(messages)
    audit.record("reporting.remind", actor=actor, entity=period, new={"queued": len(messages)})
    return len(messages)


def as_csv(evaluation_round: EvaluationRound, period: ReportingPeriod) -> Response:
    """The units not signed off, with their status and their accounts' e-mails, as a file."""
    rows = [
        {
            "unit": unit.code,
            "name": unit.name,
            "status": label(status),
            "deadline": period.deadline.isoformat(),
            "accounts": "; ".join(user.email for user in users),
        }
        for unit, status, users in waiting(evaluation_round, period)
    ]
    table = pd.DataFrame(rows, columns=["unit", "name", "status", "deadline", "accounts"])
    return table_file(table, f"reminders-{evaluation_round.code}-{period.code}")


#: the days before a period's deadline on which the units not signed off are reminded, by the daily timer
REMIND_DAYS_BEFORE = (7, 1)


def remind_due(today: date, days_before: tuple[int, ...] = REMIND_DAYS_BEFORE) -> int:
    """Remind, through the outbox, every unit not signed off in every open round whose period's deadline is
    ``days_before`` days away (``flask reporting remind-due``, daily: each reminder goes once, on its day).

    :return: how many e-mails were queued
    """
    due = [today + timedelta(days=days) for days in days_before]
    queued = 0
    for period in db.session.scalars(select(ReportingPeriod).where(ReportingPeriod.deadline.in_(due))):
        if period.evaluation_round.status != RoundStatus.PUBLISHED:
            queued += remind(period.evaluation_round, period, actor=None)
    return queued
