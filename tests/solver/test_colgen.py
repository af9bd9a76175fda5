"""Column generation: its bound never passes the optimum, its columns and support are sound."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from ortools.sat.python import cp_model

from solver import (
    CoverRequirement, Fairness, ProblemError, Request, RequestKind, SolveOptions, Status,
    solve, validate,
)
from solver import Roster, Rules, colgen
from solver import result as names
from solver.colgen import ColumnGeneration, _Person
from solver.model import Restriction, build_model
from solver.solve import keys_to_roster

from .helpers import CURTOIS, solve_checked, ward
from .test_properties import exhaustive_optimum, tiny_problems


def column_generation(problem, seconds: float = 20.0) -> ColumnGeneration:
    deadline = time.perf_counter() + seconds
    return ColumnGeneration(build_model(problem), should_stop=lambda: False,
                            remaining=lambda: deadline - time.perf_counter())


def heaviest_roster(heaviest) -> set:
    """Model keys of the roster made of each person's heaviest column."""
    return {(i, day, k) for i, column in enumerate(heaviest) for day, k in column}


def person_cost(problem, staff_id: str, roster) -> int:
    """What the validator charges one person for a roster, fairness and cover aside."""
    return validate(problem, roster).by_staff().get(staff_id, 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=True)
@given(tiny_problems())
def test_bound_never_passes_the_exhaustive_optimum_and_columns_cost_what_the_validator_says(problem):
    expected = exhaustive_optimum(problem)
    cg = column_generation(problem)
    bounds: list[int] = []
    converged = cg.run_root(bounds.append)
    if expected is None:
        return
    assert converged
    assert all(bound <= expected for bound in bounds)
    # Each column's cost in the master is the validator's cost of that person's roster.
    for i, pool in enumerate(cg.pool):
        staff_id = problem.staff[i].id
        for column, var in pool.items():
            roster = keys_to_roster(cg.model, {(i, day, k) for day, k in column})
            assert cg.objective.GetCoefficient(var) == person_cost(problem, staff_id, roster)
    # The heaviest columns are the master's own and lie in the support; as a roster they
    # are never better than the optimum.
    allowed, heaviest = cg.support()
    assert all(column in cg.pool[i] and column <= allowed[i] for i, column in enumerate(heaviest))
    keys = heaviest_roster(heaviest)
    check = validate(problem, keys_to_roster(cg.model, keys))
    if check.is_valid:
        assert check.objective >= expected


class _EverySolution(cp_model.CpSolverSolutionCallback):
    """Collects each solution of a person's model: its column and its own cost."""

    def __init__(self, person: _Person):
        super().__init__()
        self.person = person
        self.found: list[tuple[set, int]] = []

    def on_solution_callback(self) -> None:
        p = self.person
        column = {key for key, var in zip(p.keys, p.vars) if self.boolean_value(var)}
        self.found.append((column, self.value(p.own)))


def every_solution(person: _Person) -> list[tuple[set, int]]:
    """All solutions of a person's pricing model, whatever their cost."""
    cp = person.model.cp.clone()
    cp.clear_objective()
    solver = cp_model.CpSolver()
    solver.parameters.enumerate_all_solutions = True
    solver.parameters.num_workers = 1
    collector = _EverySolution(person)
    assert solver.solve(cp, collector) == cp_model.OPTIMAL
    return collector.found


def own_cost_ward(**rules):
    """Two nurses, five days, with requests and a reference roster to keep to."""
    problem = ward(num_days=5, staff=2)
    requests = (Request("n0", 1, "E", 4, RequestKind.ON), Request("n0", 3, None, 2, RequestKind.OFF))
    reference = Roster.of([("n0", 0, "L"), ("n0", 4, "N")])
    staff = tuple(replace(p, max_minutes=3 * 480) for p in problem.staff)
    return replace(problem, staff=staff, requests=requests, reference=reference, change_weight=3,
                   rules=Rules(**rules))


def test_a_pricing_model_leaves_out_cover_and_fairness():
    # Cover that one nurse alone cannot give, and fairness spreads.
    problem = replace(busy_ward(), cover=tuple(
        CoverRequirement(day, "E", minimum=2, ideal=3, under_weight=10) for day in range(5)))
    m = build_model(problem, restriction=Restriction(people=(0,), cover=(), coupling=False))
    assert not {p.rule for p in m.penalties} & colgen.COUPLING_RULES
    solver = cp_model.CpSolver()
    assert solver.solve(m.cp) == cp_model.OPTIMAL
    # With coupling, the same restriction (nobody else working) cannot meet the minimum.
    coupled = build_model(problem, restriction=Restriction(people=(0,), cover=(0,) * 5))
    assert solver.solve(coupled.cp) == cp_model.INFEASIBLE


def test_every_solution_of_a_pricing_model_with_exact_rules_has_its_real_own_cost():
    problem = own_cost_ward()
    model = build_model(problem)
    person = _Person(problem, 0, [])
    assert person.exact
    found = every_solution(person)
    assert len(found) > 100
    for column, own in found:
        roster = keys_to_roster(model, {(0, day, k) for day, k in column})
        assert own == person_cost(problem, "n0", roster)


def test_a_pricing_model_with_a_slack_penalty_is_not_exact():
    # Split weekends are costed through a slack variable that a solution may leave at 1
    # on a whole weekend: only an optimal solution is sure to price it right.
    problem = replace(own_cost_ward(complete_weekends_weight=7), horizon=ward(num_days=7).horizon,
                      reference=None, change_weight=0)
    model = build_model(problem)
    person = _Person(problem, 0, [])
    assert not person.exact
    overstated = [(column, own) for column, own in every_solution(person)
                  if own > person_cost(problem, "n0", keys_to_roster(
                      model, {(0, day, k) for day, k in column}))]
    assert overstated


def busy_ward(**changes):
    """A week, five nurses, cover with ideals and minimums, requests and fairness."""
    problem = ward(num_days=5, staff=4)
    cover = tuple(
        CoverRequirement(day, code, minimum=1 if code != "L" else 0, ideal=2 if code == "E" else 1,
                         under_weight=10, over_weight=3)
        for day in range(5) for code in ("E", "L", "N"))
    requests = (Request("n0", 2, None, 5, RequestKind.OFF), Request("n1", 3, "N", 4, RequestKind.ON),
                Request("n2", 4, "E", 3, RequestKind.ON))
    problem = replace(problem, cover=cover, requests=requests,
                      fairness=Fairness(nights_weight=1, weekends_weight=2),
                      staff=tuple(replace(p, max_minutes=4 * 480, min_minutes=2 * 480,
                                          max_consecutive_days=4) for p in problem.staff))
    return replace(problem, **changes)


def test_bound_is_below_the_proven_optimum_and_the_support_holds_valid_rosters():
    # Without fairness spreads, which keep CP-SAT from proving even this ward optimal
    # (the property test above covers them against exhaustive search).
    problem = busy_ward(fairness=Fairness())
    optimum = solve_checked(problem, time_limit_s=60.0)
    assert optimum.status is Status.OPTIMAL
    cg = column_generation(problem, 60.0)
    bounds: list[int] = []
    assert cg.run_root(bounds.append)
    assert bounds and max(bounds) <= optimum.objective
    # Far tighter than nothing: the relaxation prices each person's real rosters.
    assert max(bounds) > 0
    # The heaviest column of each person together: a roster meeting everybody's own
    # rules (the cover minimums aside), never better than the optimum.
    _, heaviest = cg.support()
    keys = heaviest_roster(heaviest)
    check = validate(problem, keys_to_roster(cg.model, keys))
    assert all(v.staff_id is None for v in check.violations), check.violations
    if check.is_valid:
        assert check.objective >= optimum.objective


def test_incumbent_roster_joins_the_master_as_columns():
    problem = busy_ward()
    result = solve_checked(problem, time_limit_s=5.0)
    cg = column_generation(problem)
    keys = {(i, a.day, k) for a in result.roster.assignments
            for i in [next(j for j, p in enumerate(problem.staff) if p.id == a.staff_id)]
            for k in [next(j for j, s in enumerate(problem.shift_types) if s.code == a.shift)]}
    cg.add_roster(keys)
    assert all(len(pool) == 1 for pool in cg.pool)
    # The master over those columns alone prices the roster at its objective.
    assert cg.solve_master()
    assert round(cg.objective.Value()) <= result.objective


def soft_ward():
    """Four weeks, ten nurses, soft cover only (no hard minimum), fairness spreads."""
    problem = ward(num_days=28, staff=10)
    cover = tuple(CoverRequirement(day, code, ideal=2 if code == "E" else 1, under_weight=10,
                                   over_weight=3)
                  for day in range(28) for code in ("E", "L", "N"))
    staff = tuple(replace(p, max_minutes=18 * 480, min_minutes=12 * 480, max_consecutive_days=5)
                  for p in problem.staff)
    return replace(problem, cover=cover, staff=staff,
                   fairness=Fairness(nights_weight=1, weekends_weight=2))


def test_lns_with_column_generation_reports_its_bound_and_a_valid_roster():
    problem = soft_ward()
    result = solve(problem, SolveOptions(time_limit_s=20, workers=2, strategy="lns",
                                         explain=False))
    assert result.roster is not None
    check = validate(problem, result.roster)
    assert check.is_valid and check.objective == result.objective
    assert result.stats["colgen_iterations"] > 0
    assert result.bound is not None and result.bound <= result.objective


def test_unknown_bound_method_is_refused():
    with pytest.raises(ProblemError, match="options.bound"):
        SolveOptions(bound="magic")


@pytest.mark.skipif(not (CURTOIS / "Instance1.txt").exists(), reason="benchmark files not present")
def test_instance1_bound_is_below_its_optimum_and_its_support_holds_a_valid_roster():
    from solver.formats.curtois import read_instance

    problem = read_instance(CURTOIS / "Instance1.txt")
    cg = column_generation(problem, 60.0)
    bounds: list[int] = []
    assert cg.run_root(bounds.append)
    assert 500 <= max(bounds) <= 607
    _, heaviest = cg.support()
    keys = heaviest_roster(heaviest)
    check = validate(problem, keys_to_roster(cg.model, keys))
    assert check.is_valid and check.objective >= 607


def converged_relaxation(problem) -> tuple[ColumnGeneration, float]:
    """A root run to convergence, and the master's value, checked against its bound."""
    cg = column_generation(problem, 60.0)
    bounds: list[int] = []
    assert cg.run_root(bounds.append)
    assert cg.solve_master()
    value = cg.objective.Value()
    # At convergence the bound is the relaxation's value, rounded up (less the allowance
    # for rounding the duals to integers).
    assert value - 1 <= max(bounds) <= math.ceil(value)
    return cg, value


def test_smoothed_and_plain_column_generation_reach_the_same_relaxation(monkeypatch):
    problem = soft_ward()
    values = []
    monkeypatch.setattr(colgen, "STOP_AT_INTEGER_BOUND", False)
    for smoothing in (0.0, 0.5):
        monkeypatch.setattr(colgen, "SMOOTHING", smoothing)
        values.append(converged_relaxation(problem)[1])
    assert values[0] == pytest.approx(values[1], abs=1e-6)


def test_pricing_within_a_gap_while_heading_in_reaches_the_exact_relaxation(monkeypatch):
    problem = soft_ward()
    values = []
    monkeypatch.setattr(colgen, "STOP_AT_INTEGER_BOUND", False)
    # Exact pricing throughout, then pricing within 20 % of each optimum at every
    # iteration (exact again only when that finds no column).
    for share in (-math.inf, math.inf):
        monkeypatch.setattr(colgen, "HEADING_SHARE", share)
        monkeypatch.setattr(colgen, "HEADING_GAP", 0.2)
        cg = column_generation(problem, 60.0)
        bounds: list[int] = []
        assert cg.run_root(bounds.append)
        assert cg.solve_master()
        values.append(cg.objective.Value())
        # Every bound on the way, from gap-limited pricing too, is below the relaxation.
        assert max(bounds) <= math.ceil(values[-1])
    assert values[0] == pytest.approx(values[1], abs=1e-6)


def test_a_root_ended_at_its_final_integer_bound_gives_the_converged_bound(monkeypatch):
    problem = soft_ward()
    runs = []
    for stop in (False, True):
        monkeypatch.setattr(colgen, "STOP_AT_INTEGER_BOUND", stop)
        cg = column_generation(problem, 60.0)
        bounds: list[int] = []
        assert cg.run_root(bounds.append) and cg.converged
        runs.append((max(bounds), cg.iterations))
    (full_bound, full_iterations), (early_bound, early_iterations) = runs
    assert early_bound == full_bound
    assert early_iterations <= full_iterations


def test_the_root_stops_once_its_integer_bound_cannot_rise(monkeypatch):
    # Master values and Lagrangian bounds of a root still adding columns: at the second
    # iteration the bound, 10.05, rounds up to 11, as the master's 10.4 does.
    steps = [(10.6, 8.0), (10.4, 10.05), (10.2, 10.1)]
    for stop, expected in ((True, 2), (False, 3)):
        monkeypatch.setattr(colgen, "STOP_AT_INTEGER_BOUND", stop)
        cg = column_generation(soft_ward(), 60.0)
        monkeypatch.setattr(cg, "_seed_columns", lambda until=None: True)
        remaining = iter(steps)

        def iterate():
            step = next(remaining, None)
            if step is None:
                return None
            cg.lp_value, bound = step
            cg.best_bound = max(cg.best_bound, bound)
            cg.iterations += 1
            return cg.lp_value, bound, 5

        monkeypatch.setattr(cg, "iterate", iterate)
        bounds: list[int] = []
        assert cg.run_root(bounds.append) is stop
        assert cg.iterations == expected and cg.converged is stop
        assert max(bounds) == 11


def test_a_root_too_slow_to_converge_in_its_time_gives_up(monkeypatch):
    problem = soft_ward()
    # At this pace even seeding the master takes longer than an iteration may.
    monkeypatch.setattr(colgen, "EXPECTED_ITERATIONS", 10**6)
    cg = column_generation(problem, 60.0)
    started = time.perf_counter()
    assert not cg.run_root(lambda bound: None, deadline=started + 30.0)
    assert cg.gave_up and cg.iterations == 0
    assert time.perf_counter() - started < 5.0
    # With room for 25 iterations at its pace, it converges.
    monkeypatch.setattr(colgen, "EXPECTED_ITERATIONS", 25)
    cg = column_generation(problem, 60.0)
    started = time.perf_counter()
    assert cg.run_root(lambda bound: None, deadline=started + 30.0)
    assert not cg.gave_up and cg.converged


def rooted_soft_ward(time_limit_s: float):
    """The soft ward with a constructed incumbent and a converged root that holds it."""
    from solver import lns
    from solver.solve import ProgressTracker

    problem = soft_ward()
    model = build_model(problem)
    options = SolveOptions(time_limit_s=time_limit_s, workers=1, explain=False)
    shared = lns._Shared(ProgressTracker(time.perf_counter(), None), None)
    clock = lns._Clock(options)
    lns._Search(model, options, shared, clock, 1).construct()
    cg = ColumnGeneration(model, should_stop=lambda: False, remaining=clock.remaining)
    cg.add_roster(shared.keys)
    assert cg.run_root(lambda bound: None)
    return problem, model, options, shared, clock, cg


def test_support_search_keeps_to_the_relaxations_shifts_and_improves_the_incumbent(monkeypatch):
    from solver import lns

    monkeypatch.setattr(lns, "SUPPORT_ROUND_MIN_S", 1.0)
    problem, model, options, shared, clock, cg = rooted_soft_ward(30)
    first, incumbent = shared.objective, set(shared.keys)
    allowed, heaviest = cg.support()
    # The heaviest column of each person is one the master holds, and in their support.
    assert all(column in cg.pool[i] and column <= allowed[i] for i, column in enumerate(heaviest))
    lns._support_search(model, options, shared, clock, 1, cg, lns._Stop(shared), lambda: None)
    check = validate(problem, keys_to_roster(model, shared.keys))
    assert check.is_valid and check.objective == shared.objective
    assert shared.objective < first
    assert shared.objective >= cg.lower_bound(cg.best_bound)
    # Every shift of the new roster is in the support or was the incumbent's.
    assert all((day, k) in allowed[i] or (i, day, k) in incumbent for i, day, k in shared.keys)
    assert shared.stats["colgen_support_rounds"] >= lns.SUPPORT_STALL


@pytest.mark.parametrize("alone", [False, True])
def test_a_support_search_alone_starts_from_the_heaviest_columns_with_the_time_left(
        monkeypatch, alone):
    """Beside the LNS, each round is hinted the incumbent and lasts its share of the
    time limit; alone, the first round is hinted the roster of each person's heaviest
    column and may last the time left, on one thread more than the workers, with a
    single full-problem subsolver.  Later rounds are hinted the incumbent.  Either way
    the incumbent is replaced only by a better, valid roster."""
    from solver import lns

    monkeypatch.setattr(lns, "SUPPORT_ROUND_MIN_S", 0.5)
    problem, model, options, shared, clock, cg = rooted_soft_ward(8)
    first, incumbent = shared.objective, frozenset(shared.keys)
    heaviest = {(i, day, k) for i, column in enumerate(cg.support()[1]) for day, k in column}
    assert heaviest != incumbent
    hints, limits, solvers = [], [], []
    real_hint, real_solver = lns.hint_shifts, lns.make_solver

    def hint_shifts(model, chosen, cp=None):
        hints.append((frozenset(chosen), frozenset(shared.keys)))
        real_hint(model, chosen, cp)

    def make_solver(options, time_limit_s, **kwargs):
        limits.append((time_limit_s, clock.remaining()))
        solvers.append(real_solver(options, time_limit_s, **kwargs))
        return solvers[-1]

    monkeypatch.setattr(lns, "hint_shifts", hint_shifts)
    monkeypatch.setattr(lns, "make_solver", make_solver)
    assert clock.remaining() > 2.0
    lns._support_search(model, options, shared, clock, 1, cg, lns._Stop(shared), lambda: None,
                        alone=alone)
    assert hints[0][0] == (heaviest if alone else incumbent)
    assert all(chosen == keys for chosen, keys in hints[1:])
    share = 0.1 * options.time_limit_s
    if alone:
        assert limits[0][0] == pytest.approx(limits[0][1], abs=0.05) and limits[0][0] > 2.0
    assert all(limit == pytest.approx(min(share, left), abs=0.05) for limit, left in limits[alone:])
    threads = 1 + lns.SUPPORT_ALONE_EXTRA_THREADS if alone else 1
    assert all(solver.parameters.num_workers == threads for solver in solvers)
    assert all(solver.parameters.num_full_subsolvers == (1 if alone else 0) for solver in solvers)
    check = validate(problem, keys_to_roster(model, shared.keys))
    assert check.is_valid and check.objective == shared.objective <= first


def test_a_tracked_root_keeps_the_support_of_each_iterations_master():
    """With ``track_support`` each iteration keeps the support of the master it solved,
    before its new columns join; untracked, none is kept."""
    cg = column_generation(soft_ward())
    assert cg._seed_columns()
    cg.iterate()
    assert cg.latest_support is None
    cg.track_support = True
    kept = []
    for _ in range(200):
        value, bound, added = cg.iterate()
        kept.append(cg.latest_support)
        if not added:
            break
    assert not added and len(kept) > 1
    # No column joined since the last solve: what it kept is the master's support now.
    assert kept[-1] == cg.support()
    # Each support holds only columns of the pool and shifts of those columns.
    for allowed, heaviest in kept:
        assert all(column in cg.pool[i] and column <= allowed[i]
                   for i, column in enumerate(heaviest))


def test_the_whole_model_search_goes_on_from_the_incumbent_and_proves_the_optimum(monkeypatch):
    """For small problems a stalled support search hands every worker to CP-SAT on the
    whole model, hinted the incumbent: the LNS waits meanwhile, and an optimum proven
    there ends the run."""
    from solver import lns
    from solver.solve import ProgressTracker

    # A week, five nurses of at most five shifts for 28 shifts' ideal cover, night spread.
    problem = replace(soft_ward(), fairness=Fairness(nights_weight=1))
    problem = replace(problem, horizon=replace(problem.horizon, num_days=7),
                      cover=tuple(need for need in problem.cover if need.day < 7),
                      staff=tuple(replace(p, max_minutes=5 * 480, min_minutes=3 * 480)
                                  for p in problem.staff[:5]))
    optimum = solve_checked(problem, strategy="cpsat")
    assert optimum.status is Status.OPTIMAL
    model = build_model(problem)
    options = SolveOptions(time_limit_s=20, workers=2, explain=False)
    shared = lns._Shared(ProgressTracker(time.perf_counter(), None), None)
    clock = lns._Clock(options)
    lns._Search(model, options, shared, clock, 1).construct()
    first = frozenset(shared.keys)
    assert shared.objective > optimum.objective
    hinted, waits = [], []
    real_hint, real_solver = lns.hint_shifts, lns.make_solver

    def hint_shifts(model, chosen, cp=None):
        hinted.append(frozenset(chosen))
        real_hint(model, chosen, cp)

    def make_solver(options, time_limit_s, **kwargs):
        waits.append((shared.lns_waits.is_set(), kwargs.get("workers")))
        return real_solver(options, time_limit_s, **kwargs)

    monkeypatch.setattr(lns, "hint_shifts", hint_shifts)
    monkeypatch.setattr(lns, "make_solver", make_solver)
    lns._whole_model_search(model, options, shared, clock, lns._Stop(shared))
    assert hinted == [first] and waits == [(True, 2)]
    assert not shared.lns_waits.is_set()
    assert shared.optimal and shared.done.is_set()
    assert shared.objective == optimum.objective == shared.bound
    check = validate(problem, keys_to_roster(model, shared.keys))
    assert check.is_valid and check.objective == optimum.objective


@pytest.mark.skipif(not (CURTOIS / "Instance3.txt").exists(), reason="benchmark files not present")
def test_auto_solves_a_mid_sized_benchmark_ward_with_the_lns_and_proves_it():
    """Without hard cover minimums, ``auto`` hands problems above 400 shift variables to
    the LNS with its column-generation bound (Instance3: 598)."""
    from solver.formats.curtois import read_instance

    problem = read_instance(CURTOIS / "Instance3.txt")
    result = solve_checked(problem, time_limit_s=60, workers=2, deterministic=False)
    assert result.stats["strategy"] == "lns" and result.stats["shift_variables"] == 598
    assert result.status is Status.OPTIMAL and result.objective == 1001


def test_a_person_whose_lean_pricing_proves_nothing_is_priced_again_with_the_cuts(monkeypatch):
    problem = soft_ward()
    values = []
    monkeypatch.setattr(colgen, "STOP_AT_INTEGER_BOUND", False)
    # Lean pricing as configured, then lean pricing given no time at all, so that it
    # proves nothing and every person falls back to pricing with the cuts.
    for lean in (colgen.LEAN_PARAMETERS, {**colgen.LEAN_PARAMETERS, "max_deterministic_time": 0.0}):
        monkeypatch.setattr(colgen, "LEAN_PARAMETERS", lean)
        cg, value = converged_relaxation(problem)
        values.append(value)
        falls_back = "max_deterministic_time" in lean
        assert all(p.lean is not falls_back for p in cg.people)
    assert values[0] == pytest.approx(values[1], abs=1e-6)
