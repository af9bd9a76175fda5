"""Account views: thin wrappers around the account services."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import bp
from portal.accounts.forms import ChangePasswordForm, LoginForm, NewPasswordForm
from portal.accounts.services import (
    AccountError,
    LoginPolicy,
    authenticate,
    find_valid_token,
    redeem_token,
    set_password,
    verify_password,
)
from portal.extensions import db, limiter
from portal.models import TokenPurpose


def _safe_next(target: str | None) -> str:
    """Only follow local redirects after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        policy = LoginPolicy(
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lockout=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
        )
        try:
            user = authenticate(form.email.data, form.password.data, policy)
        except AccountError as exc:
            db.session.commit()  # keep the failure count
            form.password.errors.append(str(exc))
            return render_template("accounts/login.html", form=form), 401
        db.session.commit()
        session.clear()  # a fresh session on sign-in: no fixation
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.route("/sign-out", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.password_hash or not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            try:
                set_password(current_user, form.password.data)
            except AccountError as exc:
                form.password.errors.append(str(exc))
            else:
                db.session.commit()
                login_user(current_user)  # stay signed in here; other sessions end
                flash("Your password has been changed. Other devices have been signed out.", "success")
                return redirect(url_for("main.home"))
    return render_template("accounts/change_password.html", form=form)


def _token_view(purpose: TokenPurpose, secret: str, template: str):
    token = find_valid_token(secret, purpose)
    if token is None:
        return render_template("accounts/link_invalid.html"), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = redeem_token(secret, purpose, form.password.data)
        except AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            flash("Your password is set. Welcome.", "success")
            return redirect(url_for("main.home"))
    return render_template(template, form=form, user=token.user)


@bp.route("/invite/<secret>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def accept_invite(secret: str):
    return _token_view(TokenPurpose.INVITE, secret, "accounts/accept_invite.html")


@bp.route("/reset/<secret>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def reset_password(secret: str):
    return _token_view(TokenPurpose.RESET, secret, "accounts/reset_password.html")
