"""Home, notifications and health check."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from portal.extensions import db
from portal.forms import ConfirmForm
from portal.main import bp
from portal.main.services import home_summary, mark_all_read, notifications_for


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return render_template("main/home.html", summary=home_summary(current_user))


@bp.route("/notifications")
@login_required
def notifications():
    return render_template(
        "main/notifications.html", items=notifications_for(current_user), form=ConfirmForm()
    )


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_notifications_read():
    if ConfirmForm().validate_on_submit():
        mark_all_read(current_user)
        db.session.commit()
    return redirect(url_for("main.notifications"))


@bp.route("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
