"""Every account flow: sign in and out, lock-out, password change, invitations and resets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.services import (
    AccountError,
    LoginPolicy,
    authenticate,
    find_valid_token,
    issue_token,
)
from portal.extensions import db
from portal.models import AuditEvent, TokenPurpose, User, utcnow
from tests import factories
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD

GENERIC = "The e-mail address or password is not right, or the account is locked."


def _sign_in(client, email, password):
    token = csrf_token_from(client.get("/account/sign-in").get_data(as_text=True))
    return client.post("/account/sign-in", data={"email": email, "password": password, "csrf_token": token})


def test_sign_in_and_out(client, users):
    response = _sign_in(client, "nurse@example.test", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert "Hello, Nina" in client.get("/").get_data(as_text=True)
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    client.post("/account/sign-out", data={"csrf_token": token})
    assert client.get("/").status_code == 302


def test_email_is_case_insensitive(client, users):
    assert _sign_in(client, "  NURSE@Example.test ", PASSWORD).status_code == 302


@pytest.mark.parametrize("email,password", [
    ("nurse@example.test", "wrong-password"),
    ("nobody@example.test", PASSWORD),
])
def test_wrong_credentials_give_one_generic_message(client, users, email, password):
    response = _sign_in(client, email, password)
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert GENERIC in body
    assert email.strip() in body  # the typed e-mail is kept in the form


def test_empty_form_re_renders_with_field_errors(client, users):
    response = _sign_in(client, "", "")
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)


def test_lock_out_after_repeated_failures(app, client, users):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _sign_in(client, "nurse@example.test", "wrong-password").status_code == 401
    # Locked: even the right password is refused, with the lock explained.
    response = _sign_in(client, "nurse@example.test", PASSWORD)
    assert response.status_code == 401
    assert "locked for a short while" in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "nurse@example.test"))
    db.session.refresh(user)
    assert user.locked_until is not None
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))))
    assert "account.locked" in actions


def test_lock_expires(app, users):
    policy = LoginPolicy(max_failures=2, lockout=timedelta(minutes=15))
    now = utcnow()
    for _ in range(2):
        with pytest.raises(AccountError):
            authenticate("nurse@example.test", "bad-password", policy, now=now)
    with pytest.raises(AccountError, match="locked"):
        authenticate("nurse@example.test", PASSWORD, policy, now=now + timedelta(minutes=5))
    user = authenticate("nurse@example.test", PASSWORD, policy, now=now + timedelta(minutes=16))
    assert user.email == "nurse@example.test" and user.failed_logins == 0


def test_deactivated_staff_cannot_sign_in(client, users):
    users["nurse"].staff.is_active = False
    db.session.flush()
    assert _sign_in(client, "nurse@example.test", PASSWORD).status_code == 401


def test_session_is_renewed_on_sign_in(client, users):
    client.get("/account/sign-in")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    _sign_in(client, "nurse@example.test", PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == users["nurse"].get_id()


def test_sign_in_redirects_only_to_local_pages(client, users):
    token = csrf_token_from(client.get("/account/sign-in").get_data(as_text=True))
    data = {"email": "nurse@example.test", "password": PASSWORD, "csrf_token": token}
    response = client.post("/account/sign-in?next=//evil.example/x", data=data)
    assert response.headers["Location"] == "/"


def test_sign_in_is_rate_limited(client, users):
    token = csrf_token_from(client.get("/account/sign-in").get_data(as_text=True))
    codes = [
        client.post("/account/sign-in", data={"email": f"x{i}@example.test", "password": "p", "csrf_token": token}).status_code
        for i in range(25)
    ]
    assert codes[:20] == [401] * 20
    assert 429 in codes[20:]


def _change_password(client, current, new, confirm=None):
    token = csrf_token_from(client.get("/account/password").get_data(as_text=True))
    return client.post("/account/password", data={
        "current": current, "password": new, "confirm": confirm or new, "csrf_token": token})


def test_change_password_checks_the_current_one(login_as):
    client = login_as("nurse")
    response = _change_password(client, "not-my-password", "a-brand-new-password")
    assert "That is not your current password." in response.get_data(as_text=True)


def test_change_password_rejects_mismatch_and_short(login_as):
    client = login_as("nurse")
    body = _change_password(client, PASSWORD, "a-brand-new-password", "something-else").get_data(as_text=True)
    assert "The two passwords differ." in body
    body = _change_password(client, PASSWORD, "short").get_data(as_text=True)
    assert "at least 10 characters" in body.lower() or "Field must be at least 10 characters" in body


def test_change_password_signs_out_other_sessions(app, login, users):
    first = login("nurse@example.test")
    second = login("nurse@example.test", using=app.test_client())
    response = _change_password(first, PASSWORD, "a-brand-new-password")
    assert response.status_code == 302
    assert first.get("/").status_code == 200  # this device stays signed in
    assert second.get("/").status_code == 302  # the other one is signed out
    fresh = app.test_client()
    assert _sign_in(fresh, "nurse@example.test", "a-brand-new-password").status_code == 302


def test_invitation_flow(app, client, org, ward, users, login):
    invited = factories.create_staff(org, ward, "Ivy Invited", email="ivy@example.test", password=False)
    admin = login("admin@example.test", using=app.test_client())
    token = csrf_token_from(admin.get(f"/admin/staff/{invited.id}").get_data(as_text=True))
    admin.post(f"/admin/staff/{invited.id}/link", data={"csrf_token": token})
    page = admin.get(f"/admin/staff/{invited.id}").get_data(as_text=True)
    assert "Invitation link" in page
    link = page.split('id="one-time-link">')[1].split("<")[0]
    path = link[link.index("/account/invite/"):]
    # The link is shown once only.
    assert "one-time-link" not in admin.get(f"/admin/staff/{invited.id}").get_data(as_text=True)

    form = client.get(path)
    assert "Welcome, Ivy Invited" in form.get_data(as_text=True)
    token = csrf_token_from(form.get_data(as_text=True))
    bad = client.post(path, data={"password": "mismatch-one", "confirm": "mismatch-two", "csrf_token": token})
    assert "The two passwords differ." in bad.get_data(as_text=True)
    done = client.post(path, data={"password": "ivy-chosen-password", "confirm": "ivy-chosen-password", "csrf_token": token})
    assert done.status_code == 302
    assert "Hello, Ivy" in client.get("/").get_data(as_text=True)
    # Spent: the same link no longer works.
    assert app.test_client().get(path).status_code == 410


def test_reset_link_expires_and_is_single_use(users):
    secret = issue_token(users["nurse"], TokenPurpose.RESET, actor=users["admin"], lifetime=timedelta(hours=1))
    assert find_valid_token(secret, TokenPurpose.RESET) is not None
    assert find_valid_token(secret, TokenPurpose.INVITE) is None  # purpose must match
    newer = issue_token(users["nurse"], TokenPurpose.RESET, actor=users["admin"], lifetime=timedelta(hours=1))
    assert find_valid_token(secret, TokenPurpose.RESET) is None  # superseded
    token = find_valid_token(newer, TokenPurpose.RESET)
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert find_valid_token(newer, TokenPurpose.RESET) is None


def test_reset_through_the_page(client, users):
    secret = issue_token(users["nurse"], TokenPurpose.RESET, actor=users["admin"], lifetime=timedelta(hours=1))
    path = f"/account/reset/{secret}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    response = client.post(path, data={"password": "reset-password-ok", "confirm": "reset-password-ok", "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_unknown_link_is_refused(client):
    response = client.get("/account/reset/not-a-real-secret")
    assert response.status_code == 410
    assert "no longer valid" in response.get_data(as_text=True)
