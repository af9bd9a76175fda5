"""Account services: password hashing, sign-in with lock-out, one-time links."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import OneTimeToken, TokenPurpose, User, utcnow
from portal.services import record_audit

from functools import lru_cache

from flask import current_app, has_app_context


@lru_cache(maxsize=4)
def _hasher_for(parameters: tuple[tuple[str, int], ...]) -> PasswordHasher:
    return PasswordHasher(**dict(parameters))


def _hasher() -> PasswordHasher:
    """The argon2 hasher; ``ARGON2_PARAMETERS`` may tune it (the tests use cheap ones)."""
    parameters = current_app.config.get("ARGON2_PARAMETERS", {}) if has_app_context() else {}
    return _hasher_for(tuple(sorted(parameters.items())))


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verified when the e-mail is unknown so that timing does not reveal which addresses exist.
    return hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


class AccountError(Exception):
    """A refusal with a message fit to show the person."""


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password_strength(password: str, email: str = "") -> str | None:
    """Return why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if email and password.lower() == email.lower():
        return "Do not use your e-mail address as your password."
    if len(set(password)) < 4:
        return "Use a less repetitive password."
    return None


def set_password(user: User, password: str, *, actor: User | None = None) -> None:
    """Set a new password and sign the user out of every other session."""
    problem = check_password_strength(password, user.email)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    record_audit(actor or user, "account.password_set", user)


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int
    lockout: timedelta


def authenticate(email: str, password: str, policy: LoginPolicy, now: datetime | None = None) -> User:
    """Return the user for these credentials or raise AccountError with one generic message.

    Failures count toward a temporary lock-out; while locked, even the right password fails.
    """
    now = now or utcnow()
    generic = AccountError("The e-mail address or password is not right, or the account is locked.")
    user = find_user_by_email(email)
    if user is None or user.password_hash is None:
        verify_password(_dummy_hash(_hasher()), password)
        raise generic
    if user.locked_until is not None and user.locked_until > now:
        verify_password(_dummy_hash(_hasher()), password)
        record_audit(None, "account.login_while_locked", user)
        raise AccountError(
            "This account is locked for a short while after repeated failed sign-ins. "
            "Try again later or ask an administrator for a reset link."
        )
    if not verify_password(user.password_hash, password) or not user.is_active:
        user.failed_logins += 1
        if user.failed_logins >= policy.max_failures:
            user.locked_until = now + policy.lockout
            user.failed_logins = 0
            record_audit(None, "account.locked", user)
        db.session.flush()
        raise generic
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.flush()
    record_audit(user, "account.signed_in", user)
    return user


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, purpose: TokenPurpose, *, actor: User | None, lifetime: timedelta) -> str:
    """Create a one-time link secret; earlier unused links of the same purpose stop working."""
    for old in db.session.scalars(
        select(OneTimeToken).where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
    ):
        old.used_at = utcnow()
    secret = secrets.token_urlsafe(32)
    db.session.add(
        OneTimeToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_digest(secret),
            created_by_id=actor.id if actor else None,
            expires_at=utcnow() + lifetime,
        )
    )
    db.session.flush()
    record_audit(actor, f"account.{purpose.value}_issued", user)
    return secret


def find_valid_token(secret: str, purpose: TokenPurpose) -> OneTimeToken | None:
    token = db.session.scalar(select(OneTimeToken).where(OneTimeToken.token_hash == _digest(secret)))
    if token is None or token.purpose != purpose or token.used_at is not None:
        return None
    if token.expires_at <= utcnow():
        return None
    return token


def redeem_token(secret: str, purpose: TokenPurpose, new_password: str) -> User:
    """Set the password through a one-time link and spend the link."""
    token = find_valid_token(secret, purpose)
    if token is None:
        raise AccountError("This link has expired or has already been used. Ask an administrator for a new one.")
    set_password(token.user, new_password)
    token.used_at = utcnow()
    token.user.is_enabled = True
    db.session.flush()
    return token.user
