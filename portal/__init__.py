"""Ward staff wellbeing and scheduling portal: the application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages, CLI."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    from portal.config import load_config

    load_config(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_security_headers(app)
    from portal.errors import register_error_handlers

    register_error_handlers(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal import jobs
    from portal.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    jobs.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine)

    from portal.models import User

    @login_manager.user_loader
    def load_user(identity: str) -> User | None:
        user_id, _, version = identity.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or user.session_version != int(version):
            return None
        return user


def _configure_sqlite(engine: Any) -> None:
    """Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.

    Python's sqlite3 module starts transactions lazily and commits on its own around DDL,
    which breaks savepoints and "one commit per request". SQLAlchemy's documented recipe
    hands transaction control back: no implicit handling, an explicit BEGIN. WAL lets
    readers work while the worker writes; foreign keys are enforced as on PostgreSQL.
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def register_blueprints(app: Flask) -> None:
    from portal.accounts import bp as accounts_bp
    from portal.admin import bp as admin_bp
    from portal.main import bp as main_bp

    for bp in (main_bp, accounts_bp, admin_bp):
        app.register_blueprint(bp)
    for name in ("scheduling", "recognition", "training", "wellbeing"):
        module = _optional_feature(name)
        if module is not None:
            app.register_blueprint(module.bp)


def _optional_feature(name: str):
    """Import a feature blueprint package if it has one (features land one at a time)."""
    import importlib

    try:
        module = importlib.import_module(f"portal.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"portal.{name}":
            return None
        raise
    return module if hasattr(module, "bp") else None


def register_template_helpers(app: Flask) -> None:
    from flask_login import current_user

    from portal import policy
    from portal.timeutil import local_today

    @app.template_filter("local_datetime")
    def local_datetime(value):
        """Show a stored UTC time in the hospital's zone."""
        from portal.timeutil import hospital_zone

        if value is None:
            return ""
        return value.astimezone(hospital_zone()).strftime("%-d %b %Y, %H:%M")

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "policy": policy,
            "organisation_name": app.config["PORTAL_ORGANISATION"],
            "today": local_today(),
            "nav_items": _nav_items(current_user),
        }

    def _nav_items(user: Any) -> list[tuple[str, str]]:
        items = [("main.home", "Home")]
        if getattr(user, "is_authenticated", False):
            for feature_nav in app.extensions.get("portal_nav", []):
                items.extend(feature_nav(user))
            if user.is_admin:
                items.append(("admin.index", "Admin"))
        return items


def register_nav(app: Flask, items: Any) -> None:
    """Let a feature add menu entries: ``items(user) -> [(endpoint, label), ...]``."""
    app.extensions.setdefault("portal_nav", []).append(items)


def register_home_section(app: Flask, section: Any) -> None:
    """Let a feature add a block to the home page: ``section(user) -> HTML or None``."""
    app.extensions.setdefault("portal_home_sections", []).append(section)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        return response
