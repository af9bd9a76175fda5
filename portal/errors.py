"""Error pages: a clear message, never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.extensions import db

MESSAGES = {
    400: ("Something in that request was not right", "Go back, check the form and try again."),
    403: ("You do not have access to this page", "If you think you should, ask your ward manager or an administrator."),
    404: ("Page not found", "The address may be mistyped, or the page has moved."),
    405: ("That action is not allowed here", "Use the buttons on the page rather than typing the address."),
    410: ("This link is no longer valid", "Ask for a new one."),
    413: ("That upload is too large", "Files up to 8 MB are accepted."),
    429: ("Too many attempts", "Please wait a minute and try again."),
    500: ("Something went wrong on our side", "Nothing you did caused this. The error has been logged; please try again."),
}


def _render(code: int, title: str | None = None, detail: str | None = None):
    default_title, default_detail = MESSAGES.get(code, MESSAGES[500])
    if request.accept_mimetypes.best == "application/json":
        return {"error": title or default_title}, code
    return (
        render_template("errors/error.html", code=code, title=title or default_title, detail=detail or default_detail),
        code,
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _render(400, "This form has expired", "Reload the page and submit it again; nothing was saved.")

    @app.errorhandler(StaleDataError)
    def stale(exc: StaleDataError):
        db.session.rollback()
        return _render(409, "Someone else changed this at the same time", "Reload the page to see their change, then make yours again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _render(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500)
