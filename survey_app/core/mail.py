"""E-mail through the outbox, when the deployment configures an SMTP server (``SMTP_HOST``); without one the
service offers the same messages as a list to download, and nothing pretends to have been sent.

A message is a row of ``outbox_messages`` written in the transaction of the change that sends it (``queue``)
and leaves only once that transaction is committed (``deliver``): right after the request's commit, by the
request's boundary (``survey_app._transaction_boundary``), and by ``flask outbox send`` (cron or a worker) for
whatever is still waiting. A request whose commit fails sends nothing.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select

from survey_app.core.extensions import db
from survey_app.core.outbox import OutboxMessage
from survey_app.core.types import utcnow

#: the kind of outbox row this module sends
KIND = "mail"
#: the session's ``info`` key holding the ids of the rows queued in its transaction, which the boundary sends
#: once that transaction is committed
QUEUED = "outbox_queued"
#: a server refusing one message (its recipient, sender or content) still takes the next ones
_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Delivery:
    """What a sender did: messages sent, messages kept for another try, and why the last try failed."""

    sent: int
    failed: int
    error: str | None = None


def configured(config: Mapping) -> bool:
    return bool(config.get("SMTP_HOST"))


def queue(messages: list[Mail]) -> list[OutboxMessage]:
    """Write the messages to the outbox in the session's transaction: they leave once it is committed, and
    never if it is rolled back.

    :return: the outbox rows, flushed
    """
    rows = [
        OutboxMessage(kind=KIND, recipient=mail.to, payload={"subject": mail.subject, "body": mail.body})
        for mail in messages
    ]
    db.session.add_all(rows)
    db.session.flush()
    db.session.info.setdefault(QUEUED, []).extend(row.id for row in rows)
    return rows


def take_queued() -> list[int]:
    """The ids of the rows queued in the session since the last call (the boundary asks once the request's
    transaction has ended, to send them after a commit and to forget them after a rollback)."""
    return db.session.info.pop(QUEUED, [])


def deliver(config: Mapping, ids: list[int] | None = None) -> Delivery:
    """Send the outbox's waiting e-mails (or those of ``ids`` still waiting) over one SMTP connection, and mark
    each sent. The caller commits: the rows stay locked until then.

    A message leaves once: a row that another sender holds is skipped (``SKIP LOCKED``), a row marked sent is
    never taken again. A failed message keeps its row, with the error and the count of attempts, for the next
    run. Only if the commit that marks a message sent fails can that message leave a second time.
    """
    if not configured(config):
        return Delivery(0, 0)
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.kind == KIND, OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.id)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    waiting = list(db.session.scalars(query))
    if not waiting:
        return Delivery(0, 0)
    sent, failed, error = 0, 0, None
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587), timeout=20) as server:
            if config.get("SMTP_STARTTLS", True):
                server.starttls()
            if config.get("SMTP_USER"):
                server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            while waiting:
                row = waiting[0]
                try:
                    server.send_message(_message(config, row))
                except _REFUSED as refused:
                    error = _note_failure(row, refused)
                    failed += 1
                else:
                    row.sent_at, row.error, row.attempts = utcnow(), None, row.attempts + 1
                    sent += 1
                waiting.pop(0)
    except (OSError, smtplib.SMTPException) as problem:
        for row in waiting:
            error = _note_failure(row, problem)
        failed += len(waiting)
    db.session.flush()
    return Delivery(sent, failed, error)


def _message(config: Mapping, row: OutboxMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config["SMTP_SENDER"], row.recipient, row.payload["subject"]
    message.set_content(row.payload["body"])
    return message


def _note_failure(row: OutboxMessage, error: Exception) -> str:
    row.attempts += 1
    row.error = f"{type(error).__name__}: {error}"[:500]
    return row.error
