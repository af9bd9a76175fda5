"""Accounts: sign in and out, passwords, invitations and resets."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/account")

from portal.accounts import views  # noqa: E402,F401
