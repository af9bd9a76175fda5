"""Our large-neighbourhood search (LNS) around CP-SAT.

Two threads share the machine's workers:

* a *bound* thread runs CP-SAT on the whole model with the full LP relaxation
  (linearization level 2), which raises the lower bound far faster than the default;
  its rosters also count;
* the *LNS* thread keeps an incumbent roster and repeatedly frees part of it -- a random
  group of people over the whole horizon, a window of days for everybody, or people
  linked by a cover row -- fixing every other shift variable to the incumbent, and asks
  CP-SAT to re-optimise the freed part from the incumbent (hinted) for a few seconds.
  Neighbourhood size adapts: it grows after sub-problems solved to optimality without
  gain and shrinks after ones that time out.

Both stop at the time limit, on ``stop_event``, or when the incumbent meets the bound.
Fixing is done in place on the model's proto (domain [v, v]) and undone afterwards, so
a sub-problem costs no model copy.
"""

from __future__ import annotations

import os
import random
import threading
import time

from ortools.sat.python import cp_model

from solver.model import RosterModel
from solver.result import Status
from solver.solve import (
    _STATUS, ProgressTracker, SolveOptions, StopWatcher, add_hints, make_solver, read_values,
)


_DEBUG = bool(os.environ.get("SOLVER_LNS_DEBUG"))


class _Shared:
    """State shared by the two threads."""

    def __init__(self, tracker: ProgressTracker, stop_event) -> None:
        self.tracker = tracker
        self.stop_event = stop_event
        self.lock = threading.Lock()
        self.keys: set | None = None
        self.objective: int | None = None
        self.bound: float = float("-inf")
        self.optimal = False
        self.done = threading.Event()
        self.stats = {"lns_iterations": 0, "lns_improvements": 0}

    def offer(self, keys: set, objective: int) -> bool:
        with self.lock:
            if self.objective is not None and objective >= self.objective:
                return False
            self.keys, self.objective = set(keys), objective
        self.tracker.report(objective, self.bound)
        self.check_done()
        return True

    def raise_bound(self, bound: float) -> None:
        with self.lock:
            self.bound = max(self.bound, bound)
        self.check_done()

    def check_done(self) -> None:
        if self.objective is not None and self.bound >= self.objective - 1e-6:
            self.optimal = True
            self.done.set()

    def should_stop(self) -> bool:
        return self.done.is_set() or (self.stop_event is not None and self.stop_event.is_set())


class _Stop:
    """Adapter so StopWatcher can watch the shared state."""

    def __init__(self, shared: _Shared) -> None:
        self.shared = shared

    def is_set(self) -> bool:
        return self.shared.should_stop()


class _BoundCallback(cp_model.CpSolverSolutionCallback):
    def __init__(self, model: RosterModel, shared: _Shared) -> None:
        super().__init__()
        self.model, self.shared = model, shared
        self.keys = list(model.x)
        self.vars = [model.x[k] for k in self.keys]

    def on_solution_callback(self) -> None:
        self.shared.raise_bound(self.best_objective_bound)
        flags = self.boolean_values(self.vars) if hasattr(self, "boolean_values") else [
            self.boolean_value(v) for v in self.vars]
        keys = {k for k, f in zip(self.keys, flags) if f}
        self.shared.offer(keys, round(self.objective_value))


def run_lns(model: RosterModel, options: SolveOptions, tracker: ProgressTracker, stop_event):
    """Search with LNS + a bound thread; returns (status, keys, bound)."""
    deadline = time.perf_counter() + options.time_limit_s
    shared = _Shared(tracker, stop_event)
    if options.warm_start is not None:
        add_hints(model, options.warm_start)
    lns_workers = max(1, options.workers // 2) if options.workers > 1 else 1
    bound_workers = options.workers - lns_workers

    first = _first_solution(model, options, shared, deadline, options.workers)
    if first is Status.INFEASIBLE or first is Status.MODEL_INVALID:
        return first, None, None
    bound_thread = None
    if bound_workers > 0 and not shared.should_stop():
        # The LNS loop edits the model's proto in place, so the bound search gets a copy.
        copy = model.cp.clone()
        bound_thread = threading.Thread(
            target=_bound_search, args=(model, copy, options, shared, deadline, bound_workers),
            daemon=True)
        bound_thread.start()
    if shared.keys is None and bound_thread is None:
        _first_solution(model, options, shared, deadline, options.workers, final=True)
    # No roster yet: the bound search keeps looking; LNS starts from its first roster.
    while shared.keys is None and not shared.should_stop() and time.perf_counter() < deadline:
        shared.done.wait(0.2)
    if shared.keys is not None:
        _improve(model, options, shared, deadline, lns_workers)
    shared.done.set()
    if bound_thread is not None:
        bound_thread.join()
    if shared.keys is None:
        return Status.UNKNOWN, None, None
    status = Status.OPTIMAL if shared.optimal else Status.FEASIBLE
    bound = shared.bound if shared.bound != float("-inf") else None
    tracker.stats = shared.stats
    return status, shared.keys, bound


def _first_solution(model, options, shared, deadline, workers, final=False):
    """Run CP-SAT on the whole model until the first roster (or a short budget)."""
    remaining = deadline - time.perf_counter()
    budget = remaining if final else min(remaining, max(5.0, 0.15 * options.time_limit_s))
    solver = make_solver(options, max(budget, 0.1), workers=workers)
    callback = _FirstCallback(model, shared, stop_after=0.0 if not final else None)
    with StopWatcher(solver, _Stop(shared)):
        code = solver.solve(model.cp, callback)
    status = _STATUS[code]
    if status.has_roster:
        shared.raise_bound(solver.best_objective_bound)
        shared.offer(read_values(model, solver), round(solver.objective_value))
        if status is Status.OPTIMAL:
            shared.optimal = True
            shared.done.set()
    return status


class _FirstCallback(_BoundCallback):
    """Reports rosters; stops a little after the first one so LNS can take over."""

    def __init__(self, model, shared, stop_after) -> None:
        super().__init__(model, shared)
        self.stop_after = stop_after
        self.first_at = None
        self.started = time.perf_counter()

    def on_solution_callback(self) -> None:
        super().on_solution_callback()
        now = time.perf_counter()
        if self.first_at is None:
            self.first_at = now
        if self.stop_after is not None and now - self.started > 2.0 + (self.first_at - self.started):
            self.stop_search()


def _bound_search(model, copy, options, shared, deadline, workers):
    """Whole-model CP-SAT aimed at the lower bound (full LP relaxation)."""
    solver = make_solver(options, max(deadline - time.perf_counter(), 0.1), workers=workers,
                         seed=options.seed + 17)
    # Measured on Curtois 5: after 20 s on one worker the bound is 1045 with the full LP
    # (linearization level 2), 1 with the default level and 1 with core-based search.
    solver.parameters.linearization_level = 2
    callback = _BoundCallback(model, shared)
    with StopWatcher(solver, _Stop(shared)):
        code = solver.solve(copy, callback)
    status = _STATUS[code]
    if status.has_roster:
        shared.raise_bound(solver.best_objective_bound)
        if status is Status.OPTIMAL:
            shared.raise_bound(solver.objective_value)
    elif status is Status.INFEASIBLE:
        shared.done.set()
    else:
        shared.raise_bound(solver.best_objective_bound)


def _improve(model: RosterModel, options: SolveOptions, shared: _Shared, deadline: float,
             workers: int) -> None:
    """The LNS loop."""
    rng = random.Random(options.seed)
    problem = model.problem
    n_staff, n_days = len(problem.staff), problem.horizon.num_days
    proto = model.cp.proto
    index_of = {key: var.index for key, var in model.x.items()}
    cells = {}
    for key in model.x:
        cells.setdefault((key[0], key[1]), []).append(key)
    # Start by freeing about 6 person-weeks worth of cells and adapt.
    # Each kind of neighbourhood keeps its own size (share of the cells freed), starting
    # near 150 cells, and the kinds that improve the roster are drawn more often.
    start = min(1.0, max(0.02, 150 / max(1, len(cells))))
    sizes = {"staff": start, "days": start, "block": start}
    credit = {"staff": 1.0, "days": 1.0, "block": 1.0}
    sub_limit = 1.5 if len(cells) < 3000 else 4.0
    while not shared.should_stop():
        remaining = deadline - time.perf_counter()
        if remaining < 0.2:
            break
        kind = rng.choices(list(credit), weights=list(credit.values()))[0]
        size = sizes[kind]
        free = _neighbourhood(kind, rng, size, n_staff, n_days)
        with shared.lock:
            incumbent, value = set(shared.keys), shared.objective
        fixed = []
        for cell, keys in cells.items():
            if cell in free:
                continue
            for key in keys:
                idx = index_of[key]
                v = 1 if key in incumbent else 0
                fixed.append(idx)
                domain = proto.variables[idx].domain
                domain.clear()
                domain.extend([v, v])
        model.cp.clear_hints()
        hint_keys = list(model.x)
        proto.solution_hint.vars.extend(index_of[k] for k in hint_keys)
        proto.solution_hint.values.extend(1 if k in incumbent else 0 for k in hint_keys)
        # The bound of the objective is the incumbent: we only want improvements.
        solver = make_solver(options, min(sub_limit, remaining), workers=workers,
                             seed=rng.randrange(1 << 30))
        solver.parameters.linearization_level = 2
        try:
            with StopWatcher(solver, _Stop(shared)):
                code = solver.solve(model.cp)
        finally:
            for idx in fixed:
                domain = proto.variables[idx].domain
                domain.clear()
                domain.extend([0, 1])
        shared.stats["lns_iterations"] += 1
        status = _STATUS[code]
        if _DEBUG:
            print(f"lns {kind:6} size={size:.3f} free={len(free)} {status.name} "
                  f"{solver.objective_value if status.has_roster else '-'} vs {value} "
                  f"t={solver.wall_time:.2f}", flush=True)
        if status.has_roster:
            objective = round(solver.objective_value)
            if objective < value:
                credit[kind] += 1.0
                shared.stats["lns_improvements"] += 1
                shared.offer(read_values(model, solver), objective)
            elif objective == value:
                # Plateau move: accept an equal roster to keep the search moving.
                with shared.lock:
                    if shared.objective == objective:
                        shared.keys = read_values(model, solver)
            if status is Status.OPTIMAL:
                sizes[kind] = min(1.0, size * 1.1)
            else:
                sizes[kind] = max(0.01, size * 0.85)
        else:
            sizes[kind] = max(0.01, size * 0.8)
        credit[kind] = max(0.3, credit[kind] * 0.95)
    model.cp.clear_hints()


def _neighbourhood(kind: str, rng: random.Random, size: float, n_staff: int, n_days: int) -> set:
    """The (person, day) cells to free."""
    if kind == "staff":
        count = max(1, min(n_staff, round(size * n_staff)))
        people = rng.sample(range(n_staff), count)
        return {(i, d) for i in people for d in range(n_days)}
    if kind == "days":
        width = max(1, min(n_days, round(size * n_days)))
        start = rng.randrange(0, n_days - width + 1)
        return {(i, d) for i in range(n_staff) for d in range(start, start + width)}
    # A block: more people over a window of days, same number of cells.
    width = max(2, min(n_days, round(n_days * min(1.0, 2 * size ** 0.5))))
    count = max(1, min(n_staff, round(size * n_staff * n_days / width)))
    start = rng.randrange(0, n_days - width + 1)
    people = rng.sample(range(n_staff), count)
    return {(i, d) for i in people for d in range(start, start + width)}
