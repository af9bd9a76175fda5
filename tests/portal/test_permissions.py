"""The permission matrix: every route in app.url_map, for every role.

Each feature lists its routes in ``tests/portal/<feature>/route_cases.py`` (``CASES``, and
``BUILDERS`` for the objects its URLs need). A route that no case covers fails the test.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import timedelta

import pytest

import tests.portal
from portal.accounts.services import issue_token
from portal.extensions import db
from portal.models import Role, RoleAssignment, TokenPurpose
from tests import factories
from tests.conftest import csrf_token_from
from tests.permissions import ROLES, Context, RouteCase


def _collect() -> tuple[list[RouteCase], dict]:
    cases: list[RouteCase] = []
    builders: dict = {}
    modules = ["tests.portal.route_cases"]
    for package in pkgutil.iter_modules(tests.portal.__path__):
        if not package.ispkg:
            continue
        folder = importlib.import_module(f"tests.portal.{package.name}")
        modules += [
            f"tests.portal.{package.name}.{info.name}"
            for info in pkgutil.iter_modules(folder.__path__)
            if info.name.startswith("route_cases")
        ]
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        cases.extend(module.CASES)
        builders.update(getattr(module, "BUILDERS", {}))
    return cases, builders


CASES, BUILDERS = _collect()

BASE_BUILDERS = {
    "skill": lambda c: factories.create_skill(c.org, "TRACH", "Tracheostomy care"),
    "spare_staff": lambda c: factories.create_staff(c.org, c.ward, "Sam Spare"),
    "spare_manager_role": lambda c: _spare_manager_role(c),
    "invite_secret": lambda c: issue_token(
        factories.create_staff(c.org, c.ward, "Ivy Invited", password=False).user,
        TokenPurpose.INVITE, actor=None, lifetime=timedelta(hours=1)),
    "reset_secret": lambda c: issue_token(c.users["nurse"], TokenPurpose.RESET, actor=None,
                                          lifetime=timedelta(hours=1)),
}


def _spare_manager_role(c):
    user = c.spare_staff.user
    assignment = RoleAssignment(role=Role.MANAGER, ward_id=c.ward.id)
    user.roles.append(assignment)
    db.session.flush()
    return assignment


def test_every_route_has_a_case(app):
    covered = {(case.endpoint, case.method) for case in CASES}
    missing = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "Routes without a permission case:\n" + "\n".join(missing)


def _outcome(response) -> str:
    if response.status_code in (401, 403):
        return "denied"
    if response.status_code in (301, 302, 303) and "/account/sign-in" in response.headers.get("Location", ""):
        return "login"
    return "allowed"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.endpoint}")
def test_route_access(app, users, org, ward, other_ward, login, case: RouteCase):
    context = Context({"org": org, "ward": ward, "other_ward": other_ward, "users": users},
                      {**BASE_BUILDERS, **BUILDERS})
    url = case.url(context)
    data = case.data(context)
    db.session.flush()
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            login(users[role].email, using=client)
        if case.method == "GET":
            response = client.get(url)
        else:
            token = csrf_token_from(client.get("/account/sign-in" if role == "anonymous" else "/notifications").get_data(as_text=True))
            response = client.post(url, data={"csrf_token": token, **data})
        outcome = _outcome(response)
        assert response.status_code < 500, f"{role} {case.method} {url} gave {response.status_code}"
        if role in case.allowed:
            expected = ("allowed", "login") if case.lands_on_login else ("allowed",)
            assert outcome in expected, f"{role} should reach {case.method} {url}, got {response.status_code}"
        elif role == "anonymous":
            assert outcome in ("login", "denied"), f"anonymous reached {case.method} {url}"
        else:
            assert outcome == "denied", f"{role} reached {case.method} {url} ({response.status_code})"
