"""The app factory, configuration and error pages."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.config import _database_url
from tests.conftest import csrf_token_from


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")

    from flask import Flask

    from portal.config import load_config

    first, second = Flask("a", instance_path=str(tmp_path)), Flask("b", instance_path=str(tmp_path))
    load_config(first, None)
    load_config(second, None)
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert len(first.config["SECRET_KEY"]) >= 64


def test_environment_secret_key_wins(tmp_path, monkeypatch):
    from flask import Flask

    from portal.config import load_config

    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = Flask("a", instance_path=str(tmp_path))
    load_config(app, None)
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert _database_url(tmp_path) == f"sqlite:///{tmp_path / 'portal.sqlite'}"


@pytest.mark.parametrize("given", ["postgres://u@h/db", "postgresql://u@h/db"])
def test_postgres_urls_use_psycopg_3(tmp_path, monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    assert _database_url(tmp_path) == "postgresql+psycopg://u@h/db"


def test_unknown_time_zone_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("SECRET_KEY", "x")
    with pytest.raises(RuntimeError, match="Mars/Olympus"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})


def test_redis_url_switches_rate_limit_storage(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}", "SECRET_KEY": "x"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert type(app.extensions["huey"]).__name__ == "RedisHuey"


def test_embedded_queue_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}", "SECRET_KEY": "x"})
    assert type(app.extensions["huey"]).__name__ == "SqliteHuey"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_secure_cookies_when_behind_tls(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_SECURE_COOKIES", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}", "SECRET_KEY": "x"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_security_headers(client):
    response = client.get("/account/sign-in")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_unknown_url_gives_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Page not found" in body and "Traceback" not in body


def test_unexpected_error_gives_a_500_page_without_a_stack_trace(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in body
    assert "secret internals" not in body and "Traceback" not in body


def test_post_without_csrf_token_is_rejected(client, users):
    response = client.post("/account/sign-in", data={"email": "nurse@example.test", "password": "x"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_post_only_buttons_need_the_token_too(login_as):
    client = login_as("nurse")
    assert client.post("/account/sign-out").status_code == 400
    assert client.get("/").status_code == 200  # still signed in
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert client.post("/account/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_sign_out_is_post_only(login_as):
    client = login_as("nurse")
    assert client.get("/account/sign-out").status_code == 405
