"""Configuration: safe defaults, then the instance folder, then the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask


def _secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once and kept in the instance folder."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    # Written with owner-only permissions: it signs every session cookie.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{instance_path / 'portal.sqlite'}"
    # Accept the common postgres:// spellings and always use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_config(app: Flask, overrides: dict | None) -> None:
    """Fill app.config from defaults, instance/config.py, the environment and overrides."""
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        PORTAL_TIMEZONE="Europe/London",
        PORTAL_ORGANISATION="Demo Hospital NHS Trust",
        LOGIN_MAX_FAILURES=5,
        LOGIN_LOCKOUT_MINUTES=15,
        TOKEN_LIFETIME_HOURS=72,
        RATELIMIT_HEADERS_ENABLED=True,
        JOBS_IMMEDIATE=False,
    )
    app.config.from_pyfile("config.py", silent=True)
    env_map = {
        "PORTAL_TIMEZONE": "PORTAL_TIMEZONE",
        "REDIS_URL": "REDIS_URL",
        "PORTAL_BASE_URL": "BASE_URL",
        "MAIL_SERVER": "MAIL_SERVER",
    }
    for env_name, key in env_map.items():
        if env_name in os.environ:
            app.config[key] = os.environ[env_name]
    # Behind TLS (any real deployment) cookies must carry the Secure flag; the embedded run
    # on 127.0.0.1 serves plain HTTP, so the flag is switched on by configuration.
    if os.environ.get("PORTAL_SECURE_COOKIES") == "1":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if overrides:
        app.config.update(overrides)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", _database_url(instance_path))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance_path)
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    try:
        ZoneInfo(app.config["PORTAL_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuntimeError(f"PORTAL_TIMEZONE {app.config['PORTAL_TIMEZONE']!r} is not a known time zone") from exc
