"""Login, sessions, CSRF, the login rate limit and the security headers."""

from datetime import timedelta

from sqlalchemy import func, select

from survey_app.accounts.models import StaffSession, User
from survey_app.audit.models import AuditEvent
from survey_app.core.app import create_app
from survey_app.core.extensions import db
from tests.conftest import PASSWORD, csrf_token


def _post_login(client, email, password):
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    )


def test_password_is_stored_as_argon2id(create_user):
    user = create_user()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_opens_a_server_side_session(client, create_user):
    user = create_user()
    response = _post_login(client, user.email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert db.session.scalar(select(func.count(StaffSession.id))) == 1
    assert client.get("/dashboard").status_code == 200
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.actor == user.email)) == "auth.login"


def test_wrong_password_is_refused_translated_and_audited(client, create_user):
    user = create_user()
    response = _post_login(client, user.email, "wrong password!!")
    assert response.status_code == 200
    assert "Thư điện tử hoặc mật khẩu không đúng." in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
    assert [e.actor for e in events] == [user.email]


def test_login_redirect_stays_on_site(client, create_user):
    user = create_user()
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")},
    )
    assert response.headers["Location"] == "/dashboard"


def test_login_rotates_the_session(client, create_user):
    user = create_user()
    csrf_token(client, "/login")
    before = client.get_cookie("dti_session").value
    _post_login(client, user.email, PASSWORD)
    assert client.get_cookie("dti_session").value != before


def test_logout_makes_the_old_cookie_useless(app, client, create_user):
    user = create_user()
    _post_login(client, user.email, PASSWORD)
    stolen = client.get_cookie("dti_session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    assert db.session.scalar(select(func.count(StaffSession.id))) == 0
    thief = app.test_client()
    thief.set_cookie("dti_session", stolen, domain="localhost")
    response = thief.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_idle_session_expires(client, create_user):
    user = create_user()
    _post_login(client, user.email, PASSWORD)
    staff_session = db.session.scalar(select(StaffSession))
    staff_session.last_seen_at -= timedelta(minutes=31)
    db.session.commit()
    assert client.get("/dashboard").status_code == 302
    assert db.session.scalar(select(func.count(StaffSession.id))) == 0


def test_deactivated_account_cannot_log_in(client, create_user):
    user = create_user()
    user.active = False
    db.session.commit()
    assert _post_login(client, user.email, PASSWORD).status_code == 200
    assert client.get("/dashboard").status_code == 302


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, create_user, login):
    admin = create_user()
    login(admin)
    response = client.post(
        "/users/new",
        data={"name": "X", "email": "new@example.gov.vn", "role": "viewer", "password": "long enough password"},
    )
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_login_without_csrf_token_is_refused(client, create_user):
    user = create_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_login_rate_limit_counts_failures_per_address_and_account(client, create_user):
    user = create_user()
    other = create_user()
    for _ in range(5):
        assert _post_login(client, user.email, "wrong password!!").status_code == 200
    response = _post_login(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert "Quá nhiều yêu cầu" in response.get_data(as_text=True)
    # a colleague behind the same address is not locked out
    assert _post_login(client, other.email, PASSWORD).status_code == 302


def test_successful_logins_do_not_count_towards_the_limit(app, client, create_user):
    user = create_user()
    for _ in range(8):
        assert _post_login(client, user.email, PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})


def test_security_headers_on_every_kind_of_page(client, create_user, login):
    pages = ["/", "/login", "/no-such-page", "/api/health"]
    login(create_user())
    pages += ["/dashboard", "/frameworks/"]
    for page in pages:
        headers = client.get(page).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], page
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_production_settings_harden_the_cookie_and_send_hsts(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        db.engine.dispose()


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, database_url):
    import pytest

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
