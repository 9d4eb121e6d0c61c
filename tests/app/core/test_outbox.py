"""The outbox: e-mails are written in the request's transaction and leave only after its commit, once each;
a failed send stays for `flask outbox send`; sent e-mails are erased after their retention."""

import smtplib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from survey_app.core import mail
from survey_app.core.extensions import db
from survey_app.core.outbox import OutboxMessage
from survey_app.experts.models import ExpertForm
from survey_app.privacy import operations as privacy
from tests.conftest import csrf_token, expert_panel, row_counts


class FakeSMTP:
    """An SMTP server that records what it is given; ``down`` refuses the connection, ``refuse`` one
    recipient's message."""

    def __init__(self):
        self.sent, self.connections, self.down, self.refuse = [], 0, False, set()

    def __call__(self, host, port, timeout):
        if self.down:
            raise ConnectionRefusedError(111, "Connection refused")
        self.connections += 1
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def send_message(self, message):
        if message["To"] in self.refuse:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"No such user")})
        self.sent.append((message["To"], message["Subject"], message.get_content()))


@pytest.fixture
def smtp(app, monkeypatch):
    server = FakeSMTP()
    monkeypatch.setattr("smtplib.SMTP", server)
    app.config["SMTP_HOST"] = "mail.example.vn"
    return server


def _outbox() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_request_whose_commit_fails_sends_nothing_and_stores_nothing(
    survey, client, create_user, login, smtp, monkeypatch, runner
):
    _, panel, _ = expert_panel(survey.framework, links=False)
    db.session.commit()
    login(create_user("sample_designer"))
    token = csrf_token(client, "/resume")
    before = row_counts()

    def commit_fails(session):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    with monkeypatch.context() as patch:
        patch.setattr(Session, "commit", commit_fails)
        response = client.post(f"/experts/panels/{panel.id}/links", data={"csrf_token": token, "send": "1"})
    assert response.status_code == 503
    assert smtp.connections == 0 and smtp.sent == []
    assert row_counts() == before
    assert db.session.scalar(select(func.count(ExpertForm.id))) == 0
    # and nothing is left for a later run to send either
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert smtp.sent == []


def test_a_committed_requests_emails_leave_once_and_a_failed_send_is_retried(
    survey, client, create_user, login, smtp, runner
):
    _, panel, _ = expert_panel(survey.framework, links=False)
    db.session.commit()
    login(create_user("sample_designer"))
    token = csrf_token(client, "/resume")

    links = client.post(f"/experts/panels/{panel.id}/links", data={"csrf_token": token, "send": "1"})
    assert links.status_code == 200 and smtp.connections == 1 and len(smtp.sent) == 15
    assert all(message.sent_at is not None and message.attempts == 1 for message in _outbox())
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    assert smtp.connections == 1 and len(smtp.sent) == 15  # nothing leaves twice

    # the mail server is down: the reminders' links are stored all the same, their e-mails wait with the error
    smtp.down = True
    reminded = client.post(f"/experts/panels/{panel.id}/remind", data={"csrf_token": token})
    assert reminded.status_code == 302
    waiting = [message for message in _outbox() if message.sent_at is None]
    assert len(waiting) == 15 and len(smtp.sent) == 15
    assert all(m.attempts == 1 and "ConnectionRefusedError" in m.error for m in waiting)
    link = waiting[0].payload["body"].split("/e/", 1)[1].split()[0]
    assert client.get(f"/e/{link}").status_code == 302  # the link in the waiting e-mail works

    failed = runner.invoke(args=["outbox", "send"])
    assert failed.exit_code == 1 and "ConnectionRefusedError" in failed.output
    smtp.down = False
    smtp.refuse = {waiting[0].recipient}
    partly = runner.invoke(args=["outbox", "send"])
    assert partly.exit_code == 1 and "SMTPRecipientsRefused" in partly.output
    assert len(smtp.sent) == 15 + 14
    refused = next(m for m in _outbox() if m.id == waiting[0].id)
    assert refused.sent_at is None and refused.attempts == 3 and "550" in refused.error

    smtp.refuse = set()
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    assert len(smtp.sent) == 30 and all(message.sent_at is not None for message in _outbox())
    assert len({body for _, _, body in smtp.sent[15:]}) == 15  # each reminder once, with its own link


def test_a_message_another_sender_holds_is_left_to_it(app, smtp, runner):
    mail.queue([mail.Mail("a@example.vn", "Subject", "Body")])
    db.session.commit()
    with db.engine.connect() as other:
        other.execute(text("SELECT id FROM outbox_messages FOR UPDATE"))
        held = runner.invoke(args=["outbox", "send"])
        assert held.exit_code == 0 and smtp.sent == []
        other.rollback()
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    assert smtp.sent == [("a@example.vn", "Subject", "Body\n")]


def test_emails_are_erased_a_week_after_sending_or_a_month_after_queueing(app, runner):
    now = datetime.now(UTC)
    for address, queued, sent in [
        ("old-sent@example.vn", 9, 8),
        ("sent@example.vn", 3, 2),
        ("never@example.vn", 31, None),
        ("waiting@example.vn", 1, None),
    ]:
        db.session.add(
            OutboxMessage(
                kind="mail",
                recipient=address,
                payload={"subject": "S", "body": "B"},
                queued_at=now - timedelta(days=queued),
                sent_at=now - timedelta(days=sent) if sent else None,
            )
        )
    db.session.commit()
    result = runner.invoke(args=["privacy", "erase-expired"])
    assert result.exit_code == 0, result.output
    assert [message.recipient for message in _outbox()] == ["sent@example.vn", "waiting@example.vn"]
    assert privacy.erase_expired(date.today()) == privacy.Erased(0, 0, 0)


def test_a_persons_emails_are_found_and_erased_with_their_data(app, create_user):
    mail.queue(
        [
            mail.Mail("Nguoi.A@example.vn", "Subject", "Link: /e/secret"),
            mail.Mail("other@example.vn", "Subject", "Body"),
        ]
    )
    db.session.commit()
    records = privacy.find_person("nguoi.a@example.vn")
    assert [message.recipient for message in records.messages] == ["Nguoi.A@example.vn"]
    exported = privacy.export_person(records, actor=create_user("administrator"))
    assert exported["emails"][0]["to"] == "Nguoi.A@example.vn" and "secret" not in str(exported)
    assert privacy.erase_person(records, "Yêu cầu", actor=None).outbox_messages == 1
    db.session.commit()
    assert [message.recipient for message in _outbox()] == ["other@example.vn"]


def test_the_register_names_the_outbox(client, create_user, login):
    login(create_user("administrator"))
    assert "outbox_messages" in client.get("/privacy/").get_data(as_text=True)
