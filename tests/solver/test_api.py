"""The public API: progress callback, early stop, warm start, determinism, isolation."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

import solver
from solver import (
    CoverRequirement, Horizon, Problem, ProblemError, Progress, Request, Rules, ShiftType,
    SolveOptions, StaffMember, Status, solve, validate,
)
from solver.formats.curtois import read_instance
from tests.solver.helpers import EARLY, person, solve_checked, ward

ROOT = Path(__file__).resolve().parents[2]


def test_import_solver_pulls_in_no_web_stack():
    code = ("import sys, solver, solver.bench, solver.formats.curtois\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'portal', 'flask_sqlalchemy'))\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_public_names_are_exported():
    for name in ("Problem", "Horizon", "ShiftType", "StaffMember", "CoverRequirement", "Rules",
                 "Request", "Assignment", "Roster", "solve", "SolveOptions", "Status", "Result",
                 "validate", "Validation", "explain_infeasible", "ProblemError", "History"):
        assert hasattr(solver, name), name
    assert issubclass(ProblemError, ValueError)


def test_progress_callback_reports_improving_rosters(curtois_dir):
    problem = read_instance(curtois_dir / "Instance2.txt")
    seen: list[Progress] = []
    result = solve(problem, SolveOptions(time_limit_s=5, workers=2, explain=False), on_solution=seen.append)
    assert seen and all(isinstance(p, Progress) for p in seen)
    assert [p.objective for p in seen] == sorted((p.objective for p in seen), reverse=True)
    assert all(p.bound <= p.objective for p in seen)
    assert seen[-1].objective == result.objective
    assert list(result.progress) == seen


def test_stop_event_ends_the_search_keeping_the_best(curtois_dir):
    problem = read_instance(curtois_dir / "Instance5.txt")
    stop = threading.Event()

    def stop_after_first(progress: Progress) -> None:
        stop.set()

    result = solve(problem, SolveOptions(time_limit_s=60, workers=2, explain=False),
                   on_solution=stop_after_first, stop_event=stop)
    assert result.wall_s < 20
    assert result.status is Status.FEASIBLE
    assert validate(problem, result.roster).is_valid


def test_stop_event_in_lns_strategy(curtois_dir):
    problem = read_instance(curtois_dir / "Instance5.txt")
    stop = threading.Event()
    timer = threading.Timer(3.0, stop.set)
    timer.start()
    result = solve(problem, SolveOptions(time_limit_s=60, workers=2, strategy="lns", explain=False),
                   stop_event=stop)
    timer.cancel()
    assert result.wall_s < 20 and result.roster is not None
    check = validate(problem, result.roster)
    assert check.is_valid and check.objective == result.objective


def test_warm_start_from_a_previous_roster(curtois_dir):
    problem = read_instance(curtois_dir / "Instance1.txt")
    first = solve(problem, SolveOptions(time_limit_s=10, workers=1, explain=False))
    again = solve(problem, SolveOptions(time_limit_s=10, workers=1, warm_start=first.roster, explain=False))
    assert again.objective == first.objective == 607
    assert again.progress[0].objective == 607  # the hint is the first roster found


def test_a_valid_warm_start_is_hinted_in_every_variable_and_an_invalid_one_in_its_shifts(curtois_dir):
    from solver.model import build_model
    from solver.solve import add_hints, roster_keys

    problem = read_instance(curtois_dir / "Instance2.txt")
    first = solve(problem, SolveOptions(time_limit_s=10, workers=1, explain=False))
    model = build_model(problem)
    add_hints(model, first.roster, complete=True)
    hint = model.cp.proto.solution_hint
    assert sorted(hint.vars) == list(range(len(model.cp.proto.variables)))
    hinted = dict(zip(hint.vars, hint.values))
    chosen = roster_keys(model, first.roster)
    assert all(hinted[var.index] == int(key in chosen) for key, var in model.x.items())
    # One person working every day breaks their rules: no complete hint can be derived.
    someone = problem.staff[0].id
    code = problem.shift_types[0].code
    broken = solver.Roster.of([(a.staff_id, a.day, a.shift) for a in first.roster if a.staff_id != someone]
                              + [(someone, day, code) for day in problem.horizon.days])
    assert not validate(problem, broken).is_valid
    model = build_model(problem)
    add_hints(model, broken, complete=True)
    assert sorted(model.cp.proto.solution_hint.vars) == sorted(var.index for var in model.x.values())


def test_deterministic_runs_repeat():
    problem = ward(num_days=14, staff=4,
                   cover=tuple(CoverRequirement(d, s, ideal=1, under_weight=3, over_weight=1)
                               for d in range(14) for s in "ELN"),
                   rules=Rules(max_consecutive_days=4, min_consecutive_days_off=2))
    runs = [solve(problem, SolveOptions(time_limit_s=2, workers=2, deterministic=True, seed=3))
            for _ in range(2)]
    assert runs[0].roster == runs[1].roster and runs[0].objective == runs[1].objective


def test_options_are_checked():
    with pytest.raises(ProblemError, match="options.workers"):
        SolveOptions(workers=0)
    with pytest.raises(ProblemError, match="options.time_limit_s"):
        SolveOptions(time_limit_s=0)


@pytest.mark.parametrize("build, message", [
    (lambda: ShiftType("E", paid_minutes=-5), "shift_type 'E'.paid_minutes: must be at least 0"),
    (lambda: ShiftType("E", start=dt.time(7)), "give both start and end"),
    (lambda: StaffMember("a", min_minutes=-1), "staff 'a'.min_minutes: must be at least 0"),
    (lambda: StaffMember("a", max_consecutive_days=0), "staff 'a'.max_consecutive_days"),
    (lambda: ward(rules=Rules(forbidden_sequences=(("N", "X"),))), "rules.forbidden_sequences[0]: unknown shift 'X'"),
    (lambda: ward(rules=Rules(max_consecutive_shifts={"Z": 2})), "rules.max_consecutive_shifts: unknown shift 'Z'"),
    (lambda: ward(cover=(CoverRequirement(0, "E", skill="ICU", minimum=1),)), "no staff member has skill 'ICU'"),
    (lambda: ward(cover=(CoverRequirement(0, "E", minimum=4),)), "needs at least 4 staff but only 3 can work it"),
    (lambda: ward(cover=(CoverRequirement(9, "E", minimum=1),)), "day 9 is outside the horizon"),
    (lambda: ward(requests=(Request("ghost", 0, "E", 1),)), "requests[0]: unknown staff 'ghost'"),
    (lambda: ward(staff=(person("a"), person("a"))), "duplicate staff id 'a'"),
    (lambda: Horizon(dt.date(2025, 1, 1), 0), "horizon.num_days"),
    (lambda: Problem(Horizon(dt.date(2025, 1, 1), 7), (), ()), "at least one shift type"),
    (lambda: ward(staff=(person("a", max_shifts={"Q": 1}),)), "staff 'a'.max_shifts: unknown shift 'Q'"),
])
def test_inconsistent_problems_are_refused_by_field(build, message):
    with pytest.raises(ProblemError) as error:
        build()
    assert message in str(error.value)


def test_horizon_dates_and_day_types():
    horizon = Horizon(dt.date(2025, 3, 1), 9, holidays=frozenset({2}))  # starts on a Saturday
    assert horizon.weekends == ((0, 1), (7, 8))
    assert horizon.day_type(0).value == "saturday" and horizon.day_type(2).value == "holiday"
    assert horizon.date(8) == dt.date(2025, 3, 9)


def test_rest_hours_from_shift_times_cross_midnight():
    night = ShiftType("N", start=dt.time(20), end=dt.time(8))
    problem = Problem(
        horizon=Horizon(dt.date(2025, 3, 3), 7), shift_types=(EARLY, night),
        staff=(StaffMember("a"),), rules=Rules(min_rest_hours=11))
    pairs = {seq for seq, _ in problem.forbidden_sequences}
    # A night ends at 08:00 the next morning, so an Early that day (07:00) overlaps it;
    # the next night starts 12 h after it ends, which is enough.
    assert pairs == {("N", "E")}
    assert night.duration_minutes == 720 and night.is_night


def test_result_breakdowns_by_rule_and_person():
    problem = ward(staff=1, requests=(Request("n0", 0, "E", 4), Request("n0", 0, "L", 6)),
                   cover=(CoverRequirement(1, "E", ideal=1, under_weight=9),),
                   rules=Rules(), locked=())
    result = solve_checked(problem)
    assert result.by_rule() == {"shift_on_request": 4}
    assert result.by_staff() == {"n0": 4}


def test_auto_strategy_keeps_wards_with_hard_minimums_on_monolithic_cp_sat():
    soft = ward(7, 4, cover=tuple(CoverRequirement(day, "E", ideal=1, under_weight=10)
                                  for day in range(7)))
    hard = replace(soft, cover=tuple(replace(need, minimum=1) for need in soft.cover))
    options = SolveOptions(time_limit_s=2, workers=1, deterministic=True, explain=False,
                           lns_threshold=10, lns_threshold_minimums=1000)
    # 4 people x 7 days x 3 shift types = 84 shift variables: above 10, below 1000.
    assert solve(soft, options).stats["strategy"] == "lns"
    hard_result = solve(hard, options)
    assert hard_result.stats["strategy"] == "cpsat"
    assert validate(hard, hard_result.roster).is_valid
    bigger = replace(options, lns_threshold_minimums=50)
    assert solve(hard, bigger).stats["strategy"] == "lns"
