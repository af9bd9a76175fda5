"""Our LNS: restricted sub-models price rosters exactly, construction and improvement stay valid.

A restricted model decides for a few people while everybody else is a constant.  On tiny
random wards (the generator of the property tests) its objective at a roster must equal
the validator's objective of the whole roster minus the personal costs of the people left
out; re-optimising those people must give a valid roster whose validated objective moves
by exactly the sub-model's gain.
"""

from __future__ import annotations

import math
import threading
import time

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from solver import SolveOptions, Status, lns, solve, validate
from solver.formats.curtois import read_instance
from solver.lns import _Clock, _Handover, _Incumbent, _RootWatch, _Search, _Shared
from solver.model import add_fairness_tie_break, build_model
from solver.solve import ProgressTracker, keys_to_roster, penalty_items, roster_keys
from solver.domain import CoverRequirement, Fairness, Request, RequestKind
from tests.solver.helpers import person, ward
from tests.solver.test_properties import tiny_problems

OPTIONS = SolveOptions(time_limit_s=30, workers=1, explain=False)


def make_search(problem):
    model = build_model(problem)
    shared = _Shared(ProgressTracker(time.perf_counter(), None), None)
    return model, shared, _Search(model, OPTIONS, shared, _Clock(OPTIONS), 1)


def constructed(problem):
    """A search that has constructed a first roster (wards without hard cover minimums)."""
    assume(not any(need.minimum for need in problem.cover))
    model, shared, search = make_search(problem)
    search.construct()
    return model, shared, search


def personal_cost(check, staff_ids) -> int:
    return sum(cost for staff_id, cost in check.by_staff().items() if staff_id in staff_ids)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(tiny_problems(), st.data())
def test_restricted_model_prices_and_improves_like_the_validator(problem, data):
    result = solve(problem, SolveOptions(time_limit_s=20, workers=1, deterministic=True, explain=False))
    assume(result.roster is not None)
    model, _, search = make_search(problem)
    n = len(problem.staff)
    people = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n)))
    outside = {p.id for i, p in enumerate(problem.staff) if i not in people}
    check = validate(problem, result.roster)
    incumbent = _Incumbent(frozenset(roster_keys(model, result.roster)), n)
    status, new, after, before = search.sub_solve(people, incumbent, limit=20)
    assert before == check.objective - personal_cost(check, outside)
    # The roster is optimal, so the sub-problem cannot improve on it (nor be worse).
    assert status is Status.OPTIMAL and after == before
    merged = keys_to_roster(model, {k for k in incumbent.keys if k[0] not in people} | new)
    again = validate(problem, merged)
    assert again.is_valid and again.objective == check.objective


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(tiny_problems(), st.data())
def test_construction_then_one_step_keeps_the_objective_exact(problem, data):
    model, shared, search = constructed(problem)
    if shared.keys is None:  # someone's own rules cannot be met: the whole problem is infeasible
        assert solve(problem, SolveOptions(time_limit_s=20, workers=1, explain=False)).status is Status.INFEASIBLE
        return
    roster = keys_to_roster(model, shared.keys)
    check = validate(problem, roster)
    assert check.is_valid and check.objective == shared.objective
    n = len(problem.staff)
    people = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n)))
    days = data.draw(st.none() | day_ranges(problem))
    incumbent = _Incumbent(shared.keys, n)
    status, new, after, before = search.sub_solve(people, incumbent, free_days=days, limit=20)
    assert status is Status.OPTIMAL and after <= before
    merged = keys_to_roster(model, {k for k in incumbent.keys if k[0] not in people} | new)
    again = validate(problem, merged)
    assert again.is_valid and again.objective == check.objective - before + after
    if days is not None:  # days outside the window keep their shifts
        kept = {(a.staff_id, a.day, a.shift) for a in roster if a.day not in days}
        assert kept <= {(a.staff_id, a.day, a.shift) for a in merged}


def day_ranges(problem):
    """A range of consecutive days of the horizon, as a set."""
    n = problem.horizon.num_days
    return st.integers(0, n - 1).flatmap(
        lambda first: st.integers(first + 1, n).map(lambda end: set(range(first, end))))


def drawn_step(problem, data, days_or_none=True):
    """A constructed roster (skipped if none), and people and days to free, drawn by hypothesis."""
    model, shared, search = constructed(problem)
    assume(shared.keys is not None)
    n = len(problem.staff)
    people = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n)))
    days = data.draw((st.none() | day_ranges(problem)) if days_or_none else day_ranges(problem))
    return model, shared, search, people, days, _Incumbent(shared.keys, n)


def fixed_outside(model, people, keys, days):
    """Whole-horizon model of ``people`` with every day outside ``days`` fixed to ``keys``."""
    for (i, day, k), var in model.x.items():
        if i in people and day not in days:
            model.cp.add(var == int((i, day, k) in keys))
    return model


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(tiny_problems(), st.data())
def test_a_window_sub_model_finds_what_fixing_the_other_days_finds(problem, data):
    """The window model (other days as constants) against a second formulation."""
    model, shared, search, people, days, incumbent = drawn_step(problem, data, days_or_none=False)
    status, new, after, before = search.sub_solve(people, incumbent, free_days=days, limit=20)
    assert status is Status.OPTIMAL
    whole = fixed_outside(build_model(problem, restriction=search.restriction(people, incumbent)),
                          set(people), shared.keys, days)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(whole.cp) == cp_model.OPTIMAL
    pinned = fixed_outside(build_model(problem, restriction=search.restriction(people, incumbent)),
                           set(people), shared.keys, set())
    assert solver.solve(pinned.cp) == cp_model.OPTIMAL
    incumbent_value = solver.objective_value
    assert solver.solve(whole.cp) == cp_model.OPTIMAL
    # Same gain in both formulations: the window model drops only constants.
    assert before - after == round(incumbent_value - solver.objective_value)
    # Its roster keeps the other days, and the window model built nothing for them.
    assert {k for k in new if k[1] not in days} == {k for k in shared.keys if k[0] in people and k[1] not in days}
    window_model = build_model(problem, restriction=search.restriction(people, incumbent, window=(min(days), max(days) + 1)))
    assert all(var is window_model.true for (i, day, k), var in window_model.x.items() if day not in days)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(tiny_problems(), st.data())
def test_a_sub_model_is_hinted_the_incumbent_in_every_variable(problem, data):
    """Pricing leaves a complete hint (CP-SAT then starts from the incumbent at once)."""
    model, shared, search, people, days, incumbent = drawn_step(problem, data)
    window = (min(days), max(days) + 1) if days else None
    sub = build_model(problem, restriction=search.restriction(people, incumbent, window=window))
    before = search._price(sub, incumbent.keys)
    hint = sub.cp.proto.solution_hint
    assert sorted(hint.vars) == list(range(len(sub.cp.proto.variables)))
    # The hint is the incumbent: its shift variables say what the incumbent works, and
    # the whole assignment is feasible at the price returned.
    hinted = dict(zip(hint.vars, hint.values))
    for (i, day, k), var in sub.x.items():
        if var is not sub.true:
            assert hinted[var.index] == int((i, day, k) in shared.keys)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.fix_variables_to_their_hinted_value = True
    assert solver.solve(sub.cp) == cp_model.OPTIMAL
    assert round(solver.objective_value) == before


class _Overstated:
    """A solver's result as CP-SAT may report it short of optimal: the shifts of a real
    solution, the objective above what they cost."""

    def __init__(self, solver, objective: float) -> None:
        self.solver, self.objective_value = solver, objective

    def boolean_values(self, variables):
        return self.solver.boolean_values(variables)


def test_a_step_short_of_optimal_is_priced_exactly():
    """A step's new value comes from pricing its shifts, not from a solution's objective
    that may overstate them; otherwise the incumbent's value drifts from the truth."""
    cover = tuple(CoverRequirement(day, "E", ideal=2, under_weight=10) for day in range(7))
    problem = ward(num_days=7, staff=4, cover=cover)
    model, shared, search = make_search(problem)
    # Nobody works: 14 shortfalls.
    assert shared.offer(frozenset(), 140)
    incumbent = _Incumbent(shared.keys, 4)
    run, price, priced = search._run, search._price, []

    def recording_price(sub, keys):
        priced.append(price(sub, keys))
        return priced[-1]

    def overstated(sub, limit, parameters=None, workers=None):
        # Whatever the step gains, the objective reported claims none.
        status, solver = run(sub, limit, parameters, workers)
        assert status is Status.OPTIMAL
        return Status.FEASIBLE, _Overstated(solver, priced[0])

    search._run, search._price = overstated, recording_price
    status, new, after, before = search.sub_solve([0, 1], incumbent, limit=20)
    assert status is Status.FEASIBLE and before == 140
    keys = frozenset(new)
    check = validate(problem, keys_to_roster(model, keys))
    assert check.is_valid and check.objective == 0
    # The step carries the exact change of the whole objective: no shortfall left.
    assert after == 0
    assert shared.objective - before + after == check.objective


def test_an_overstated_incumbent_is_settled_and_steps_from_it_inherit_the_doubt():
    cover = tuple(CoverRequirement(day, "E", ideal=2, under_weight=10) for day in range(7))
    problem = ward(num_days=7, staff=4, cover=cover)
    model, shared, search = make_search(problem)
    # A CP-SAT callback offers the empty roster (14 shortfalls: 140) at 50 too much.
    assert shared.offer(frozenset(), 190, exact=False)
    assert not shared.exact
    # An LNS step from it gains what it gains, but its value is still in doubt.
    steps = []

    def step(people, inc, free_days=None, placed=None, limit=None, evaluate=True, allowed=None):
        steps.append(shared.objective)
        shared.done.set()
        return Status.OPTIMAL, {(0, day, 0) for day in range(7)}, 0, 70

    search.sub_solve = step
    search._neighbourhood = lambda kind, inc: ([0], None)
    search.improve()
    assert steps == [190]
    assert shared.objective == 120 and not shared.exact
    # The offering thread settles it once its solve is over: the real value, reported.
    shared.settle(search._score)
    assert shared.exact and shared.objective == 70
    assert validate(problem, keys_to_roster(model, shared.keys)).objective == 70
    assert shared.tracker.history[-1].objective == 70
    # Settling an exact incumbent does nothing.
    shared.settle(lambda keys: 0)
    assert shared.objective == 70


def test_lns_improves_a_constructed_roster_on_a_benchmark_ward(curtois_dir):
    problem = read_instance(curtois_dir / "Instance5.txt")
    result = solve(problem, SolveOptions(time_limit_s=8, workers=1, strategy="lns", explain=False))
    check = validate(problem, result.roster)
    assert check.is_valid and check.objective == result.objective
    assert result.stats["lns_improvements"] > 0
    # The first roster (constructed) is improved on.
    assert result.progress[0].objective > result.objective


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(tiny_problems())
def test_penalties_evaluated_one_person_at_a_time_match_the_whole_model(problem):
    result = solve(problem, SolveOptions(time_limit_s=20, workers=1, deterministic=True, explain=False))
    assume(result.roster is not None)
    model, _, search = make_search(problem)
    keys = roster_keys(model, result.roster)
    assert sorted(search.penalty_items(keys, chunk=1), key=repr) == sorted(penalty_items(model, keys), key=repr)


def test_construction_falls_back_to_any_feasible_roster(curtois_dir):
    """When a group's objective-guided solve finds nothing in time, a plain feasibility solve places it."""
    problem = read_instance(curtois_dir / "Instance3.txt")
    model, shared, search = make_search(problem)
    search.sub_solve = lambda *args, **kwargs: (Status.UNKNOWN, None, None, None)
    search.construct()
    check = validate(problem, keys_to_roster(model, shared.keys))
    assert check.is_valid and check.objective == shared.objective


def run_handover(curtois_dir, bound_search, *, bound_share: float, weak_after: float = 10.0,
                 bound: str = "lp"):
    """Construct a roster of Curtois 5, set the bound to ``bound_share`` of it and watch
    a stand-in bound search (``bound_search(shared)``) with a half-second stall, giving
    up a bound below half the roster after ``weak_after`` seconds (CP-SAT's LP bound
    search; with ``bound="colgen"``, column generation, which ends by itself)."""
    problem = read_instance(curtois_dir / "Instance5.txt")
    model, shared, search = make_search(problem)
    search.construct()
    first = shared.objective
    shared.raise_bound(int(first * bound_share))
    bound_thread = threading.Thread(target=bound_search, args=(shared,))
    bound_thread.start()
    options = SolveOptions(time_limit_s=4, workers=2, explain=False, bound=bound)
    handover = _Handover(model, options, shared, _Clock(options), bound_thread, 1)
    handover.stall, handover.weak_after = 0.5, weak_after
    handover.start()
    handover.join(30)
    bound_thread.join(30)
    return problem, model, shared, handover, first


def test_a_stalled_bound_search_hands_its_worker_to_a_second_lns(curtois_dir):
    released = threading.Event()

    def never_rises(shared) -> None:
        shared.bound_stop.wait(30)
        released.set()

    problem, model, shared, handover, first = run_handover(curtois_dir, never_rises, bound_share=0.6)
    assert released.is_set() and handover.stopped_at is not None
    assert handover.search is not None and handover.search.counts["sub_models"] > 0
    assert shared.objective < first
    check = validate(problem, keys_to_roster(model, shared.keys))
    assert check.is_valid and check.objective == shared.objective


def test_a_rising_bound_keeps_the_bound_search(curtois_dir):
    def rises_for_two_seconds(shared) -> None:
        for _ in range(20):
            shared.raise_bound(shared.bound + 1)
            time.sleep(0.1)

    *_, shared, handover, _ = run_handover(curtois_dir, rises_for_two_seconds, bound_share=0.6)
    assert not shared.bound_stop.is_set()
    assert handover.stopped_at is None and handover.search is None


def test_a_bound_search_still_solving_its_relaxation_is_kept(curtois_dir):
    """A bound far below the roster (root LP not solved yet) is not a stall."""
    def silent_for_three_seconds(shared) -> None:
        shared.bound_stop.wait(3)

    *_, shared, handover, _ = run_handover(curtois_dir, silent_for_three_seconds, bound_share=0.4)
    assert not shared.bound_stop.is_set() and handover.search is None


def test_a_bound_still_far_below_the_roster_late_in_the_run_is_given_up(curtois_dir):
    """Below half the roster after ``weak_after`` (a quarter of the limit in a solve): the
    relaxation has not arrived, and the worker goes to a second LNS thread."""
    released = threading.Event()

    def silent_for_three_seconds(shared) -> None:
        shared.bound_stop.wait(3)
        released.set()

    problem, model, shared, handover, first = run_handover(
        curtois_dir, silent_for_three_seconds, bound_share=0.4, weak_after=1.0)
    assert shared.bound_stop.is_set() and released.is_set()
    assert 1.0 <= handover.stopped_at < 3.0
    assert handover.search is not None and handover.search.counts["sub_models"] > 0
    check = validate(problem, keys_to_roster(model, shared.keys))
    assert check.is_valid and check.objective == shared.objective and shared.objective <= first


def test_the_weak_bound_deadline_is_a_quarter_of_the_time_limit(curtois_dir):
    problem = read_instance(curtois_dir / "Instance1.txt")
    model, shared, _ = make_search(problem)
    options = SolveOptions(time_limit_s=60, workers=2, explain=False, bound="lp")
    handover = _Handover(model, options, shared, _Clock(options), threading.Thread(), 1)
    assert handover.weak_after == 15.0
    shared.offer(frozenset(), 1000)
    shared.raise_bound(400)
    assert not handover.due(handover.started + 14.0) and handover.due(handover.started + 15.5)
    shared.raise_bound(600)  # arrived: now only a stall of max(10 s, 12 s) hands over
    assert not handover.due(shared.bound_at + 11.0) and handover.due(shared.bound_at + 12.5)


def test_a_bound_search_still_finding_better_rosters_is_kept(curtois_dir):
    def finds_rosters_for_two_seconds(shared) -> None:
        for _ in range(20):
            shared.whole_at = time.perf_counter()  # as _BoundCallback does on a better roster
            time.sleep(0.1)

    *_, shared, handover, _ = run_handover(curtois_dir, finds_rosters_for_two_seconds, bound_share=0.6)
    assert not shared.bound_stop.is_set() and handover.search is None


def test_column_generation_keeps_its_worker_until_it_ends_then_a_second_lns_takes_it(curtois_dir):
    """Column generation is neither a stall nor weak while it runs: its thread decides
    when it is done (its support searched, or out of its share of the time)."""
    ended = threading.Event()

    def silent_then_done(shared) -> None:
        time.sleep(2.0)  # far below half the roster, no rise: an LP search would be given up
        ended.set()

    problem, model, shared, handover, first = run_handover(
        curtois_dir, silent_then_done, bound_share=0.1, weak_after=0.5, bound="colgen")
    assert ended.is_set()
    assert handover.stopped_at is not None and handover.stopped_at >= 1.9
    assert handover.search is not None and handover.search.counts["sub_models"] > 0
    check = validate(problem, keys_to_roster(model, shared.keys))
    assert check.is_valid and check.objective == shared.objective and shared.objective <= first


def test_deep_steps_free_more_people_over_the_whole_horizon_for_longer():
    problem = ward(num_days=28, staff=16)
    model, shared, search = make_search(problem)
    shared.offer(frozenset(), 0)  # nobody working breaks no rule of this ward
    steps = []

    def record(people, inc, free_days=None, placed=None, limit=None, evaluate=True, allowed=None):
        assert allowed is None  # no support yet: no guided steps
        steps.append((len(people), free_days, limit))
        if len(steps) == 200:
            shared.done.set()
        return Status.UNKNOWN, None, None, None

    search.sub_solve = record
    search.improve()
    deep_limit = min(2.0, OPTIONS.time_limit_s / 30)
    deep = [step for step in steps if step[2] == deep_limit]
    assert deep and all(days is None for _, days, _ in deep)
    assert all(limit in (search.sub_limit, deep_limit) for *_, limit in steps)
    # The first deep step frees twice the people of the first whole-horizon "people" step.
    people_steps = [n for n, days, limit in steps if days is None and limit == search.sub_limit]
    assert deep[0][0] == 2 * people_steps[0]
    # A short run gives a deep step at most a thirtieth of its time limit.
    short = SolveOptions(time_limit_s=15, workers=1, explain=False)
    assert _Search(model, short, shared, _Clock(short), 1).limits["deep"] == 0.5


def test_the_lns_waits_while_column_generation_holds_every_worker():
    problem = ward(num_days=14, staff=8)
    model, shared, search = make_search(problem)
    shared.offer(frozenset(), 0)
    steps = []

    def record(people, inc, free_days=None, placed=None, limit=None, evaluate=True, allowed=None):
        steps.append(time.perf_counter())
        return Status.UNKNOWN, None, None, None

    search.sub_solve = record
    shared.lns_waits.set()
    thread = threading.Thread(target=search.improve)
    thread.start()
    time.sleep(0.5)
    assert steps == []
    released = time.perf_counter()
    shared.lns_waits.clear()
    time.sleep(0.3)
    shared.done.set()
    thread.join(10)
    assert not thread.is_alive()
    assert steps and steps[0] >= released


def _watch_root(watch, seconds_per_iteration, gaps, lp_value=4000.0):
    """Feed a root's iterations to ``watch``: the first release reason and when, or None.
    ``gaps`` gives each iteration's gap, None while the bound is still below 0."""
    for iteration, gap in enumerate(gaps):
        now = (iteration + 1) * seconds_per_iteration
        bound = -1000.0 if gap is None else lp_value - gap
        reason = watch.release(now, iteration, lp_value, bound)
        if reason is not None:
            return reason, now
    return None


def test_the_lns_waits_for_a_root_that_will_converge_in_its_share(monkeypatch):
    # A 60-s run: the LNS may go on after 20 s; the root's share ends at 36 s.  This root
    # heads in for 15 iterations at 1 s each, then its gap shrinks by 30 % per iteration
    # until it converges at 36 s.
    gaps = [None] * 15 + [1000 * 0.7 ** n for n in range(21)]
    assert gaps[-1] < 1
    # Its gap is within 2 % of the master's value (4,000) from 24 s (58): the LNS goes on
    # then, with the support, and not for the prediction before.
    assert _watch_root(_RootWatch(0.0, 60.0), 1.0, gaps) == ("near convergence", 24.0)
    monkeypatch.setattr(lns, "EARLY_SUPPORT_GAP", 0.0)
    assert _watch_root(_RootWatch(0.0, 60.0), 1.0, gaps) is None
    # At twice the pace, 30 iterations would not fit in 36 s: the LNS goes on at once.
    assert _watch_root(_RootWatch(0.0, 60.0), 2.0, gaps) == ("pace", 6.0)


def test_the_lns_stops_waiting_for_a_root_whose_gap_shrinks_too_slowly():
    # A 300-s run: the LNS may go on after 100 s; the root's share ends at 180 s.  At 3 s
    # per iteration its pace is fine, but its gap shrinks by 5 % per iteration: 134
    # iterations from 1,000 to 1.
    gaps = [None] * 15 + [1000 * 0.95 ** n for n in range(100)]
    reason, when = _watch_root(_RootWatch(0.0, 300.0), 3.0, gaps, lp_value=3500.0)
    assert reason == "slow convergence"
    assert 100.0 < when <= 103.0
    # Within 30 s of the root's deadline the prediction no longer counts.
    for start, expected in ((110.0, "slow convergence"), (121.0, None)):
        watch = _RootWatch(0.0, 300.0)
        reasons = [watch.release(start + 3 * n, 40 + n, 3500.0, 3500.0 - 1000 * 0.95 ** n)
                   for n in range(11)]
        assert reasons == [None] * 10 + [expected]
        assert watch.predicted_s() > 300
    # A bound still below half the master's value past 100 s lets the LNS go on too.
    watch = _RootWatch(0.0, 300.0)
    assert watch.release(99.0, 30, 3500.0, 1000.0) is None
    assert watch.release(101.0, 31, 3500.0, 1000.0) == "weak bound"


# Curtois 19's root on two workers (2026-12-06): seconds and gap (master's value less
# the Lagrangian bound) at each iteration once its bound is above 0, up to its deadline
# at 180 s of 300.
CURTOIS_19_ROOT = [
    (23.7, 2631.6), (24.8, 2076.9), (26.0, 2010.0), (27.1, 1852.2), (30.3, 1382.4),
    (33.6, 1314.3), (38.2, 1112.7), (42.3, 927.8), (45.6, 865.3), (49.4, 824.9),
    (52.8, 793.7), (57.5, 681.4), (61.2, 649.2), (65.6, 549.1), (69.4, 438.5),
    (72.9, 371.6), (76.9, 284.7), (80.2, 255.4), (83.2, 223.2), (86.7, 195.7),
    (89.8, 185.0), (93.3, 139.2), (96.6, 129.5), (100.2, 119.8), (104.6, 103.7),
    (108.7, 91.9), (112.4, 81.6), (116.1, 73.1), (119.6, 58.3), (123.2, 52.9),
    (126.4, 47.6), (129.7, 36.9), (133.2, 32.7), (136.8, 27.0), (140.3, 25.0),
    (143.7, 21.3), (147.0, 18.8), (150.2, 16.7), (153.2, 13.6), (156.2, 9.7),
    (159.6, 7.7), (162.7, 6.2), (165.8, 4.7), (168.8, 3.2), (171.8, 2.5), (174.9, 2.1),
    (178.5, 1.3),
]


def test_the_lns_waits_for_a_root_whose_gap_shrinks_faster_near_its_end(monkeypatch):
    # The last three iterations predicted 114-178 s at 100-117 s, and 85-89 s followed;
    # the last ten at most 1.7 times what followed.
    def first_release():
        watch = _RootWatch(0.0, 300.0)
        for iteration, (now, gap) in enumerate(CURTOIS_19_ROOT, start=16):
            reason = watch.release(now, iteration, 3147.0 + gap, 3147.0)
            if reason is not None:
                return reason, now
        return None

    # The gap is within 2 % of the master's value from 119.6 s (58.3): the LNS goes on
    # with the support from there.  The prediction alone never lets it go.
    assert first_release() == ("near convergence", 119.6)
    monkeypatch.setattr(lns, "EARLY_SUPPORT_GAP", 0.0)
    assert first_release() is None
    # Half of a prediction from the last three iterations let the LNS go on at 104.6 s,
    # leaving the root to finish on one worker: it did not converge by its deadline.
    monkeypatch.setattr(lns, "RELEASE_PREDICTION_SHARE", 0.5)
    monkeypatch.setattr(lns, "PREDICTION_ITERATIONS", 3)
    assert first_release() == ("slow convergence", 104.6)


def test_the_root_watch_predicts_from_its_last_ten_iterations():
    watch = _RootWatch(0.0, 300.0)
    watch.release(10.0, 5, 1000.0, -5.0)
    # The gap shrinks by a fifth every 2 s from 900.
    for j in range(10):
        watch.release(12.0 + 2 * j, 6 + j, 1000.0, 1000.0 - 900 * 0.8 ** j)
    # Only ten gaps since the bound rose above 0.
    assert watch.predicted_s() is None
    watch.release(32.0, 16, 1000.0, 1000.0 - 900 * 0.8 ** 10)
    # From 900 * 0.8 ** 10, ln(gap) / -ln(0.8) more iterations of 2 s.
    expected = 2.0 * math.log(900 * 0.8 ** 10) / -math.log(0.8)
    assert abs(watch.predicted_s() - expected) < 1e-9
    for j in range(10):
        watch.release(34.0 + 2 * j, 17 + j, 1000.0, 1000.0 - 900 * 0.8 ** 10)
    assert watch.predicted_s() == math.inf
    watch.release(54.0, 27, 1000.0, 999.5)
    assert watch.predicted_s() == 0.0


def test_column_generation_takes_every_worker_while_its_relaxation_is_of_use(
        curtois_dir, monkeypatch):
    """The root runs on every worker with the LNS waiting; after a converged root, or one
    stopped at its deadline, the LNS goes on beside the support search, which keeps the
    bound thread's workers; deterministic runs never make the LNS wait."""
    from solver import colgen, lns

    seen = []
    alones: list[bool] = []

    def root(outcome):
        def run_root(self, on_bound, before_each=None, deadline=None):
            seen.append(("root", shared.lns_waits.is_set(), self.workers))
            self.iterations = 1
            self.gave_up = outcome == "given up"
            # A root stopped at its deadline ends near convergence or with a wide gap.
            self.lp_value = 100.0
            self.best_bound = 50.0 if outcome == "deadline, wide gap" else 99.0
            return outcome == "converged"
        return run_root

    def support_search(model, options, shared, clock, workers, *rest, alone=False):
        seen.append(("support", shared.lns_waits.is_set(), workers))
        alones.append(alone)

    monkeypatch.setattr(lns, "_support_search", support_search)
    model = build_model(read_instance(curtois_dir / "Instance2.txt"))
    # Past the weak-bound deadline: a Lagrangian bound below half the master's value lets
    # the LNS go on and leaves the root its own workers; one above half keeps everything.
    monkeypatch.setattr(lns, "LNS_WAIT_SHARE", 0.0)

    def iterate_once(self, on_bound, before_each=None, deadline=None):
        assert self._seed_columns()
        self.best_bound, self.lp_value = bound, 100.0
        before_each()
        seen.append(("root", shared.lns_waits.is_set(), self.workers))
        self.iterations = 1
        tracked.append(self.track_support)
        return True

    monkeypatch.setattr(colgen.ColumnGeneration, "run_root", iterate_once)
    # A gap within EARLY_SUPPORT_GAP of the master's value lets the LNS go on too, with
    # the master's support for its guided steps, and the root keeps each iteration's.
    for bound, waits, workers, reason in ((40, False, 2, "weak bound"), (60, True, 4, None),
                                          (99, False, 2, "near convergence")):
        seen.clear()
        tracked = []
        options = SolveOptions(time_limit_s=5, workers=4, explain=False)
        shared = _Shared(ProgressTracker(time.perf_counter(), None), None)
        lns._column_generation(model, options, shared, _Clock(options), 2)
        assert seen == [("root", waits, workers), ("support", False, 2)]
        assert ("colgen_lns_waited_s" in shared.stats) is not waits
        assert shared.stats.get("colgen_lns_released") == reason
        near = reason == "near convergence"
        assert tracked == [near]
        if near:
            assert len(shared.support) == len(model.problem.staff)
            assert all(shared.support)
        else:
            assert shared.support is None
    monkeypatch.setattr(lns, "LNS_WAIT_SHARE", 100.0)
    # Beside the LNS: (deterministic, outcome, seen, alone in each support search).
    cases = [
        (False, "converged", [("root", True, 4), ("support", False, 2)], [False]),
        (False, "deadline", [("root", True, 4), ("support", False, 2)], [False]),
        (False, "deadline, wide gap", [("root", True, 4), ("support", False, 2)], [False]),
        (False, "given up", [("root", True, 4)], []),
        (True, "converged", [("root", False, 2), ("support", False, 2)], [False]),
    ]
    # Above SUPPORT_EVERY_WORKER_VARIABLES the support search holds every worker, the LNS
    # waiting, alone, after a root that converged or came within EARLY_SUPPORT_GAP of it;
    # not in deterministic runs.
    large = [
        (False, "converged", [("root", True, 4), ("support", True, 4)], [True]),
        (False, "deadline", [("root", True, 4), ("support", True, 4)], [True]),
        (False, "deadline, wide gap", [("root", True, 4), ("support", False, 2)], [False]),
        (False, "given up", [("root", True, 4)], []),
        (True, "converged", [("root", False, 2), ("support", False, 2)], [False]),
    ]
    for threshold, table in ((lns.SUPPORT_EVERY_WORKER_VARIABLES, cases),
                             (len(model.x) - 1, large)):
        monkeypatch.setattr(lns, "SUPPORT_EVERY_WORKER_VARIABLES", threshold)
        for deterministic, outcome, expected, alone in table:
            monkeypatch.setattr(colgen.ColumnGeneration, "run_root", root(outcome))
            seen.clear()
            alones = []
            options = SolveOptions(time_limit_s=5, workers=4, deterministic=deterministic,
                                   explain=False)
            shared = _Shared(ProgressTracker(time.perf_counter(), None), None)
            lns._column_generation(model, options, shared, _Clock(options), 2)
            assert seen == expected, (threshold, deterministic, outcome)
            assert alones == alone
            assert not shared.lns_waits.is_set()


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(tiny_problems(), st.data())
def test_a_guided_step_keeps_to_the_support_and_finds_what_forbidding_the_rest_finds(problem, data):
    """Freed people work only shifts of their support or of the incumbent; against a
    second formulation (the same model with every other shift forbidden by constraints)."""
    model, shared, search, people, _, incumbent = drawn_step(problem, data)
    shifts = sorted({(day, k) for _, day, k in model.x})
    allowed = [set(data.draw(st.sets(st.sampled_from(shifts)))) if shifts else set()
               for _ in problem.staff]
    status, new, after, before = search.sub_solve(people, incumbent, limit=20, allowed=allowed)
    assert status is Status.OPTIMAL and after <= before
    mine = incumbent.of_person
    assert all((day, k) in allowed[i] or mine[i].get(day) == k for i, day, k in new)
    merged = keys_to_roster(model, {k for k in incumbent.keys if k[0] not in people} | new)
    again = validate(problem, merged)
    assert again.is_valid and again.objective == shared.objective - before + after
    second = build_model(problem, restriction=search.restriction(people, incumbent))
    for (i, day, k), var in second.x.items():
        if var is not second.true and (day, k) not in allowed[i] and mine[i].get(day) != k:
            second.cp.add(var == 0)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(second.cp) == cp_model.OPTIMAL
    assert round(solver.objective_value) == after


def test_guided_steps_wait_for_a_support():
    problem = ward(num_days=14, staff=8)
    options = SolveOptions(time_limit_s=2, workers=1, explain=False)
    model = build_model(problem)
    shared = _Shared(ProgressTracker(time.perf_counter(), None), None)
    search = _Search(model, options, shared, _Clock(options), 1)
    search.construct()
    search.improve()
    assert search.by_kind["guided"][0] == 0
    # With a support (here: every shift), guided steps come in.
    shared.support = [{(day, k) for j, day, k in model.x if j == i} for i in range(len(problem.staff))]
    search = _Search(model, options, shared, _Clock(options), 1)
    search.improve()
    assert search.by_kind["guided"][0] > 0
    assert validate(problem, keys_to_roster(model, shared.keys)).objective == shared.objective


def test_guided_steps_start_with_the_highest_credit_when_the_support_arrives(monkeypatch):
    _, _, search = make_search(ward(num_days=7, staff=4))
    # Kinds that gained much on a poor roster before there was a support.
    search.credit.update(people=8.0, window=2.0, cover=3.0, days=5.0, deep=9.0)
    draws = [search._choose_kind(guided=False) for _ in range(300)]
    assert "guided" not in draws
    draws = [search._choose_kind(guided=True) for _ in range(3000)]
    assert search.credit["guided"] == 9.0
    assert abs(draws.count("guided") / len(draws) - 9.0 / 36.0) < 0.03
    # Only once: credit lost later is not given back.
    search.credit["guided"] = 0.3
    search._choose_kind(guided=True)
    assert search.credit["guided"] == 0.3
    # Without the head start, guided steps would start from the initial credit.
    monkeypatch.setattr(lns, "GUIDED_CREDIT", False)
    _, _, search = make_search(ward(num_days=7, staff=4))
    search.credit.update(people=8.0, window=2.0, cover=3.0, days=5.0, deep=9.0)
    search._choose_kind(guided=True)
    assert search.credit["guided"] == 1.0


def test_a_whole_model_with_a_tie_break_shares_its_objective_and_bound_unscaled():
    """Below the objective, a tie-break multiplies CP-SAT's objective by its scale; what a
    whole-model solve shares with the LNS must be the roster's objective and bound."""
    cover = tuple(CoverRequirement(day, "N", ideal=1, under_weight=300, over_weight=300)
                  for day in range(7))
    problem = ward(num_days=7, staff=3, cover=cover, fairness=Fairness(nights_weight=1))
    model = build_model(problem)
    add_fairness_tie_break(model)
    assert model.objective_scale > 1
    shared = _Shared(ProgressTracker(time.perf_counter(), None), None)
    status = lns._first_solution(model, OPTIONS, shared, _Clock(OPTIONS), 1, final=True)
    assert status.has_roster
    check = validate(problem, keys_to_roster(model, shared.keys))
    # Seven nights among three people: loads 300, 200, 200 at best, a spread of 100.
    assert check.is_valid and check.objective == shared.objective == 100
    assert shared.exact == (status is Status.OPTIMAL)
    assert shared.bound <= 100


def test_an_escape_step_loses_shortfall_even_at_a_higher_cost_and_is_not_offered():
    # Covering Wednesday's early costs the nurse's day-off wish (150), more than the
    # missing shift (100): the incumbent, short there, is the optimum, and no ordinary
    # step would leave it.  An escape must lose the shortfall whatever that costs.
    problem = ward(staff=1, cover=(CoverRequirement(2, "E", ideal=1, under_weight=100),),
                   requests=(Request("n0", 2, None, 150, RequestKind.OFF),))
    model, shared, search = make_search(problem)
    empty = _Incumbent(frozenset(), 1)
    assert validate(problem, keys_to_roster(model, empty.keys)).objective == 100
    escaped = search._escape(empty, version=0)
    assert escaped is not None
    keys, value = escaped
    check = validate(problem, keys_to_roster(model, keys))
    assert check.is_valid and check.objective == value == 150
    assert (0, 2, 0) in keys  # the early on Wednesday is worked
    assert search.counts["escapes_found"] == 1
    assert shared.keys is None  # nothing offered: the escape is worse than where it began
    # With no shortfall left there is nothing to escape from.
    assert search._escape(_Incumbent(keys, 1), version=1) is None


def test_an_excursion_never_replaces_the_incumbent_with_a_worse_roster(monkeypatch):
    monkeypatch.setattr(lns, "ESCAPE_AFTER", 1)
    problem = ward(staff=1, cover=(CoverRequirement(2, "E", ideal=1, under_weight=100),),
                   requests=(Request("n0", 2, None, 150, RequestKind.OFF),))
    options = SolveOptions(time_limit_s=1.5, workers=1, explain=False)
    model = build_model(problem)
    shared = _Shared(ProgressTracker(time.perf_counter(), None), None)
    search = _Search(model, options, shared, _Clock(options), 1)
    shared.offer(frozenset(), 100)
    search.improve()
    assert search.counts["escapes_found"] >= 1  # it did go on from the 150 roster
    assert shared.objective == 100 and shared.keys == frozenset()


def test_an_escape_that_is_better_at_once_is_offered_at_once(monkeypatch):
    # Nothing stands in the way of covering Wednesday's early: the escape's roster is
    # better than the incumbent, which must not wait for a later step to offer it (the
    # ordinary steps here never gain, so only an immediate offer can reach 0).
    monkeypatch.setattr(lns, "ESCAPE_AFTER", 1)
    problem = ward(staff=1, cover=(CoverRequirement(2, "E", ideal=1, under_weight=100),))
    options = SolveOptions(time_limit_s=1.0, workers=1, explain=False)
    model = build_model(problem)
    shared = _Shared(ProgressTracker(time.perf_counter(), None), None)
    search = _Search(model, options, shared, _Clock(options), 1)
    monkeypatch.setattr(search, "sub_solve",
                        lambda *args, **kwargs: (Status.UNKNOWN, None, None, None))
    shared.offer(frozenset(), 100)
    search.improve()
    assert search.counts["escapes_found"] >= 1
    assert shared.objective == 0 and (0, 2, 0) in shared.keys
    check = validate(problem, keys_to_roster(model, shared.keys))
    assert check.is_valid and check.objective == 0


def test_a_window_proven_infeasible_is_not_tried_again_from_the_same_incumbent():
    # The only nurse is on leave on Wednesday: no roster covers its early, so an escape
    # around it is infeasible, and solving it again from the same incumbent would only
    # prove that again.
    nurse = person("n0", unavailable_days=frozenset({2}))
    problem = ward(staff=(nurse,), num_days=3,
                   cover=(CoverRequirement(2, "E", ideal=1, under_weight=100),))
    _, _, search = make_search(problem)
    empty = _Incumbent(frozenset(), 1)
    assert search._escape(empty, version=3) is None
    assert search.counts["escapes"] == 1
    assert search._escape(empty, version=3) is None
    assert search.counts["escapes"] == 1  # not solved again
    assert search._escape(empty, version=4) is None  # a new incumbent: tried again
    assert search.counts["escapes"] == 2
