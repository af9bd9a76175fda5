"""The demo's rosters: a deterministic search that always gives a valid roster or stops the demo loudly."""

from __future__ import annotations

import pytest

import solver
from portal.scheduling import demo, services
from tests.portal.scheduling.roster_helpers import build_roster_ward


@pytest.fixture
def setup(users, org, ward):
    return build_roster_ward(org, ward)


def test_demo_solves_are_repeatable_and_valid(setup):
    first = demo._solve(setup.period, seed=3, rosters=1)
    assert first and first == demo._solve(setup.period, seed=3, rosters=1)
    built = services.problem_for_period(setup.period)
    assert solver.validate(built.problem, built.mapping.to_solver(first)).is_valid


def test_demo_stops_with_a_clear_error_when_no_roster_is_found(setup, monkeypatch):
    monkeypatch.setattr(solver, "solve", lambda *args, **kwargs: solver.Result(solver.Status.UNKNOWN, None, None, None))
    with pytest.raises(demo.DemoRosterError, match="could not build a roster for Ward 7, 4 Mar – 17 Mar 2030"):
        demo._solve(setup.period, seed=3, rosters=1)
