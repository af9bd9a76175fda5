"""Helpers for solver tests: a small ward factory and a solve-and-check helper."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from solver import (
    CoverRequirement, Horizon, Problem, Rules, ShiftType, SolveOptions, StaffMember, Status,
    solve, validate,
)

CURTOIS = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "curtois"
MONDAY = dt.date(2025, 3, 3)

EARLY = ShiftType("E", start=dt.time(7, 0), end=dt.time(15, 0), name="Early")
LATE = ShiftType("L", start=dt.time(14, 0), end=dt.time(22, 0), name="Late")
NIGHT = ShiftType("N", start=dt.time(21, 30), end=dt.time(7, 30), name="Night")


def ward(num_days: int = 7, staff: int | tuple = 3, **changes) -> Problem:
    """A small unconstrained ward; ``staff`` is a head count or the staff themselves."""
    if isinstance(staff, int):
        people = tuple(StaffMember(f"n{i}", name=f"Nurse {i}", skills=frozenset({"RN"})) for i in range(staff))
    else:
        people = tuple(staff)
    problem = Problem(
        horizon=Horizon(MONDAY, num_days),
        shift_types=(EARLY, LATE, NIGHT),
        staff=people,
        rules=Rules(),
    )
    return replace(problem, **changes)


def person(staff_id: str = "n0", **fields) -> StaffMember:
    """A staff member with the RN skill."""
    fields.setdefault("skills", frozenset({"RN"}))
    return StaffMember(staff_id, **fields)


def solve_checked(problem: Problem, time_limit_s: float = 10.0, **options):
    """Solve deterministically, then check the roster with the independent validator."""
    options.setdefault("workers", 1)
    options.setdefault("deterministic", True)
    result = solve(problem, SolveOptions(time_limit_s=time_limit_s, **options))
    if result.roster is not None:
        check = validate(problem, result.roster)
        assert check.is_valid, check.violations
        assert check.objective == result.objective
        assert check.by_rule() == result.by_rule()
    return result


def assert_infeasible(problem: Problem, *words: str) -> None:
    """The problem is infeasible and the explanation mentions every word."""
    result = solve_checked(problem, time_limit_s=10.0)
    assert result.status is Status.INFEASIBLE
    text = " ".join(e.message for e in result.explanations).lower()
    for word in words:
        assert word.lower() in text, text


__all__ = ["CoverRequirement", "EARLY", "LATE", "NIGHT", "assert_infeasible", "person",
           "solve_checked", "ward"]
