"""A feasible and an infeasible case for every hard rule."""

from __future__ import annotations

from dataclasses import replace

from solver import OFF, Assignment, CoverRequirement, History, Rules, Status
from tests.solver.helpers import assert_infeasible, person, solve_checked, ward


def lock(*triples):
    return tuple(Assignment(*t) for t in triples)


def shifts_of(result, staff_id, days):
    return [result.roster.shift_of(staff_id, d) for d in days]


# -- one shift per day ------------------------------------------------------------------
def test_one_shift_per_day_feasible():
    result = solve_checked(ward(locked=lock(("n0", 0, "E"))))
    assert result.status is Status.OPTIMAL
    assert shifts_of(result, "n0", [0]) == ["E"]


def test_one_shift_per_day_infeasible():
    assert_infeasible(ward(locked=lock(("n0", 0, "E"), ("n0", 0, "L"))), "fixed to E", "fixed to L")


# -- leave ------------------------------------------------------------------------------
def test_leave_feasible():
    problem = ward(staff=(person("n0", unavailable_days={2}),),
                   cover=(CoverRequirement(2, "E", minimum=0, ideal=1, under_weight=5),))
    result = solve_checked(problem)
    assert result.roster.shift_of("n0", 2) is None
    assert result.objective == 5


def test_leave_infeasible():
    problem = ward(staff=(person("n0", unavailable_days={2}),), locked=lock(("n0", 2, "E")))
    assert_infeasible(problem, "leave", "fixed to E")


def test_unavailable_shift_feasible():
    problem = ward(staff=(person("n0", unavailable_shifts={(1, "N")}),),
                   cover=(CoverRequirement(1, "N", ideal=1, under_weight=4),
                          CoverRequirement(1, "E", ideal=1, under_weight=1)))
    result = solve_checked(problem)
    assert result.roster.shift_of("n0", 1) == "E" and result.objective == 4


def test_unavailable_shift_infeasible():
    problem = ward(staff=(person("n0", unavailable_shifts={(1, "N")}),), locked=lock(("n0", 1, "N")))
    assert_infeasible(problem, "cannot work N")


# -- maximum shifts per type ------------------------------------------------------------
def test_max_shifts_feasible():
    problem = ward(staff=(person("n0", max_shifts={"N": 1}),),
                   requests=(), cover=tuple(CoverRequirement(d, "N", ideal=1, under_weight=3) for d in range(3)))
    result = solve_checked(problem)
    assert sum(1 for d in range(7) if result.roster.shift_of("n0", d) == "N") == 1
    assert result.objective == 6


def test_max_shifts_infeasible():
    problem = ward(staff=(person("n0", max_shifts={"N": 1}),), locked=lock(("n0", 0, "N"), ("n0", 3, "N")))
    assert_infeasible(problem, "at most 1 N shifts")


# -- contract minutes -------------------------------------------------------------------
def test_contract_minutes_feasible():
    problem = ward(staff=(person("n0", min_minutes=3 * 480, max_minutes=3 * 480, max_shifts={"N": 0}),))
    result = solve_checked(problem)
    assert len(result.roster) == 3


def test_min_minutes_infeasible():
    problem = ward(staff=(person("n0", min_minutes=4 * 480, max_shifts={"N": 0},
                                 unavailable_days={0, 1, 2, 3}),))
    assert_infeasible(problem, "at least 1920 paid minutes", "leave")


def test_max_minutes_infeasible():
    problem = ward(staff=(person("n0", max_minutes=480),), locked=lock(("n0", 0, "E"), ("n0", 2, "E")))
    assert_infeasible(problem, "at most 480 paid minutes")


# -- forbidden sequences and rest ---------------------------------------------------------
def test_forbidden_sequence_feasible():
    problem = ward(staff=(person(),), rules=Rules(forbidden_sequences=(("N", "E"),)),
                   locked=lock(("n0", 0, "N"), ("n0", 1, "N")))
    result = solve_checked(problem)
    assert result.status is Status.OPTIMAL


def test_forbidden_sequence_infeasible():
    problem = ward(staff=(person(),), rules=Rules(forbidden_sequences=(("N", "E"),)),
                   locked=lock(("n0", 0, "N"), ("n0", 1, "E")))
    assert_infeasible(problem, "cannot work E the day after N (forbidden sequence)")


def test_forbidden_sequence_with_day_off():
    problem = ward(staff=(person(),), rules=Rules(forbidden_sequences=(("N", OFF, "E"),)),
                   locked=lock(("n0", 0, "N"), ("n0", 2, "E")))
    result = solve_checked(problem)
    assert result.roster.shift_of("n0", 1) is not None  # day 1 must be worked


def test_min_rest_feasible():
    problem = ward(staff=(person(),), rules=Rules(min_rest_hours=11), locked=lock(("n0", 0, "E"), ("n0", 1, "L")))
    assert solve_checked(problem).status is Status.OPTIMAL


def test_min_rest_infeasible():
    # Late ends 22:00, Early starts 07:00: 9 hours of rest.
    problem = ward(staff=(person(),), rules=Rules(min_rest_hours=11), locked=lock(("n0", 0, "L"), ("n0", 1, "E")))
    assert_infeasible(problem, "cannot work E the day after L/N (minimum rest)")


# -- consecutive working days -------------------------------------------------------------
def test_max_consecutive_days_feasible():
    problem = ward(staff=(person(max_consecutive_days=3),),
                   requests=(), cover=tuple(CoverRequirement(d, "E", ideal=1, under_weight=1) for d in range(7)))
    result = solve_checked(problem)
    worked = [result.roster.shift_of("n0", d) is not None for d in range(7)]
    assert not any(all(worked[d:d + 4]) for d in range(4))
    assert result.objective == 1


def test_max_consecutive_days_infeasible():
    problem = ward(staff=(person(max_consecutive_days=3),), locked=lock(*[("n0", d, "E") for d in range(4)]))
    assert_infeasible(problem, "at most 3 consecutive working days")


def test_min_consecutive_days_feasible():
    problem = ward(staff=(person(min_consecutive_days=2),), locked=lock(("n0", 3, "E")))
    result = solve_checked(problem)
    assert result.roster.shift_of("n0", 2) is not None or result.roster.shift_of("n0", 4) is not None


def test_min_consecutive_days_infeasible():
    problem = ward(staff=(person(min_consecutive_days=2, unavailable_days={2, 4}),), locked=lock(("n0", 3, "E")))
    assert_infeasible(problem, "at least 2 consecutive working days")


def test_min_consecutive_days_off_feasible():
    problem = ward(staff=(person(min_consecutive_days_off=2),), locked=lock(("n0", 1, "E"), ("n0", 4, "E")))
    result = solve_checked(problem)
    assert result.status is Status.OPTIMAL


def test_min_consecutive_days_off_infeasible():
    problem = ward(staff=(person(min_consecutive_days_off=2, unavailable_days={2}),),
                   locked=lock(("n0", 1, "E"), ("n0", 3, "E")))
    assert_infeasible(problem, "at least 2 consecutive days off")


# -- nights -----------------------------------------------------------------------------
def test_max_consecutive_nights_feasible():
    problem = ward(staff=(person(),), rules=Rules(max_consecutive_shifts={"N": 2}),
                   cover=tuple(CoverRequirement(d, "N", ideal=1, under_weight=1) for d in range(3)))
    result = solve_checked(problem)
    assert result.objective == 1


def test_max_consecutive_nights_infeasible():
    problem = ward(staff=(person(),), rules=Rules(max_consecutive_shifts={"N": 2}),
                   locked=lock(("n0", 0, "N"), ("n0", 1, "N"), ("n0", 2, "N")))
    assert_infeasible(problem, "at most 2 N shifts in a row")


def test_days_off_after_nights_feasible():
    problem = ward(staff=(person(),), rules=Rules(min_days_off_after_nights=2),
                   locked=lock(("n0", 1, "N"), ("n0", 2, "N"), ("n0", 5, "E")))
    result = solve_checked(problem)
    assert shifts_of(result, "n0", [3, 4]) == [None, None]


def test_days_off_after_nights_infeasible():
    problem = ward(staff=(person(),), rules=Rules(min_days_off_after_nights=2),
                   locked=lock(("n0", 1, "N"), ("n0", 3, "E")))
    assert_infeasible(problem, "2 days off after nights")


# -- weekends ---------------------------------------------------------------------------
def test_max_weekends_feasible():
    problem = ward(num_days=14, staff=(person(max_weekends=1),), locked=lock(("n0", 5, "E"), ("n0", 6, "E")))
    result = solve_checked(problem)
    assert shifts_of(result, "n0", [12, 13]) == [None, None]


def test_max_weekends_infeasible():
    problem = ward(num_days=14, staff=(person(max_weekends=1),), locked=lock(("n0", 5, "E"), ("n0", 13, "E")))
    assert_infeasible(problem, "at most 1 working weekends")


# -- cover minimum ----------------------------------------------------------------------
def test_cover_minimum_feasible():
    problem = ward(cover=(CoverRequirement(0, "N", skill="RN", minimum=2),))
    result = solve_checked(problem)
    assert sum(1 for p in ("n0", "n1", "n2") if result.roster.shift_of(p, 0) == "N") >= 2


def test_cover_minimum_infeasible():
    problem = ward(staff=2, cover=(CoverRequirement(0, "N", skill="RN", minimum=2),),
                   locked=lock(("n0", 0, "E")))
    assert_infeasible(problem, "at least 2 RN on N", "fixed to E")


# -- history across the period boundary -----------------------------------------------------
def test_history_max_consecutive_feasible():
    problem = ward(staff=(person(max_consecutive_days=3, history=History(("E", "E"))),),
                   locked=lock(("n0", 0, "E")))
    result = solve_checked(problem)
    assert result.roster.shift_of("n0", 1) is None


def test_history_max_consecutive_infeasible():
    problem = ward(staff=(person(max_consecutive_days=3, history=History(consecutive_days_worked=3)),),
                   locked=lock(("n0", 0, "E")))
    assert_infeasible(problem, "at most 3 consecutive working days")


def test_history_forbidden_sequence_infeasible():
    problem = ward(staff=(person(history=History(("N",))),), rules=Rules(forbidden_sequences=(("N", "E"),)),
                   locked=lock(("n0", 0, "E")))
    assert_infeasible(problem, "N then E")


def test_history_min_days_off_forces_rest():
    problem = ward(staff=(person(min_consecutive_days_off=2, history=History(("E", None))),),
                   requests=(), cover=(CoverRequirement(0, "E", ideal=1, under_weight=1),))
    result = solve_checked(problem)
    assert result.roster.shift_of("n0", 0) is None and result.objective == 1


def test_locked_assignment_kept():
    problem = ward(locked=lock(("n1", 4, "L")))
    assert solve_checked(problem).roster.shift_of("n1", 4) == "L"


def test_history_ignored_rules_edges_exempt():
    """Without history, a short run at day 0 is allowed (it may continue the last period)."""
    problem = ward(staff=(person(min_consecutive_days=3, unavailable_days={1}),), locked=lock(("n0", 0, "E")))
    assert solve_checked(problem).status is Status.OPTIMAL
    with_history = replace(problem, staff=(person(min_consecutive_days=3, unavailable_days={1},
                                                  history=History((None,))),))
    assert_infeasible(with_history, "at least 3 consecutive working days")
