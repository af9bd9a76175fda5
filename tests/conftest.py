"""Fixtures for the whole suite: app, database with per-test rollback, clients and factories.

The suite runs on SQLite by default and on PostgreSQL when ``DATABASE_URL`` is set (as
.ci/run does). Each test runs inside a transaction that is rolled back afterwards, so tests
never see each other's rows; views still call ``commit()``, which ends a savepoint.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession

from portal import create_app
from portal.extensions import db as _db
from portal.extensions import limiter
from tests import factories
from tests.support import drop_database, fresh_database

from tests.factories import PASSWORD


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database(tmp_path_factory.mktemp("db"), "suite")
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instance")


class ConnectionBoundSession(FlaskSQLAlchemySession):
    """A session that uses the test's connection for every table (Flask-SQLAlchemy would
    otherwise pick the engine by bind key and escape the test's transaction)."""

    def get_bind(self, *args: Any, **kwargs: Any):
        if self.bind is not None:
            return self.bind
        return super().get_bind(*args, **kwargs)


class FreshContextClient(FlaskClient):
    """Run each request in its own app context, as a real server does.

    The tests hold an app context open; without this, requests would share its ``g``
    (and so the signed-in user) and its database session.
    """

    def open(self, *args: Any, **kwargs: Any):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_test_app(database_url: str, instance_path: Path, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "JOBS_IMMEDIATE": True,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "SERVER_NAME": "portal.test",
        # Cheap hashing keeps the suite fast; production uses argon2's defaults.
        "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        **overrides,
    }
    app = create_app(config)
    app.instance_path = str(instance_path)
    app.test_client_class = FreshContextClient
    return app


@pytest.fixture(scope="session")
def _schema(database_url: str, instance_path: Path) -> None:
    app = make_test_app(database_url, instance_path)
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        _db.engine.dispose()


@pytest.fixture
def app(_schema: None, database_url: str, instance_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    overrides = getattr(request, "param", None) or {}
    marker = request.node.get_closest_marker("app_config")
    if marker:
        overrides = {**overrides, **marker.kwargs}
    application = make_test_app(database_url, instance_path, **overrides)
    # One Limiter object serves every app in this process and keeps its counters in the
    # storage (Redis when REDIS_URL is set), so each test starts from clean counters.
    limiter.reset()
    with application.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": ConnectionBoundSession}
        )
        try:
            yield application
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def db(app: Flask):
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def org(db):
    return factories.create_organisation()


@pytest.fixture
def ward(org):
    return factories.create_ward(org, "Ward 7", "W7")


@pytest.fixture
def other_ward(org):
    return factories.create_ward(org, "Ward 12", "W12")


@pytest.fixture
def users(org, ward, other_ward) -> dict[str, Any]:
    """One account per role the permission checks care about."""
    nurse = factories.create_staff(org, ward, "Nina Nurse", email="nurse@example.test")
    manager = factories.create_staff(org, ward, "Mo Manager", email="manager@example.test", manages=[ward])
    other_manager = factories.create_staff(
        org, other_ward, "Olu Other", email="other@example.test", manages=[other_ward]
    )
    admin = factories.create_admin("admin@example.test")
    return {"nurse": nurse.user, "manager": manager.user, "other_manager": other_manager.user, "admin": admin}


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@pytest.fixture
def login(client: FlaskClient) -> Callable[[str], FlaskClient]:
    """Sign in through the real form (CSRF included) and return the client."""

    def _login(email: str, password: str = PASSWORD, *, using: FlaskClient | None = None) -> FlaskClient:
        browser = using or client
        page = browser.get("/account/sign-in")
        token = csrf_token_from(page.get_data(as_text=True))
        response = browser.post(
            "/account/sign-in", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return browser

    return _login


@pytest.fixture
def login_as(login: Callable[[str], FlaskClient], users: dict[str, Any]) -> Callable[[str], FlaskClient]:
    """Sign in as one of the standard roles: nurse, manager, other_manager, admin."""

    def _login_as(role: str) -> FlaskClient:
        return login(users[role].email)

    return _login_as


def post_form(client: FlaskClient, url: str, data: dict[str, Any] | None = None, page: str | None = None, **kwargs: Any):
    """POST with the CSRF token taken from ``page`` (or from ``url`` itself)."""
    html = client.get(page or url).get_data(as_text=True)
    payload = {"csrf_token": csrf_token_from(html), **(data or {})}
    return client.post(url, data=payload, **kwargs)


@pytest.fixture
def post(client: FlaskClient):
    return lambda url, data=None, page=None, **kw: post_form(client, url, data, page, **kw)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "app_config(**config): override the app config for one test")
