"""Units' own accounts: created by an administrator or the unit's approver, opened by a one-time link; the TOTP
second factor any account may enrol and a signatory must, asked at login, a code accepted once, guessing locked."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from survey_app.accounts import second_factor
from survey_app.accounts.models import AccountInvitation, StaffSession, User
from survey_app.core.extensions import db
from survey_app.core.outbox import OutboxMessage
from survey_app.core.types import utcnow
from tests.conftest import PASSWORD, csrf_token

NEW_PASSWORD = "mật khẩu mới đủ dài 2023"


@pytest.fixture
def provinces(app):
    from survey_app.units import operations as units

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    db.session.commit()
    return {unit.code: unit for unit in unit_list.units}


def _form(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/login"), **data})


def _link(page: str) -> str:
    return re.search(r"<code>https?://[^/]+(/invitation/[^<]+)</code>", page).group(1)


def test_an_administrator_creates_a_unit_account_whose_link_sets_the_password_once(
    app, client, create_user, login, provinces
):
    login(create_user("administrator"))
    hanoi = provinces["01"]
    answer = _form(
        client, f"/unit-accounts/{hanoi.id}", {"name": "Nguyễn Văn A", "email": "A@hanoi.gov.vn", "role": "reporter"}
    )
    assert answer.status_code == 200
    link = _link(answer.get_data(as_text=True))
    user = db.session.scalar(select(User).where(User.email == "a@hanoi.gov.vn"))
    assert (user.role, user.unit_id) == ("reporter", hanoi.id)
    # an unknown role, or an e-mail already taken, is refused beside the field
    for data in ({"role": "administrator", "email": "b@hanoi.gov.vn"}, {"role": "approver", "email": "a@hanoi.gov.vn"}):
        assert _form(client, f"/unit-accounts/{hanoi.id}", {"name": "B", **data}).status_code == 400

    holder = app.test_client()
    assert holder.get(link).status_code == 200
    token = csrf_token(holder, link)
    differ = holder.post(link, data={"password": NEW_PASSWORD, "repeated": "other", "csrf_token": token})
    weak = holder.post(link, data={"password": "short", "repeated": "short", "csrf_token": token})
    assert differ.status_code == weak.status_code == 400
    assert (
        holder.post(link, data={"password": NEW_PASSWORD, "repeated": NEW_PASSWORD, "csrf_token": token}).status_code
        == 302
    )
    # used: the link opens nothing any more, and the password works
    assert holder.get(link).status_code == 404
    answer = holder.post(
        "/login", data={"email": "a@hanoi.gov.vn", "password": NEW_PASSWORD, "csrf_token": csrf_token(holder, "/login")}
    )
    assert answer.headers["Location"] == "/reporting/"


def test_an_expired_link_opens_nothing(app, client, provinces):
    from survey_app.accounts import unit_accounts

    _, token = unit_accounts.create_unit_account(provinces["01"], "x@hanoi.gov.vn", "X", "overseer", actor=None)
    invitation = db.session.scalar(select(AccountInvitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"/invitation/{token}").status_code == 404


def test_an_approver_manages_its_own_units_accounts_only_and_the_link_goes_by_mail(app, client, provinces, login):
    from survey_app.accounts import operations as accounts
    from survey_app.accounts import unit_accounts

    approver, _ = unit_accounts.create_unit_account(provinces["01"], "duyet@hanoi.gov.vn", "D", "approver", actor=None)
    accounts.set_password(approver, PASSWORD, actor=None)
    db.session.commit()
    app.config["SMTP_HOST"] = "smtp.invalid"
    login(approver)
    answer = _form(
        client, f"/unit-accounts/{provinces['01'].id}", {"name": "K", "email": "ky@hanoi.gov.vn", "role": "signatory"}
    )
    assert answer.status_code == 200
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "ky@hanoi.gov.vn"))
    assert "/invitation/" in mail.payload["body"]
    assert "/invitation/" not in answer.get_data(as_text=True)  # sent, not shown
    other = provinces["02"].id
    assert client.get(f"/unit-accounts/{other}").status_code == 403
    refused = _form(client, f"/unit-accounts/{other}", {"name": "K", "email": "k2@x.gov.vn", "role": "reporter"})
    assert refused.status_code == 403
    assert db.session.scalar(select(User).where(User.email == "k2@x.gov.vn")) is None
    assert client.get("/unit-accounts/").status_code == 403  # the list of every unit's accounts is staff's


def _enrol(client) -> str:
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    assert "otpauth://totp/DTI:" in page and f"secret={secret}" in page
    return secret


def test_any_account_enrols_and_then_logs_in_with_a_code(app, client, create_user, login):
    user = create_user("viewer")
    login(user)
    secret = _enrol(client)
    token = csrf_token(client, "/dashboard")
    wrong = client.post("/account/second-factor", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 400
    db.session.refresh(user)
    assert user.totp_secret is None
    enrolled_with = pyotp.TOTP(secret).now()
    assert client.post("/account/second-factor", data={"code": enrolled_with, "csrf_token": token}).status_code == 302
    db.session.refresh(user)
    assert user.totp_secret == secret

    again = app.test_client()
    answer = again.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(again, "/login")}
    )
    assert answer.headers["Location"] == "/login/code"
    assert again.get("/dashboard").status_code == 302  # not logged in before the code
    # the code just used is not accepted a second time
    # (the very code typed at enrolment: a new 30-second window may have begun since, whose code would be fresh)
    used = again.post("/login/code", data={"code": enrolled_with, "csrf_token": csrf_token(again, "/login/code")})
    assert used.status_code == 400


def test_wrong_codes_lock_the_second_factor(app, client, create_user):
    user = create_user("viewer")
    secret = pyotp.random_base32()
    user.totp_secret = secret
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")})
    token = csrf_token(client, "/login/code")
    for _ in range(second_factor.MAX_FAILURES):
        assert client.post(
            "/login/code",
            data={"code": "123456" if pyotp.TOTP(secret).now() != "123456" else "654321", "csrf_token": token},
        ).status_code in (400, 429)
    db.session.refresh(user)
    assert user.totp_locked_until is not None and user.totp_locked_until > utcnow()
    # locked: even the right code is refused, and no session was opened
    right = client.post("/login/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert right.status_code in (400, 429)
    assert db.session.scalar(select(StaffSession).where(StaffSession.user_id == user.id)) is None


def test_a_signatory_without_a_second_factor_is_sent_to_enrol(app, client, provinces):
    from survey_app.accounts import operations as accounts
    from survey_app.accounts import unit_accounts

    signatory, _ = unit_accounts.create_unit_account(provinces["01"], "ky@hanoi.gov.vn", "K", "signatory", actor=None)
    accounts.set_password(signatory, PASSWORD, actor=None)
    db.session.commit()
    answer = client.post(
        "/login", data={"email": signatory.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    )
    assert answer.headers["Location"] == "/account/second-factor"
    secret = _enrol(client)
    token = csrf_token(client, "/account/second-factor")
    enrolled_with = pyotp.TOTP(secret).now()
    assert client.post("/account/second-factor", data={"code": enrolled_with, "csrf_token": token}).status_code == 302
    # enrolling verified this session: a sign-off may follow
    staff_session = db.session.scalar(select(StaffSession).where(StaffSession.user_id == signatory.id))
    assert staff_session.second_factor_at is not None


def test_an_approver_closes_an_account_of_its_unit_only(app, client, provinces, login):
    from survey_app.accounts import operations as accounts
    from survey_app.accounts import unit_accounts

    made = {}
    for code, role in (("01", "approver"), ("01", "reporter"), ("02", "reporter")):
        user, _ = unit_accounts.create_unit_account(provinces[code], f"{role}.{code}@x.gov.vn", role, role, actor=None)
        accounts.set_password(user, PASSWORD, actor=None)
        made[code, role] = user
    db.session.commit()
    reporter = app.test_client()
    reporter.post(
        "/login",
        data={"email": "reporter.01@x.gov.vn", "password": PASSWORD, "csrf_token": csrf_token(reporter, "/login")},
    )
    assert reporter.get("/reporting/").status_code == 200
    login(made["01", "approver"])
    hanoi, hagiang = provinces["01"].id, provinces["02"].id
    other = made["02", "reporter"].id
    assert _form(client, f"/unit-accounts/{hagiang}/{other}/active", {"active": "0"}).status_code == 403
    # an account of another unit named under one's own unit is not found
    assert _form(client, f"/unit-accounts/{hanoi}/{other}/active", {"active": "0"}).status_code == 404
    closed = _form(client, f"/unit-accounts/{hanoi}/{made['01', 'reporter'].id}/active", {"active": "0"})
    assert closed.status_code == 302
    db.session.expire_all()
    assert made["01", "reporter"].active is False and made["02", "reporter"].active is True
    # its session ends at once
    assert reporter.get("/reporting/").status_code == 302
