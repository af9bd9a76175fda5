"""Our large-neighbourhood search (LNS) around CP-SAT.

Two threads share the machine's workers:

* a *bound* thread runs column generation (:mod:`solver.colgen`): the relaxation over
  each person's whole rosters, far tighter than the compact model's, then rounds of
  CP-SAT on the whole model limited to the shifts its solution uses; or, with
  ``bound="lp"``, CP-SAT on the whole model with the full LP relaxation (linearization
  level 2), whose rosters also count;
* the *LNS* thread keeps an incumbent roster and repeatedly re-optimises a few people
  (over the whole horizon, or over a window of days with their other days fixed).  Each
  step builds a small model of just those people -- everybody else is a constant, seen
  only through the cover they already give and their fairness loads (see
  :class:`solver.model.Restriction`) -- and, for a window, of just those days, so a step
  costs milliseconds of model building and presolve, not a presolve of the whole ward.
  Which people: random ones, people who could fix a cover shortfall or excess, or people
  around a day window; each step gets 0.3 s, except *deep* steps, which free twice as
  many people over the whole horizon for 2 s (long horizons need them), and *guided*
  steps, which free twice as many again, each limited to the shifts the relaxation's
  solution gives them (column generation's support) and their incumbent shifts.  The
  number of people adapts per kind: it grows after sub-problems solved to optimality
  without gain and shrinks after ones that time out.  When the incumbent has not
  improved for a while, an *escape* step re-optimises everybody over a wide window
  around a short slot, required to lose some cover shortfall whatever else that costs;
  the thread then goes on from that worse roster for a while (an *excursion*), offering
  it only once it beats the incumbent (see :meth:`_Search._escape`).

When the problem has no hard cover minimum, the first roster is *constructed* the same
way: a few people at a time, each group optimised against the cover the earlier groups
already give.  Every person's hard rules concern only that person, so this always finds
a roster when one exists, and fast even for a year-long horizon where a monolithic solve
finds none.  With hard cover minimums the first roster comes from CP-SAT on the whole
model.

Column generation ends by itself: when its rounds in the relaxation's support stop
finding better rosters, or when its root would not converge within 60 % of the time
limit, at the pace of its first iterations.  The LP bound search stops when the bound
has reached half the incumbent's objective and then neither rises nor brings a better
roster for 20 % of the time limit (at least 10 s), or when it is still below half after
a quarter of the time limit.  Either way a second LNS thread, with its own seed, then
takes its workers; both improve the same incumbent.

The threads stop at the time limit, on ``stop_event``, or when the incumbent meets the
bound.  In deterministic mode (one worker) the LNS counts CP-SAT's deterministic time
instead of the clock, so runs repeat exactly.
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from ortools.sat.python import cp_model

from solver.domain import Roster
from solver.model import Restriction, RosterModel, build_model
from solver import result as names
from solver.result import Status
from solver.solve import (
    _STATUS, ProgressTracker, SolveOptions, StopWatcher, add_hints, has_cover_minimums,
    hint_everything, hint_shifts, keys_to_roster, make_solver, penalty_items, read_values,
    roster_keys, solve_at_hint,
)
from solver.validate import validate

_DEBUG = bool(os.environ.get("SOLVER_LNS_DEBUG"))

Key = tuple[int, int, int]
# Above this many shift variables there is no whole-model bound search (see run_lns).
BOUND_SEARCH_LIMIT = 300_000
# A whole-model bound still below half the incumbent after this share of the time limit
# is given up (see _Handover).  Curtois 12, 60 s, seeds 0-15: mean 4,512 against 4,652.
WEAK_BOUND_AFTER = 0.25
# Sub-problems are small and many: skip the probing and symmetry detection of presolve
# (Curtois 8 / 12, 20 s, one worker, two seeds: 1605 / 5350 on average against 1647 / 5502).
SUB_PARAMETERS: dict = {"cp_model_probing_level": 0, "symmetry_level": 0}
# Time limit of a "deep" step: more people over the whole horizon, which 0.3 s does not
# solve (Curtois 17 from a 60-s roster: six people, 100 steps at 0.3 s, none optimal and
# no gain; 30 steps at 2 s, half optimal, one of them a shortfall less).
DEEP_LIMIT_S = 2.0
# Column generation's share of the time limit to converge at the root; when it has not
# by then, its worker goes to a second LNS thread (the bound found so far stands).
COLGEN_ROOT_SHARE = 0.6
# Rounds of the search in the relaxation's support (see _support_search): each this share
# of the time limit, at least this long, until this many in a row find nothing better.
SUPPORT_ROUND_SHARE = 0.1
SUPPORT_ROUND_MIN_S = 10.0
SUPPORT_STALL = 2
# Guided steps start, when the relaxation's support arrives, with the highest credit of
# any kind, not the initial 1.  The support arrives late (on Curtois 19 at 300 s, after a
# root of 180 s), when kinds that gained much on a poor roster have a high credit: two
# runs of 19 with the same course gave 47 guided steps (gain 2,338; 3,224 in the end)
# and 7 (gain 13; 4,104).  A fixed share of a third instead helped 19 and 15 but cost
# Curtois 8 (60 s) its better rosters: none of four seeds within 2 % against two.
GUIDED_CREDIT = True
# The LNS waits for column generation's root (see _column_generation) until this share of
# the time limit at most if the Lagrangian bound is then still below half the master's
# value.  Curtois 12 at 60 s: 0.8-0.9 at 20 s, converged at 33 s; the heading-in (bound
# below 0) lasts until 12-15 s, so a quarter of the limit was too early; 19 at 300 s: 0.76
# at 100 s; 13: below 0.
LNS_WAIT_SHARE = 1 / 3
# The LNS also stops waiting for the root as soon as this many iterations at the root's
# pace so far would not fit in its share of the time limit (Curtois 8-17 need 20-35);
# and, past LNS_WAIT_SHARE, when this share of the time its gap's recent shrinking
# predicts it needs to converge would take it past its deadline, unless that deadline is
# less than RELEASE_MIN_GAIN of the time limit away (see _RootWatch).
# The prediction runs long, since the gap shrinks faster as the root nears its end, and
# over the last three iterations alone it jumps from one iteration to the next: on
# Curtois 19 (300 s) those said 114-178 s at 100-117 s where 85-89 s followed, and the
# last ten at most 1.7 times what followed.  A release there leaves the root unconverged
# on one worker: 3,569 and 3,463 (released at 101 s and 141 s) against 3,224 for a run
# whose root converged at 180 s.  On a slower machine the prediction said 490 s at 102 s.
RELEASE_ITERATIONS = 30
RELEASE_PREDICTION_SHARE = 0.25
PREDICTION_ITERATIONS = 10
RELEASE_MIN_GAIN = 0.1
# Past LNS_WAIT_SHARE, a root whose gap is down to this share of the master's value lets
# the LNS go on with the master's support for its guided steps, renewed at each further
# iteration, while the root goes on on its own workers (see _column_generation).  The
# last 2 % of 19's gap took a third of its root (the recorded trace: 2 % at 120 s,
# converged at 179 s); on a slower machine its root reached its 180-s deadline still at
# 1-2 %, and guided steps only began then.  19 at 300 s, seeds 0 and 1: 3,199 and 3,220
# against 3,380 and 3,334; with the root kept on every worker, 3,397 and 3,381.
EARLY_SUPPORT_GAP = 0.02
# Above this many shift variables the support search holds every worker (the LNS waits)
# and its first round starts from the master's heaviest columns, not the incumbent, with
# the time left.  There LNS steps are slow (Curtois 13, 39,936 shift variables: about
# 200 steps in the 180 s after its root) and CP-SAT's own LNS inside the support search
# needs a second worker (on one it runs none).  At 300 s, against the LNS beside a
# one-worker support search: 13, seeds 0-2: 1,752, 1,850, 1,954 against 2,889 (seed 0);
# 19 (9,728), seeds 0-2: 3,272, 3,173, 3,272 against 3,678, 3,288, 3,303; but 15 (6,726),
# seeds 0 and 1: 4,065 and 4,146 against 3,937 and 3,952.  12 (10,452, 60 s) is proven
# optimal either way (38-39 s against 30-36 s).  On 13, from the incumbent (the
# constructed roster: the LNS waited for the root) 2,155 and 2,787, and from the
# heaviest columns in 30-s rounds 1,952 and 2,148.  Only after a root that converged or
# came within EARLY_SUPPORT_GAP of it (see _column_generation).
SUPPORT_EVERY_WORKER_VARIABLES = 8_000
# The search alone runs CP-SAT on this many threads more than there are workers, only
# one of them a full-problem worker.  With as many threads as workers (two), one is the
# full-LP worker, whose bound nobody needs there, and CP-SAT's LNS, which finds nearly
# all the better rosters, shares the other with its local search; with a third thread
# and one full worker, those interleaved subsolvers have two threads, about two thirds
# of the two cores.  Curtois 13 at 300 s, seeds 0-2 (the same roots): 1,850, 1,848 and
# 1,554 against 1,945, 1,947 and 2,046; three threads with two full workers: 1,746 and
# 1,950 (seeds 0, 1).  19, seed 0: 3,168 against 3,171; 12 (60 s) proven optimal.
SUPPORT_ALONE_EXTRA_THREADS = 1
# Up to this many shift variables, a stalled support search hands its workers to
# CP-SAT on the whole model (see _whole_model_search).
WHOLE_MODEL_VARIABLES = 2_000
# Escape steps (see _Search._escape): after this many LNS steps without a better
# incumbent, on models up to this many shift variables; everybody over this many days,
# for at most this long; then up to this many steps from the escape's roster.  Where
# the fewest missing shifts are set by the staff's maximums (Curtois 8: 86 nights asked,
# 74 allowed), rosters one shift short of that polish their requests into a local
# optimum that no cheaper roster neighbours: the 12th-fewest-shortfall roster costs more
# until its requests are re-optimised.  8 at 60 s, seeds 0-17: within 2 % of the best
# known in 8 runs against 3 without escapes (one machine, 2026-12-07).  Below 9's size
# (2,912), which ended a shortfall above its optimum (539) in one run of four with them
# and at 439 in every run before.  Not on 15 either (300 s, escapes up to 10,000 shift
# variables and 10 s each, seeds 0-2: 3,857, 3,962 and 4,044 against 3,878, 3,862 and
# 4,136 without): its escapes mostly prove their window infeasible, at 0.2-5 s each.
ESCAPE_AFTER = 10
ESCAPE_VARIABLES = 2_500
ESCAPE_DAYS = 12
ESCAPE_LIMIT_S = 3.0
ESCAPE_STEPS = 60


class _Shared:
    """State shared by the two threads."""

    def __init__(self, tracker: ProgressTracker, stop_event) -> None:
        self.tracker = tracker
        self.stop_event = stop_event
        self.lock = threading.Lock()
        self.keys: frozenset | None = None
        self.objective: int | None = None
        # False while ``objective`` may overstate the incumbent's value (see offer).
        self.exact = True
        self.version = 0
        self.bound: float = float("-inf")
        self.bound_at = time.perf_counter()
        # When the whole-model search last found the best roster so far.
        self.whole_at = float("-inf")
        self.bound_stop = threading.Event()
        # Set while column generation works on every worker: the LNS waits meanwhile.
        self.lns_waits = threading.Event()
        # Per person, the shifts the relaxation's solution uses (see _support_search).
        self.support: list[set] | None = None
        self.optimal = False
        self.infeasible = False
        self.done = threading.Event()
        self.stats = {"lns_iterations": 0, "lns_improvements": 0}

    def offer(self, keys, objective: int, *, equal: bool = False, exact: bool = True) -> bool:
        """Make ``keys`` the incumbent if it is better (or as good, with ``equal``).

        ``exact=False`` says ``objective`` may overstate the roster's value: a solution
        CP-SAT reports before it has proved it optimal may leave a penalty's variable
        above what its shifts imply (one shortfall too many: 100 on Curtois 19).  LNS
        steps from such a roster inherit the flag; the thread that offered it re-scores
        the incumbent once its solve is over (see :meth:`settle`), so the search compares
        real values and the progress report shows them.
        """
        with self.lock:
            if self.objective is not None and (objective > self.objective or
                                               (objective == self.objective and not equal)):
                return False
            improved = self.objective is None or objective < self.objective
            self.keys, self.objective = frozenset(keys), objective
            self.exact = exact
            self.version += 1
        if improved:
            self.tracker.report(objective, self.bound)
        self.check_done()
        return True

    def settle(self, score: Callable[[frozenset], int | None]) -> None:
        """Re-score the incumbent with ``score`` if its value may be overstated."""
        with self.lock:
            if self.exact or self.keys is None:
                return
            keys, version = self.keys, self.version
        objective = score(keys)
        with self.lock:
            if version != self.version or objective is None:
                return
            improved = objective < self.objective
            self.objective = min(self.objective, objective)
            self.exact = True
        if improved:
            self.tracker.report(objective, self.bound)
        self.check_done()

    def raise_bound(self, bound: float) -> None:
        with self.lock:
            if bound > self.bound + 1e-6:
                self.bound, self.bound_at = bound, time.perf_counter()
        self.check_done()

    def check_done(self) -> None:
        if self.objective is not None and self.bound >= self.objective - 1e-6:
            self.optimal = True
            self.done.set()

    def should_stop(self) -> bool:
        return self.done.is_set() or (self.stop_event is not None and self.stop_event.is_set())


class _Stop:
    """Adapter so StopWatcher can watch the shared state (and, if given, another event)."""

    def __init__(self, shared: _Shared, also: threading.Event | None = None) -> None:
        self.shared, self.also = shared, also

    def is_set(self) -> bool:
        return self.shared.should_stop() or (self.also is not None and self.also.is_set())


class _OfferCallback(cp_model.CpSolverSolutionCallback):
    """Offers each roster a solve of the whole model (or a clone of it) finds."""

    def __init__(self, model: RosterModel, shared: _Shared) -> None:
        super().__init__()
        self.model, self.shared = model, shared
        self.keys = list(model.x)
        self.vars = [model.x[k] for k in self.keys]

    def on_solution_callback(self) -> None:
        flags = [self.boolean_value(v) for v in self.vars]
        keys = {k for k, f in zip(self.keys, flags) if f}
        objective = self.model.objective_of(self.objective_value)
        if not self.shared.offer(keys, objective, exact=False):
            return
        self.shared.whole_at = time.perf_counter()
        if _DEBUG:
            print(f"{type(self).__name__} roster {objective} "
                  f"at {self.wall_time:.1f}s", flush=True)


class _BoundCallback(_OfferCallback):
    """Also raises the bound: for solves of the whole model, unrestricted."""

    def on_solution_callback(self) -> None:
        self.shared.raise_bound(self.model.bound_of(self.best_objective_bound))
        super().on_solution_callback()


class _FirstCallback(_BoundCallback):
    """Reports rosters; stops a little after the first one so LNS can take over."""

    def __init__(self, model, shared) -> None:
        super().__init__(model, shared)
        self.first_at = None
        self.started = time.perf_counter()

    def on_solution_callback(self) -> None:
        super().on_solution_callback()
        now = time.perf_counter()
        if self.first_at is None:
            self.first_at = now
        if now - self.started > 2.0 + (self.first_at - self.started):
            self.stop_search()


class _Clock:
    """Time left for the LNS: the wall clock, or CP-SAT's deterministic time."""

    def __init__(self, options: SolveOptions) -> None:
        self.deterministic = options.deterministic
        self.limit = options.time_limit_s
        self.deadline = time.perf_counter() + options.time_limit_s
        self.spent = 0.0

    def remaining(self) -> float:
        if self.deterministic:
            return self.limit - self.spent
        return self.deadline - time.perf_counter()

    def charge(self, solver: cp_model.CpSolver) -> None:
        # A small charge per step keeps deterministic runs finite even when every
        # sub-problem is trivial.
        self.spent += solver.deterministic_time + 0.002


def run_lns(model: RosterModel, options: SolveOptions, tracker: ProgressTracker, stop_event):
    """Search with LNS + a bound thread; returns (status, keys, bound)."""
    clock = _Clock(options)
    shared = _Shared(tracker, stop_event)
    problem = model.problem
    if options.warm_start is not None:
        add_hints(model, options.warm_start)
        _offer_warm_start(model, options.warm_start, shared)
    lns_workers = max(1, options.workers // 2) if options.workers > 1 else 1
    bound_workers = options.workers - lns_workers
    constructive = not has_cover_minimums(problem)
    if not constructive and shared.keys is None:
        first = _first_solution(model, options, shared, clock, options.workers)
        if first is Status.INFEASIBLE or first is Status.MODEL_INVALID:
            return first, None, None
    bound_thread = None
    if len(model.x) > BOUND_SEARCH_LIMIT:
        # A year of a large hospital: the whole-model search finds neither roster nor
        # bound in any useful time and its presolve alone needs gigabytes.
        lns_workers, bound_workers = options.workers, 0
    handover = None
    if bound_workers > 0 and not shared.should_stop():
        bound_thread = threading.Thread(
            target=_bound_search, args=(model, options, shared, clock, bound_workers), daemon=True)
        bound_thread.start()
        if not options.deterministic:
            handover = _Handover(model, options, shared, clock, bound_thread, bound_workers)
            handover.start()
    search = _Search(model, options, shared, clock, lns_workers)
    if shared.keys is None and constructive:
        # When someone's own rules cannot be met this finds nothing, and CP-SAT on the
        # whole model decides.
        search.construct()
    if shared.keys is None and bound_thread is None:
        first = _first_solution(model, options, shared, clock, options.workers, final=True)
        if first is Status.INFEASIBLE or first is Status.MODEL_INVALID:
            return first, None, None
    # No roster yet: the bound search keeps looking; LNS starts from its first roster.
    while shared.keys is None and not shared.should_stop() and clock.remaining() > 0:
        shared.done.wait(0.2)
    if shared.keys is not None:
        search.improve()
    shared.done.set()
    if handover is not None:
        handover.join()
    if bound_thread is not None:
        bound_thread.join()
    if shared.keys is None:
        return (Status.INFEASIBLE if shared.infeasible else Status.UNKNOWN), None, None
    status = Status.OPTIMAL if shared.optimal else Status.FEASIBLE
    bound = shared.bound if shared.bound != float("-inf") else None
    tracker.stats = {**shared.stats, **search.stats()}
    if handover is not None:
        tracker.stats["bound_search_stopped_s"] = handover.stopped_at
        if handover.search is not None:
            for name in ("sub_models", "escapes", "escapes_found"):
                tracker.stats[name] += handover.search.counts[name]
            tracker.stats["by_kind"] = _add_tallies(search.by_kind, handover.search.by_kind)
    if len(model.x) > BOUND_SEARCH_LIMIT:
        tracker.items = search.penalty_items(shared.keys)
    return status, set(shared.keys), bound


def _validated(model: RosterModel, keys) -> int | None:
    """Objective of a whole roster by the independent validator (None if not valid)."""
    check = validate(model.problem, keys_to_roster(model, keys))
    return check.objective if check.is_valid else None


def _offer_warm_start(model: RosterModel, roster: Roster, shared: _Shared) -> None:
    """Start from the warm-start roster when it is complete and valid."""
    check = validate(model.problem, roster)
    if check.is_valid:
        shared.offer(roster_keys(model, roster), check.objective)


def _first_solution(model, options, shared, clock, workers, final=False):
    """Run CP-SAT on the whole model until the first roster (or a short budget)."""
    remaining = clock.remaining()
    budget = remaining if final else min(remaining, max(5.0, 0.15 * options.time_limit_s))
    solver = make_solver(options, max(budget, 0.1), workers=workers)
    callback = _FirstCallback(model, shared) if not final else _BoundCallback(model, shared)
    with StopWatcher(solver, _Stop(shared)):
        code = solver.solve(model.cp, callback)
    clock.charge(solver)
    return _take_whole_solve(model, shared, solver, code)


def _take_whole_solve(model, shared, solver: cp_model.CpSolver, code) -> Status:
    """Share what a solve of the whole model found: its bound, its roster, its proof."""
    status = _STATUS[code]
    if status.has_roster:
        shared.raise_bound(model.bound_of(solver.best_objective_bound))
        shared.offer(read_values(model, solver), model.objective_of(solver.objective_value),
                     exact=status is Status.OPTIMAL)
        if status is Status.OPTIMAL:
            shared.optimal = True
            shared.done.set()
    shared.settle(partial(_validated, model))
    return status


class _RootWatch:
    """Whether column generation's root is still worth the LNS's wait.

    It records, at each iteration, the gap between the master's value and the best
    Lagrangian bound.  The root converges once that gap is below 1 (the integer bound is
    then final), and near the end the gap shrinks by a roughly steady factor per
    iteration, so the last ``PREDICTION_ITERATIONS`` predict how long the rest will
    take.  That prediction runs long, the shrinking speeding up towards the end
    (Curtois 12 at 20 s of 60: 25 iterations to go where 16 followed; 19 at 100-150 s
    of 300: up to 1.7 times what followed), hence only a quarter of it counts
    (``RELEASE_PREDICTION_SHARE``).  Near the root's deadline a release would give the
    LNS little time and could cost the root its convergence (Curtois 15 at 300 s on a slow
    machine: predicted 44 s at 166 s, converged at 169 s), so the prediction counts only
    until ``RELEASE_MIN_GAIN`` of the time limit before the deadline.  A root nearly
    converged (its gap within ``EARLY_SUPPORT_GAP`` of the master's value) lets the LNS
    go on too, with the master's support (see :func:`_column_generation`).
    """

    def __init__(self, started: float, time_limit_s: float) -> None:
        self.started = started
        self.release_at = started + LNS_WAIT_SHARE * time_limit_s
        self.deadline = started + COLGEN_ROOT_SHARE * time_limit_s
        self.last_prediction = self.deadline - RELEASE_MIN_GAIN * time_limit_s
        self.gaps: list[tuple[float, float]] = []

    def predicted_s(self) -> float | None:
        """Seconds to a gap below 1 at the pace and shrinking of the last
        ``PREDICTION_ITERATIONS`` iterations (inf when the gap did not shrink), or None
        while fewer gaps than that are known since the bound rose above 0."""
        n = PREDICTION_ITERATIONS
        if len(self.gaps) <= n:
            return None
        (then, before), (now, gap) = self.gaps[-1 - n], self.gaps[-1]
        if not before < math.inf:
            return None
        if gap <= 1.0:
            return 0.0
        factor = (gap / before) ** (1 / n)
        if factor >= 1.0:
            return math.inf
        return (now - then) / n * math.log(gap) / -math.log(factor)

    def release(self, now: float, iterations: int, lp_value: float, bound: float) -> str | None:
        """Record an iteration's state; why the LNS should go on now, or None."""
        self.gaps.append((now, lp_value - bound if bound > 0 else math.inf))
        if iterations >= 2 and (
                (now - self.started) / (iterations + 1) * RELEASE_ITERATIONS
                > self.deadline - self.started):
            return "pace"
        if now <= self.release_at:
            return None
        if bound < 0.5 * lp_value:
            return "weak bound"
        if _near_convergence(lp_value, bound):
            return "near convergence"
        predicted = self.predicted_s()
        if (predicted is not None and now <= self.last_prediction
                and now + RELEASE_PREDICTION_SHARE * predicted > self.deadline):
            return "slow convergence"
        return None


def _near_convergence(lp_value: float, bound: float) -> bool:
    """Whether a root's gap is within ``EARLY_SUPPORT_GAP`` of the master's value."""
    return lp_value - bound <= EARLY_SUPPORT_GAP * lp_value


def _bound_search(model, options, shared, clock, workers):
    """The bound thread: column generation and its support, or whole-model CP-SAT's LP bound."""
    if options.bound == "colgen":
        _column_generation(model, options, shared, clock, workers)
    else:
        _lp_bound_search(model, options, shared, clock, workers)


def _column_generation(model, options, shared, clock, workers):
    """The set-partitioning relaxation's bound (see solver.colgen), then rosters from its support.

    The master starts from the incumbent's columns and takes in each new incumbent's.  A
    root that converged, or ran until its deadline, goes on to the support search; one
    given up for its pace does not (a few iterations' support is no guide: on Curtois 8,
    the support after 11-15 iterations took the 1,541 roster to 1,518-1,521 in 20 s, the
    converged one to 1,398).

    The root runs on every worker while the LNS, once it has a roster, waits
    (``shared.lns_waits``; not in deterministic runs, whose clock only the LNS
    advances): on Curtois 12 at 60 s the root then converges at 31-34 s instead of 52 s
    alone on its worker.  The LNS goes on (and the root keeps only its own workers) when
    the root is not worth the wait (:class:`_RootWatch`): its pace is too slow, or after
    ``LNS_WAIT_SHARE`` of the time limit its Lagrangian bound is still below half the
    master's value or its gap shrinks too slowly; or past that point its gap is down to
    ``EARLY_SUPPORT_GAP`` of the master's value, when the guided steps start at once from
    the master's support, renewed at each further iteration of the root.  On Curtois 13
    and 19 at 300 s, waiting for the whole 180-s root and its support search ended at
    2,809 and 4,222, against 2,085 and 3,383 with the LNS on both workers.  Once the root
    is over, the support search keeps the bound thread's own workers and the LNS goes on
    beside it.  Giving the support search every worker (the LNS waiting) proved 12's
    optimum in 6 runs of 6 at 60 s against 5 of 8, but left 8 at 1,396-1,399 (13
    shortfalls) in 6 runs of 9, against 2 of 12 with the LNS beside it; a first support
    round on every worker and the LNS after it did no better on 8 (5 runs of 8 at 1,396
    or more).  Above ``SUPPORT_EVERY_WORKER_VARIABLES`` shift variables, where LNS steps
    are slow, the support search holds every worker instead and starts from the master's
    heaviest columns, provided the root converged or its gap came within
    ``EARLY_SUPPORT_GAP`` of the master's value.
    """
    from solver.colgen import ColumnGeneration

    stop = _Stop(shared, shared.bound_stop)
    started = time.perf_counter()
    waits = not options.deterministic
    if waits:
        shared.lns_waits.set()
    watch = _RootWatch(started, options.time_limit_s)
    try:
        cg = ColumnGeneration(model, should_stop=stop.is_set, remaining=clock.remaining,
                              workers=options.workers if waits else workers,
                              seed=options.seed + 17)
        version = -1

        def take_incumbent() -> None:
            nonlocal version
            with shared.lock:
                keys, version_now = shared.keys, shared.version
            if keys is not None and version_now != version:
                version = version_now
                cg.add_roster(keys)

        def before_iteration() -> None:
            nonlocal waits
            take_incumbent()
            if cg.latest_support is not None:
                shared.support = cg.latest_support[0]
            if not waits:
                return
            now = time.perf_counter()
            reason = watch.release(now, cg.iterations, cg.lp_value, cg.best_bound)
            if reason is not None:
                # Not worth the wait: the LNS goes on, the root on its own workers.
                waits = False
                cg.workers = workers
                shared.lns_waits.clear()
                shared.stats["colgen_lns_waited_s"] = round(now - started, 2)
                shared.stats["colgen_lns_released"] = reason
                if reason == "near convergence":
                    # The guided steps start now, from the master's support.
                    support = cg.support()
                    if support is not None:
                        shared.support = support[0]
                    cg.track_support = True

        def raise_bound(bound: int) -> None:
            # Every weight is at least 0, so is every objective: early Lagrangian bounds
            # below 0 say nothing.
            shared.raise_bound(max(0, bound))

        take_incumbent()
        converged = cg.run_root(raise_bound, before_each=before_iteration,
                                deadline=started + COLGEN_ROOT_SHARE * options.time_limit_s)
        root_s = time.perf_counter() - started
        shared.stats["colgen_root_s"] = round(root_s, 2)
        shared.stats["colgen_iterations"] = cg.iterations
        shared.stats["colgen_columns"] = cg.columns
        shared.stats["colgen_gave_up"] = cg.gave_up
        if not converged and (cg.gave_up or cg.iterations == 0):
            return
        # The LNS goes on beside the support search, but above
        # SUPPORT_EVERY_WORKER_VARIABLES it waits while the search holds every worker,
        # when the root converged or came within EARLY_SUPPORT_GAP of it: an unconverged
        # master's heaviest columns are no guide (Curtois 20 at 600 s, its root stopped
        # at its deadline with a gap of 49 %: 5,591 alone against 5,049 beside the LNS).
        near = converged or _near_convergence(cg.lp_value, cg.best_bound)
        every = (not options.deterministic and near
                 and len(model.x) > SUPPORT_EVERY_WORKER_VARIABLES)
        if every:
            shared.lns_waits.set()
        else:
            shared.lns_waits.clear()
        _support_search(model, options, shared, clock, options.workers if every else workers,
                        cg, stop, take_incumbent, alone=every)
        shared.stats["colgen_support_s"] = round(time.perf_counter() - started - root_s, 2)
        if len(model.x) <= WHOLE_MODEL_VARIABLES and not every:
            shared.stats["whole_model_from_s"] = round(time.perf_counter() - started, 2)
            _whole_model_search(model, options, shared, clock, stop)
    finally:
        shared.lns_waits.clear()


def _support_search(model, options, shared, clock, workers, cg, stop, take_incumbent,
                    alone: bool = False) -> None:
    """Rounds of the whole model limited to the shifts the relaxation uses.

    Each round re-solves the master (with the incumbent's columns in it) and allows each
    person only the shifts of their columns with a weight above 0, and their incumbent
    shifts; CP-SAT then searches that space from the incumbent (hinted), offering every
    better roster.  A search ``alone`` (on every worker, the LNS waiting: see
    ``SUPPORT_EVERY_WORKER_VARIABLES``) gives its first round the time left, hinted the
    roster of each person's heaviest column instead: far from the incumbent but near the
    relaxation; and with nothing else improving the incumbent meanwhile, a new round
    would only cost CP-SAT its presolve and what its own LNS has learnt.  Alone, CP-SAT
    also runs one thread more than the workers, for its LNS
    (``SUPPORT_ALONE_EXTRA_THREADS``).  Only a roster
    better than the incumbent replaces it either way.  The relaxation's support is far
    smaller than the model (Curtois 8: 730-815 of 2,158 shift variables stay free) but mixes
    what the columns hold day by day, which the columns as a whole do not: on Curtois 8,
    from the same root, one such solve of 30 s gave 1,399 where the dive gave 1,406-1,414
    in 55-72 s and the master as an integer program over its 1,254 columns 2,498.  After
    ``SUPPORT_STALL`` rounds in a row in which the incumbent did not improve (by this
    search or the LNS: a better incumbent is a new start), the worker goes to the LNS.
    Each round also hands the support to the LNS (``shared.support``) for its guided steps.
    """
    round_s = max(SUPPORT_ROUND_MIN_S, SUPPORT_ROUND_SHARE * options.time_limit_s)
    if alone:
        round_s = math.inf
    stalled = rounds = 0
    while not stop.is_set() and clock.remaining() > 1.0 and stalled < SUPPORT_STALL:
        take_incumbent()
        support = cg.support()
        if support is None:
            return
        allowed, heaviest = support
        shared.support = [set(shifts) for shifts in allowed]
        with shared.lock:
            keys, before = shared.keys, shared.objective
        if keys is not None:
            for i, day, k in keys:
                allowed[i].add((day, k))
        if alone and rounds == 0:
            keys = None
        cp = model.cp.clone()
        cp.clear_hints()
        for (i, day, k), var in model.x.items():
            if var is not model.true and (day, k) not in allowed[i]:
                _fix_to_zero(cp, var)
        if keys is None:
            keys = {(i, day, k) for i, column in enumerate(heaviest) for day, k in column}
        hint_shifts(model, keys, cp)
        solver = make_solver(options, min(round_s, clock.remaining()), workers=workers,
                             seed=options.seed + 31 + rounds)
        solver.parameters.linearization_level = 2
        if alone:
            solver.parameters.num_workers = workers + SUPPORT_ALONE_EXTRA_THREADS
            solver.parameters.num_full_subsolvers = 1
        with StopWatcher(solver, stop):
            solver.solve(cp, _OfferCallback(model, shared))
        shared.settle(partial(_validated, model))
        rounds += 1
        with shared.lock:
            after = shared.objective
        stalled = 0 if after is not None and (before is None or after < before) else stalled + 1
    shared.stats["colgen_support_rounds"] = rounds


def _whole_model_search(model, options, shared, clock, stop) -> None:
    """CP-SAT on the whole model and every worker, from the incumbent, for the time left.

    For small problems (``WHOLE_MODEL_VARIABLES``), once the support search has stalled:
    there CP-SAT's own search both improves and proves (Curtois 6 at 60 s: without it the
    LNS ends at 1,951 with a bound of 1,949; with it 1,950 is found and proven at 22-52 s).
    """
    shared.lns_waits.set()
    try:
        cp = model.cp.clone()
        cp.clear_hints()
        with shared.lock:
            keys = shared.keys
        if keys is not None:
            hint_shifts(model, keys, cp)
        solver = make_solver(options, max(0.1, clock.remaining()), workers=options.workers,
                             seed=options.seed + 53)
        with StopWatcher(solver, stop):
            code = solver.solve(cp, _BoundCallback(model, shared))
        _take_whole_solve(model, shared, solver, code)
    finally:
        shared.lns_waits.clear()


def _fix_to_zero(cp: cp_model.CpModel, var) -> None:
    """Fix a variable of ``cp`` to 0 by its domain (cheaper than a constraint per variable)."""
    domain = cp.proto.variables[var.index].domain
    domain.clear()
    domain.extend((0, 0))


def _lp_bound_search(model, options, shared, clock, workers):
    """Whole-model CP-SAT aimed at the lower bound (full LP relaxation)."""
    solver = make_solver(options, max(clock.remaining(), 0.1), workers=workers,
                         seed=options.seed + 17)
    # Measured on Curtois 5: after 20 s on one worker the bound is 1045 with the full LP
    # (linearization level 2), 1 with the default level and 1 with core-based search.
    solver.parameters.linearization_level = 2
    callback = _BoundCallback(model, shared)
    solver.best_bound_callback = lambda bound: shared.raise_bound(model.bound_of(bound))
    with StopWatcher(solver, _Stop(shared, shared.bound_stop)):
        code = solver.solve(model.cp, callback)
    shared.settle(partial(_validated, model))
    status = _STATUS[code]
    if status.has_roster:
        shared.raise_bound(model.bound_of(solver.best_objective_bound))
        if status is Status.OPTIMAL:
            shared.raise_bound(model.objective_of(solver.objective_value))
    elif status is Status.INFEASIBLE:
        shared.infeasible = True
        shared.done.set()
    else:
        shared.raise_bound(model.bound_of(solver.best_objective_bound))


class _Handover(threading.Thread):
    """Gives the bound search's workers to a second LNS thread once the bound is no use.

    On the benchmark the LP bound of the whole model, once its root relaxation is solved,
    mostly stops rising; from then on its worker is better spent on improving the roster.
    Stalled means at least half the incumbent's objective (the relaxation has arrived:
    on Curtois 11 it rises from 5 to 3,434 within the first 15 s), and neither a rise of
    the bound nor a better roster from the whole-model search for ``max(10 s, 20 % of the
    time limit)``.  A bound still below half the incumbent after a quarter of the time
    limit seldom arrives before the end (Curtois 12, 13, 19: bounds of 17 to 196 at the end
    against rosters of thousands, in all but 2 of 16 runs of 12), so its worker goes to
    the second LNS thread then.  CP-SAT releases Python's interpreter lock while it
    solves, so two LNS threads take about twice the steps of one (Curtois 12: 263 against
    135 in 30 s).
    """

    def __init__(self, model, options, shared, clock, bound_thread, workers) -> None:
        super().__init__(daemon=True)
        self.model, self.options, self.shared, self.clock = model, options, shared, clock
        self.bound_thread, self.workers = bound_thread, workers
        self.stall = max(10.0, 0.2 * options.time_limit_s)
        self.weak_after = WEAK_BOUND_AFTER * options.time_limit_s
        self.started = time.perf_counter()
        self.stopped_at: float | None = None
        self.search: _Search | None = None

    def due(self, now: float) -> bool:
        """Whether the bound search's workers should go to a second LNS thread now."""
        shared = self.shared
        if shared.keys is None or self.clock.remaining() <= 1.0:
            return False
        if self.options.bound == "colgen":
            # Column generation stops by itself (its support searched, or out of its share).
            return not self.bound_thread.is_alive()
        if shared.bound < 0.5 * shared.objective:
            return now - self.started > self.weak_after
        return now - max(shared.bound_at, shared.whole_at, self.started) > self.stall

    def run(self) -> None:
        shared = self.shared
        while not shared.should_stop() and (self.bound_thread.is_alive()
                                            or self.options.bound == "colgen"):
            now = time.perf_counter()
            if self.due(now):
                shared.bound_stop.set()
                self.bound_thread.join()
                self.stopped_at = round(now - self.started, 2)
                options = replace(self.options, seed=self.options.seed + 1)
                self.search = _Search(self.model, options, shared, self.clock, self.workers)
                self.search.improve()
                return
            shared.done.wait(0.5)


class _Incumbent:
    """The incumbent roster indexed by person and by (day, shift)."""

    def __init__(self, keys, n_staff: int) -> None:
        self.keys = keys
        self.of_person: list[dict[int, int]] = [{} for _ in range(n_staff)]
        self.on_slot: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, day, k in keys:
            self.of_person[i][day] = k
            self.on_slot[day, k].append(i)


class _Search:
    """The LNS thread: construction of a first roster and the improvement loop."""

    KINDS = ("people", "window", "cover", "days", "deep", "guided")

    def __init__(self, model: RosterModel, options: SolveOptions, shared: _Shared, clock: _Clock,
                 workers: int) -> None:
        self.model, self.options, self.shared, self.clock = model, options, shared, clock
        self.workers = workers
        self.problem = problem = model.problem
        self.rng = random.Random(options.seed)
        self.n_staff, self.n_days = len(problem.staff), problem.horizon.num_days
        codes = {s.code: k for k, s in enumerate(problem.shift_types)}
        self.need_slot = [(need.day, codes[need.shift]) for need in problem.cover]
        self.skills = [p.skills for p in problem.staff]
        self.able = self._able_by_slot()
        self.fair = self._fairness_terms()
        # People per sub-problem, per kind: about 150 free cells to start with.
        people = max(2, min(self.n_staff, round(150 / self.n_days)))
        self.size = {"people": float(people), "window": float(max(4, 2 * people)),
                     "cover": float(max(4, 2 * people)),
                     # For "days" the size is a number of days, for everybody.
                     "days": float(max(1, min(self.n_days, round(150 / self.n_staff)))),
                     "deep": float(min(self.n_staff, 2 * people)),
                     "guided": float(min(self.n_staff, 4 * people))}
        self.credit = {kind: 1.0 for kind in self.KINDS}
        self.guided_started = False
        self.sub_limit = 0.3
        # A deep step gets longer, within a thirtieth of the time limit.
        self.limits = {kind: self.sub_limit for kind in self.KINDS}
        self.limits["deep"] = max(self.sub_limit, min(DEEP_LIMIT_S, options.time_limit_s / 30))
        # Guided steps free more people than deep ones, each limited to their support.
        self.limits["guided"] = self.limits["deep"]
        self.counts = {"sub_models": 0, "construct_s": 0.0, "escapes": 0, "escapes_found": 0}
        self.escapes_infeasible: set[tuple[int, int]] = set()  # (incumbent version, window start)
        self.by_kind = {kind: [0, 0, 0.0] for kind in self.KINDS}  # steps, gain, seconds

    # -- set-up ----------------------------------------------------------------------------
    def _able_by_slot(self) -> dict[tuple[int, int], list[int]]:
        able: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, day, k in self.model.x:
            able[day, k].append(i)
        return able

    def _fairness_terms(self) -> dict[str, tuple[list[bool], object]]:
        """Per weighted fairness term: who counts, and how to count a person's load."""
        problem, m = self.problem, self.model
        terms = {}
        nights = {k for k, s in enumerate(problem.shift_types) if s.is_night}
        unpopular = {k for k, s in enumerate(problem.shift_types)
                     if s.code in problem.fairness.unpopular_shifts}
        weekends = problem.horizon.weekends
        for term in ("nights", "weekends", "unpopular"):
            if not problem.fairness.weight(term):
                continue
            if term == "weekends":
                eligible = [any(m.work[i][d] is not None for days in weekends for d in days)
                            for i in range(self.n_staff)]
            else:
                ks = nights if term == "nights" else unpopular
                eligible = [any(k in ks for _, k, _ in m.by_person[i]) for i in range(self.n_staff)]
            terms[term] = (eligible, nights if term == "nights" else unpopular)
        return terms

    def _load(self, term: str, i: int, days: dict[int, int]) -> int:
        person = self.problem.staff[i]
        if term == "weekends":
            count = sum(any(d in days for d in group) for group in self.problem.horizon.weekends)
        else:
            ks = self.fair[term][1]
            count = sum(1 for k in days.values() if k in ks)
        return round(10000 / person.fte_percent) * (count + person.fairness_ledger.get(term, 0))

    def restriction(self, people: list[int], inc: _Incumbent, placed=None,
                    window: tuple[int, int] | None = None) -> Restriction:
        """What everybody outside ``people`` contributes (only ``placed`` people, if given).

        With a ``window`` of days, ``people`` keep their incumbent shifts outside it.
        """
        inside = set(people)
        cover = []
        for need, slot in zip(self.problem.cover, self.need_slot):
            count = 0
            for i in inc.on_slot.get(slot, ()):
                if i not in inside and (need.skill is None or need.skill in self.skills[i]):
                    count += 1
            cover.append(count)
        fairness = {}
        for term, (eligible, _) in self.fair.items():
            loads = [self._load(term, i, inc.of_person[i]) for i in range(self.n_staff)
                     if eligible[i] and i not in inside and (placed is None or i in placed)]
            fairness[term] = (min(loads), max(loads), len(loads)) if loads else (0, 0, 0)
        fixed = {}
        if window is not None:
            fixed = {i: {day: k for day, k in inc.of_person[i].items()
                         if not window[0] <= day < window[1]} for i in people}
        return Restriction(tuple(sorted(people)), tuple(cover), fairness, window, fixed)

    # -- one sub-problem -----------------------------------------------------------------
    def sub_solve(self, people: list[int], inc: _Incumbent, free_days=None, placed=None,
                  limit: float | None = None, evaluate: bool = True, allowed=None):
        """Re-optimise ``people`` (on ``free_days`` only, if given) against the incumbent.

        ``free_days`` is a range of days: the sub-model then holds only those days (the
        others are constants), which makes a step over a few days of many people cheap.
        With ``allowed`` (per person, a set of (day, shift)), each of ``people`` may
        work only those shifts and their incumbent ones.  Returns (status, new keys of
        those people over the whole horizon, new sub-objective, incumbent's
        sub-objective or None).
        """
        window = None
        if free_days is not None:
            window = (min(free_days), max(free_days) + 1)
            if len(free_days) != window[1] - window[0]:
                raise ValueError("free_days must be a range of consecutive days")
        restriction = self.restriction(people, inc, placed, window)
        sub = build_model(self.problem, restriction=restriction)
        self.counts["sub_models"] += 1
        if allowed is not None:
            for (i, day, k), var in sub.x.items():
                if (var is not sub.true and (day, k) not in allowed[i]
                        and inc.of_person[i].get(day) != k):
                    _fix_to_zero(sub.cp, var)
        before = None
        if evaluate:
            before = self._price(sub, inc.keys)
            if before is None:
                return Status.UNKNOWN, None, None, None
        status, solver = self._run(sub, limit or self.sub_limit, SUB_PARAMETERS)
        if not status.has_roster:
            return status, None, None, before
        new, after = read_values(sub, solver), sub.objective_of(solver.objective_value)
        if status is not Status.OPTIMAL and before is not None and after <= before:
            # Short of optimal, the objective may overstate the new shifts' cost (see
            # _Shared.offer), and the incumbent's value would drift from the truth.
            after = self._price(sub, new)
            if after is None:
                return Status.UNKNOWN, None, None, before
        return status, new, after, before

    def _run(self, sub: RosterModel, limit: float, parameters: dict | None = None,
             workers: int | None = None):
        """Solve a sub-model (full LP relaxation) within ``limit`` and the time left."""
        solver = make_solver(self.options, max(0.05, min(limit, self.clock.remaining())),
                             workers=workers or self.workers, seed=self.rng.randrange(1 << 30))
        solver.parameters.linearization_level = 2
        for name, value in (parameters or {}).items():
            setattr(solver.parameters, name, value)
        with StopWatcher(solver, _Stop(self.shared)):
            code = solver.solve(sub.cp)
        self.clock.charge(solver)
        return _STATUS[code], solver

    def _price(self, sub: RosterModel, keys) -> int | None:
        """The sub-model's objective at the roster ``keys``, which becomes its complete hint.

        The incumbent, or a step's solution, is complete, hence feasible in the
        sub-model; fixing every shift variable to it prices it.  Every variable is then hinted with its value there,
        not only the shift variables: CP-SAT takes a complete, feasible hint as its first
        solution before the search starts, whereas a hint of the shift variables alone is
        rebuilt in a dive, which on larger sub-models (Curtois 13, five people over the
        whole horizon) used up the whole 0.3 s without returning even the incumbent.
        """
        sub.cp.clear_hints()
        hint_shifts(sub, keys)
        solver, feasible = solve_at_hint(sub.cp)
        self.clock.charge(solver)
        if not feasible:
            return None
        hint_everything(sub.cp, solver)
        return sub.objective_of(solver.objective_value)

    # -- construction ------------------------------------------------------------------------
    def construct(self) -> bool:
        """Build a first roster a few people at a time; False if someone's rules cannot be met."""
        started = time.perf_counter()
        order = list(range(self.n_staff))
        # The least flexible first: fewest shift variables.
        order.sort(key=lambda i: (len(self.model.by_person[i]), self.rng.random()))
        per_person = len(self.model.x) / max(1, self.n_staff)
        group = max(1, min(4, round(400 / max(1.0, per_person))))
        inc = _Incumbent(frozenset(), self.n_staff)
        keys: set[Key] = set()
        placed: set[int] = set()
        for start in range(0, len(order), group):
            if self.shared.should_stop() or self.shared.keys is not None:
                return True
            people = order[start:start + group]
            status, new, _, _ = self.sub_solve(people, inc, placed=placed, limit=0.3, evaluate=False)
            if new is None and status is Status.UNKNOWN:
                # Guided by the objective, CP-SAT can take minutes to satisfy one person's
                # year (Curtois 22: no roster in 20 s); without it, well under a second.
                status, new = self._feasible(people, inc, placed)
            if status in (Status.INFEASIBLE, Status.MODEL_INVALID):
                return False
            if new is None:
                # Out of time on this group: let the whole-model search go on.
                return True
            if _DEBUG:
                print(f"construct {start}/{len(order)} {status.name} "
                      f"{time.perf_counter() - started:.1f}s", flush=True)
            keys |= new
            placed.update(people)
            inc = _Incumbent(keys, self.n_staff)
        self.counts["construct_s"] = round(time.perf_counter() - started, 2)
        objective = self._score(keys)
        if objective is not None:
            self.shared.offer(keys, objective)
        return True

    def _feasible(self, people: list[int], inc: _Incumbent, placed: set[int]):
        """Any roster of ``people`` that meets their hard rules (the objective ignored)."""
        sub = build_model(self.problem, restriction=self.restriction(people, inc, placed))
        sub.cp.clear_objective()
        status = Status.UNKNOWN
        for limit in (5.0, 60.0):
            # Four workers bring in CP-SAT's feasibility-jump local search, which finds
            # such a roster in about 0.5 s where one worker (any linearization) takes
            # 3-30 s (Curtois 22, one person's year with a tight band of paid minutes).
            status, solver = self._run(sub, limit, {"linearization_level": 0},
                                       workers=max(4, self.workers))
            if status.has_roster:
                return status, read_values(sub, solver)
            if status is not Status.UNKNOWN or self.clock.remaining() <= 0.05:
                break
        return status, None

    def _score(self, keys) -> int | None:
        """Objective of a whole roster by the independent validator."""
        return _validated(self.model, keys)

    # -- improvement -------------------------------------------------------------------------
    def improve(self) -> None:
        """The LNS loop."""
        shared = self.shared
        version, inc = -1, None
        escapes = len(self.model.x) <= ESCAPE_VARIABLES
        stale, best = 0, None  # steps since the incumbent last improved; its value then
        # An excursion (after an escape step): [roster, its value, steps left].
        excursion: list | None = None
        while not shared.should_stop() and self.clock.remaining() > 0.05:
            if shared.lns_waits.is_set():
                shared.done.wait(0.05)
                continue
            with shared.lock:
                if shared.version != version:
                    version, inc = shared.version, _Incumbent(shared.keys, self.n_staff)
                    if best is None or shared.objective < best:
                        best, stale = shared.objective, 0
                    excursion = None
                value, exact = shared.objective, shared.exact
            if excursion is not None:
                if excursion[2] <= 0:
                    excursion = None
                    inc = _Incumbent(shared.keys, self.n_staff)
                else:
                    excursion[2] -= 1
                    value, exact = excursion[1], True
            if escapes and excursion is None and stale >= ESCAPE_AFTER and value is not None:
                stale = 0
                escaped = self._escape(inc, version)
                if escaped is not None and escaped[1] < value:
                    shared.offer(*escaped)  # better at once: the search goes on from it
                elif escaped is not None:
                    excursion = [escaped[0], escaped[1], ESCAPE_STEPS]
                    inc, value = _Incumbent(escaped[0], self.n_staff), escaped[1]
                continue
            stale += 1
            support = shared.support
            kind = self._choose_kind(support is not None)
            people, days = self._neighbourhood(kind, inc)
            started = time.perf_counter()
            status, new, after, before = self.sub_solve(
                people, inc, free_days=days, limit=self.limits[kind],
                allowed=support if kind == "guided" else None)
            shared.stats["lns_iterations"] += 1
            tally = self.by_kind[kind]
            tally[0] += 1
            tally[2] += time.perf_counter() - started
            size = self.size[kind]
            if _DEBUG:
                print(f"lns {kind:6} people={len(people)} days={len(days) if days else 'all'} "
                      f"{status.name} {before}->{after} total {value}", flush=True)
            if new is not None and before is not None and after <= before:
                freed = set(people)
                others = frozenset(key for key in inc.keys if key[0] not in freed)
                keys = others | new
                if after < before:
                    self.credit[kind] += 1.0
                    tally[1] += before - after
                    shared.stats["lns_improvements"] += 1
                if excursion is None:
                    shared.offer(keys, value - (before - after), equal=True, exact=exact)
                else:
                    excursion[0], excursion[1] = keys, value - (before - after)
                    inc = _Incumbent(keys, self.n_staff)
                    if after < before and excursion[1] < shared.objective:
                        # Offered at the validator's value: an excursion's own sum has
                        # not been settled against it.
                        score = self._score(keys)
                        if score is not None:
                            shared.offer(keys, score)
            top = float(self.n_days if kind == "days" else self.n_staff)
            if status is Status.OPTIMAL:
                self.size[kind] = min(top, size * 1.1 + 0.2)
            else:
                self.size[kind] = max(1.0, size * 0.85)
            self.credit[kind] = max(0.3, self.credit[kind] * 0.95)

    def _escape(self, inc: _Incumbent, version: int) -> tuple[frozenset, int] | None:
        """Everybody over ``ESCAPE_DAYS`` days around a short slot, required to lose some
        cover shortfall whatever else that costs; the roster found, with its value (by
        the validator), or None (no shortfall there, or none that can be lost in time).

        Within that, the sub-model minimises the objective as any step does, so the
        roster is the cheapest with less shortfall in the window: usually worse than
        the incumbent, which is why it starts an excursion (the caller offers it only
        when it is better).  A window proven infeasible from the incumbent of
        ``version`` is not tried again from that incumbent: the sub-model would be the
        same (on Curtois 15 such proofs took 0.2-5 s each and came up again and again).
        """
        width = min(self.n_days, ESCAPE_DAYS)
        short = [slot for need, slot in zip(self.problem.cover, self.need_slot)
                 if need.under_weight and self._cover(need, slot, inc) < need.ideal]
        if not short:
            return None
        day = self.rng.choice(short)[0]
        start = max(0, min(self.n_days - width, day - self.rng.randrange(width)))
        if (version, start) in self.escapes_infeasible:
            return None
        people = self._everybody()
        sub = build_model(self.problem, restriction=self.restriction(
            people, inc, window=(start, start + width)))
        under = [p for p in sub.penalties if p.rule == names.COVER_UNDER]
        if not under:
            return None
        shortfall = cp_model.LinearExpr.weighted_sum([p.expr for p in under], [p.weight for p in under])
        sub.cp.clear_hints()
        hint_shifts(sub, inc.keys)
        solver, feasible = solve_at_hint(sub.cp)
        self.clock.charge(solver)
        if not feasible:
            return None
        now = round(solver.value(shortfall))
        if now <= 0:
            return None
        hint_everything(sub.cp, solver)
        sub.cp.add(shortfall <= now - 1)
        status, solver = self._run(sub, ESCAPE_LIMIT_S, SUB_PARAMETERS)
        self.counts["escapes"] += 1
        if _DEBUG:
            print(f"escape days {start}-{start + width - 1} shortfall {now}: {status.name}", flush=True)
        if status is Status.INFEASIBLE:
            self.escapes_infeasible.add((version, start))
        if not status.has_roster:
            return None
        freed = set(people)
        keys = frozenset(key for key in inc.keys if key[0] not in freed) | read_values(sub, solver)
        score = self._score(keys)
        if score is None:
            return None
        self.counts["escapes_found"] += 1
        return keys, score

    def _choose_kind(self, guided: bool) -> str:
        """A kind of step, drawn by credit; ``guided`` steps only with a support, and
        from its first one with the highest credit of any kind (see ``GUIDED_CREDIT``)."""
        kinds = [k for k in self.KINDS if k != "guided"]
        if guided:
            if not self.guided_started:
                self.guided_started = True
                if GUIDED_CREDIT:
                    self.credit["guided"] = max(self.credit[k] for k in self.KINDS)
            kinds.append("guided")
        return self.rng.choices(kinds, weights=[self.credit[k] for k in kinds])[0]

    def _neighbourhood(self, kind: str, inc: _Incumbent) -> tuple[list[int], set[int] | None]:
        """The people to free, and the days (None: the whole horizon)."""
        rng, n_staff, n_days = self.rng, self.n_staff, self.n_days
        count = max(1, min(n_staff, round(self.size[kind])))
        if kind in ("people", "deep", "guided"):
            return rng.sample(range(n_staff), count), None
        if kind == "days":
            width = max(1, min(n_days, round(self.size[kind])))
            start = rng.randrange(0, n_days - width + 1)
            return self._everybody(), set(range(start, start + width))
        width = min(n_days, rng.choice((7, 7, 14)))
        if kind == "cover":
            slot = self._bad_slot(inc)
            if slot is not None:
                day, k = slot
                candidates = list(dict.fromkeys(self.able.get(slot, [])))
                rng.shuffle(candidates)
                people = candidates[:count]
                if len(people) < count:
                    rest = [i for i in range(n_staff) if i not in set(people)]
                    people += rng.sample(rest, min(len(rest), count - len(people)))
                start = max(0, min(n_days - width, day - rng.randrange(width)))
                return people, set(range(start, start + width))
        start = rng.randrange(0, n_days - width + 1)
        return rng.sample(range(n_staff), count), set(range(start, start + width))

    def _everybody(self) -> list[int]:
        """Everybody, or as many people at random as keep the sub-model near 20,000 variables."""
        per_person = max(1, len(self.model.x) // max(1, self.n_staff))
        most = max(2, 20000 // per_person)
        if most >= self.n_staff:
            return list(range(self.n_staff))
        return self.rng.sample(range(self.n_staff), most)

    def _cover(self, need, slot: tuple[int, int], inc: _Incumbent) -> int:
        """How many on the incumbent's ``slot`` count towards ``need`` (its skill)."""
        return sum(1 for i in inc.on_slot.get(slot, ())
                   if need.skill is None or need.skill in self.skills[i])

    def _bad_slot(self, inc: _Incumbent) -> tuple[int, int] | None:
        """A (day, shift) whose cover is short of or over its ideal, at random."""
        bad = []
        for need, slot in zip(self.problem.cover, self.need_slot):
            have = self._cover(need, slot, inc)
            if (have < need.ideal and need.under_weight) or (have > need.ideal and need.over_weight):
                bad.append(slot)
        return self.rng.choice(bad) if bad else None

    def penalty_items(self, keys, chunk: int | None = None) -> tuple:
        """The roster's penalties, evaluated on restricted models of a few people at a time.

        Exact: each person's own penalties come from the part holding them, and the ward's
        (cover, fairness) from the first part, which sees everybody else as constants.
        Used instead of evaluating the whole model when that model is very large.
        """
        inc = _Incumbent(frozenset(keys), self.n_staff)
        per_person = max(1, len(self.model.x) // max(1, self.n_staff))
        chunk = chunk or max(1, 20000 // per_person)
        items = []
        for start in range(0, self.n_staff, chunk):
            people = list(range(start, min(self.n_staff, start + chunk)))
            sub = build_model(self.problem, restriction=self.restriction(people, inc))
            mine = {key for key in keys if start <= key[0] < start + chunk}
            items += [item for item in penalty_items(sub, mine) if item.staff_id is not None or start == 0]
        return tuple(items)

    def stats(self) -> dict:
        return {**self.counts, "by_kind": _add_tallies(self.by_kind)}


def _add_tallies(*tallies: dict) -> dict:
    """Steps, gain and seconds per neighbourhood kind, summed over LNS threads."""
    return {kind: [sum(t[kind][0] for t in tallies), sum(t[kind][1] for t in tallies),
                   round(sum(t[kind][2] for t in tallies), 1)] for kind in tallies[0]}
