"""E-mail, when the deployment configures an SMTP server (``SMTP_HOST``); without one the service offers the
same messages as a list to download, and nothing pretends to have been sent."""
from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Mapping

from survey_app.services import ServiceError


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def configured(config: Mapping) -> bool:
    return bool(config.get("SMTP_HOST"))


def send(config: Mapping, messages: list[Mail]) -> int:
    """Send the messages over one SMTP connection.

    :return: how many were sent
    :raises ServiceError: ``mail_failed`` when the server cannot be reached or refuses
    """
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587), timeout=20) as server:
            if config.get("SMTP_STARTTLS", True):
                server.starttls()
            if config.get("SMTP_USER"):
                server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            for mail in messages:
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = config["SMTP_SENDER"], mail.to, mail.subject
                message.set_content(mail.body)
                server.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise ServiceError("mail_failed", reason=str(error)[:200])
    return len(messages)
