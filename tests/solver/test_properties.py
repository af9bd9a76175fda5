"""Property-based tests: on tiny random wards, exhaustive search confirms the optimum.

Every roster of the tiny ward is enumerated and scored by the independent validator; the
solver must prove the same optimum (or infeasibility), and the validator must agree with
the solver's own objective and breakdown.
"""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from solver import (
    OFF, Assignment, CoverRequirement, Fairness, History, Horizon, PersonalRule, PersonalRuleKind,
    Problem, ProblemError, Request, RequestKind, Roster, Rules, ShiftType, SolveOptions,
    StaffMember, Status, solve, validate,
)

FRIDAY = dt.date(2025, 3, 7)  # days 1 and 2 are a weekend
SHIFTS = (ShiftType("E", start=dt.time(7), end=dt.time(15)),
          ShiftType("N", start=dt.time(22), end=dt.time(6)))
maybe = lambda values: st.sampled_from((None,) + tuple(values))  # noqa: E731


@st.composite
def tiny_problems(draw):
    try:
        return _draw_problem(draw)
    except ProblemError:  # inconsistent draws are refused by the domain, as they should be
        assume(False)


def _draw_problem(draw):
    n_shifts = draw(st.integers(1, 2))
    shifts = SHIFTS[:n_shifts]
    codes = [s.code for s in shifts]
    n_staff = draw(st.integers(1, 2))
    max_cells = 6 if n_shifts == 2 else 9
    n_days = draw(st.integers(2, max(2, max_cells // n_staff)))
    days = range(n_days)
    staff = []
    for i in range(n_staff):
        history = None
        if draw(st.booleans()):
            history = History(tuple(draw(st.lists(st.sampled_from(codes + [None]), max_size=2))))
        staff.append(StaffMember(
            f"p{i}",
            skills=frozenset(draw(st.sets(st.sampled_from(["RN", "HCA"]), max_size=2))),
            min_minutes=draw(st.sampled_from([0, 0, 480, 960])),
            max_minutes=draw(maybe([480, 960, 1440])),
            max_shifts={c: draw(st.integers(0, 2)) for c in codes if draw(st.booleans())},
            max_consecutive_days=draw(maybe([1, 2])),
            min_consecutive_days=draw(maybe([2])),
            min_consecutive_days_off=draw(maybe([2])),
            max_weekends=draw(maybe([0, 1])),
            unavailable_days=frozenset(draw(st.sets(st.sampled_from(days), max_size=1))),
            history=history,
            fte_percent=draw(st.sampled_from([50, 100])),
            fairness_ledger={"nights": draw(st.integers(0, 1))},
            personal_rules=tuple(draw(st.lists(st.builds(
                PersonalRule, st.sampled_from(list(PersonalRuleKind)), st.integers(0, 2),
                st.integers(1, 3), st.sampled_from([None] + codes)), max_size=1))),
        ))
    all_skills = set().union(*(p.skills for p in staff))
    cover = []
    for day in days:
        for code in codes:
            if draw(st.booleans()):
                skill = draw(st.sampled_from([None] + sorted(all_skills)))
                cover.append(CoverRequirement(day, code, skill=skill, minimum=draw(st.integers(0, 1)),
                                              ideal=draw(st.integers(0, 2)),
                                              under_weight=draw(st.integers(0, 5)),
                                              over_weight=draw(st.integers(0, 2))))
    sequences = draw(st.lists(st.tuples(st.sampled_from(codes + [OFF]), st.sampled_from(codes)), max_size=2))
    rules = Rules(
        min_rest_hours=draw(st.sampled_from([0, 11])),
        forbidden_sequences=tuple(sequences),
        max_consecutive_shifts={"N": 1} if "N" in codes and draw(st.booleans()) else {},
        min_days_off_after_nights=draw(st.integers(0, 1)),
        complete_weekends_weight=draw(st.integers(0, 3)),
    )
    requests = tuple(
        Request(f"p{draw(st.integers(0, n_staff - 1))}", draw(st.sampled_from(days)),
                draw(st.sampled_from([None] + codes)), draw(st.integers(1, 4)),
                draw(st.sampled_from(list(RequestKind))))
        for _ in range(draw(st.integers(0, 3))))
    locked = ()
    if draw(st.booleans()):
        locked = (Assignment("p0", draw(st.sampled_from(days)), draw(st.sampled_from(codes))),)
    reference = None
    if draw(st.booleans()):
        reference = Roster.of((f"p{i}", d, codes[0]) for i in range(n_staff) for d in days if (i + d) % 2)
    return Problem(
        horizon=Horizon(FRIDAY, n_days), shift_types=shifts, staff=tuple(staff),
        cover=tuple(cover), rules=rules, requests=requests, locked=locked,
        fairness=Fairness(nights_weight=draw(st.integers(0, 1)), weekends_weight=draw(st.integers(0, 1)),
                          unpopular_weight=draw(st.integers(0, 1)), unpopular_shifts={codes[-1]}),
        reference=reference, change_weight=draw(st.integers(0, 2)) if reference else 0,
    )


def exhaustive_optimum(problem: Problem) -> int | None:
    cells = [(p.id, d) for p in problem.staff for d in problem.horizon.days]
    choices = [None] + [s.code for s in problem.shift_types]
    best = None
    for pick in itertools.product(choices, repeat=len(cells)):
        roster = Roster(frozenset(Assignment(s, d, c) for (s, d), c in zip(cells, pick) if c))
        check = validate(problem, roster)
        if check.is_valid and (best is None or check.objective < best):
            best = check.objective
    return best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(tiny_problems())
def test_solver_optimum_matches_exhaustive_search(problem):
    expected = exhaustive_optimum(problem)
    result = solve(problem, SolveOptions(time_limit_s=20, workers=1, deterministic=True, explain=False))
    if expected is None:
        assert result.status is Status.INFEASIBLE
        return
    assert result.status is Status.OPTIMAL
    assert result.objective == expected
    check = validate(problem, result.roster)
    assert check.is_valid, check.violations
    assert check.objective == result.objective
    assert check.by_rule() == result.by_rule()
    assert check.by_staff() == result.by_staff()
