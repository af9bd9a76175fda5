"""Solve a :class:`Problem`: options, progress reporting, early stop, result mapping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.domain import Assignment, Problem, Roster
from solver.model import RosterModel, add_fairness_tie_break, build_model
from solver.result import PenaltyItem, Progress, Result, Status

_STATUS = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
    cp_model.MODEL_INVALID: Status.MODEL_INVALID,
    cp_model.UNKNOWN: Status.UNKNOWN,
}


@dataclass(frozen=True)
class SolveOptions:
    """How to search.

    ``time_limit_s`` and ``workers`` are always passed to CP-SAT.  ``deterministic``
    makes runs repeatable (the limit then counts CP-SAT's deterministic time, roughly
    seconds).  ``warm_start`` hints a previous roster.  ``strategy`` is ``"cpsat"`` (one
    monolithic solve), ``"lns"`` (our large-neighbourhood search around CP-SAT) or
    ``"auto"`` (LNS for problems with more than ``lns_threshold`` shift variables, or
    more than ``lns_threshold_minimums`` when some cover has a hard minimum).
    ``explain`` adds explanations of unmet requests (at most ``max_explained``) or of
    infeasibility.  ``fairness_tie_break`` lets a monolithic solve also minimise, below
    the objective, how many people share the highest and lowest fairness loads.
    ``bound`` is how our LNS's bound thread works: ``"colgen"`` (column generation, then
    a search in the support of its solution, :mod:`solver.colgen`) or ``"lp"``
    (whole-model CP-SAT with its full LP).
    """

    time_limit_s: float = 30.0
    workers: int = 2
    seed: int = 0
    deterministic: bool = False
    warm_start: Roster | None = None
    strategy: str = "auto"
    lns_threshold: int = 400
    lns_threshold_minimums: int = 20000
    explain: bool = True
    max_explained: int = 50
    log_search: bool = False
    linearization_level: int | None = None
    fairness_tie_break: bool = True
    bound: str = "colgen"

    def __post_init__(self) -> None:
        from solver.domain import ProblemError

        if not self.time_limit_s > 0:
            raise ProblemError(f"options.time_limit_s: must be positive, got {self.time_limit_s}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ProblemError(f"options.workers: must be a positive integer, got {self.workers!r}")
        if self.bound not in ("colgen", "lp"):
            raise ProblemError(f"options.bound: must be colgen or lp, got {self.bound!r}")
        if self.strategy not in ("auto", "cpsat", "lns"):
            raise ProblemError(f"options.strategy: must be auto, cpsat or lns, got {self.strategy!r}")


ProgressCallback = Callable[[Progress], None]


def solve(
    problem: Problem,
    options: SolveOptions = SolveOptions(),
    on_solution: ProgressCallback | None = None,
    stop_event=None,
) -> Result:
    """Find the best roster for ``problem`` within ``options.time_limit_s``.

    ``on_solution`` is called with a :class:`Progress` for each improving roster;
    ``stop_event`` (anything with ``is_set()``, e.g. ``threading.Event``) ends the
    search early, keeping the best roster found.
    """
    started = time.perf_counter()
    model = build_model(problem)
    build_s = time.perf_counter() - started
    use_lns = options.strategy == "lns" or (
        options.strategy == "auto" and len(model.x) > lns_threshold(problem, options)
    )
    tracker = ProgressTracker(started, on_solution)
    if use_lns:
        from solver.lns import run_lns

        outcome = run_lns(model, options, tracker, stop_event)
    else:
        if options.fairness_tie_break:
            add_fairness_tie_break(model)
        if options.warm_start is not None:
            add_hints(model, options.warm_start, complete=True)
        outcome = run_cpsat(model, options, tracker, stop_event, options.time_limit_s)
    status, values, bound = outcome
    result = make_result(model, status, values, bound, tracker, build_s, started,
                         items=getattr(tracker, "items", None))
    result.stats.update(getattr(tracker, "stats", {}), strategy="lns" if use_lns else "cpsat",
                        shift_variables=len(model.x))
    if options.explain:
        from solver.explain import explain_result

        result = explain_result(problem, result, options)
    return result


def lns_threshold(problem: Problem, options: SolveOptions) -> int:
    """Above how many shift variables ``strategy="auto"`` uses our LNS.

    With hard cover minimums every sub-problem of our LNS must also meet them, and
    CP-SAT's own search does better on a ward: the 45-staff ward of
    ``bench/scheduling_ward.py`` (4,760 variables, 60 s, 2 workers, seeds 0-2) scores
    3,242 / 3,402 / 3,422 monolithic against 3,692 / 3,842 / 3,395 with our LNS.
    Without them the LNS, with its column-generation bound and, on small models, CP-SAT
    on the whole model at its end, does better from a few hundred variables: Curtois 5
    (676) at 60 s reaches its optimum of 1,143 where monolithic CP-SAT stops at
    1,144-1,145, and 4 (468) is proven optimal in 2 s instead of 20 s.
    """
    return options.lns_threshold_minimums if has_cover_minimums(problem) else options.lns_threshold


def has_cover_minimums(problem: Problem) -> bool:
    """Whether some cover requirement has a hard minimum."""
    return any(need.minimum > 0 for need in problem.cover)


class ProgressTracker:
    """Collects improving solutions and forwards them to the caller's callback."""

    def __init__(self, started: float, on_solution: ProgressCallback | None) -> None:
        self.started = started
        self.on_solution = on_solution
        self.history: list[Progress] = []
        self.best: int | None = None
        self.bound: float = float("-inf")
        self.lock = threading.Lock()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def report(self, objective: int, bound: float) -> None:
        """Record a roster of value ``objective`` if it improves the best one."""
        with self.lock:
            self.bound = max(self.bound, bound)
            if self.best is not None and objective >= self.best:
                return
            self.best = objective
            item = Progress(round(self.elapsed(), 3), int(objective), min(bound, objective))
            self.history.append(item)
        if self.on_solution is not None:
            self.on_solution(item)


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, tracker: ProgressTracker, model: RosterModel, stop_event) -> None:
        super().__init__()
        self.tracker = tracker
        self.model = model
        self.stop_event = stop_event

    def on_solution_callback(self) -> None:
        model = self.model
        self.tracker.report(model.objective_of(self.objective_value),
                            model.bound_of(self.best_objective_bound))
        if self.stop_event is not None and self.stop_event.is_set():
            self.stop_search()


def make_solver(options: SolveOptions, time_limit_s: float, *, workers: int | None = None,
                seed: int | None = None) -> cp_model.CpSolver:
    """A CP-SAT solver with time limit, workers and seed always set."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = workers or options.workers
    params.random_seed = options.seed if seed is None else seed
    params.log_search_progress = options.log_search
    if options.deterministic:
        params.interleave_search = True
        params.max_deterministic_time = time_limit_s
        params.max_time_in_seconds = max(10 * time_limit_s, 60)
    else:
        params.max_time_in_seconds = time_limit_s
    if options.linearization_level is not None:
        params.linearization_level = options.linearization_level
    elif params.num_workers >= 2:
        # The full-problem worker uses the complete LP relaxation (linearization level
        # 2); CP-SAT's own LNS runs interleaved on the other worker.  On Curtois 5 and 7
        # (30 s) this gives 1248/1071 with bounds 808/1048, against 1345/1205 with bounds
        # 1/29 for the default portfolio.
        params.subsolvers.append("max_lp")
    return solver


class StopWatcher:
    """Stops a running CP-SAT search when ``stop_event`` is set."""

    def __init__(self, solver: cp_model.CpSolver, stop_event) -> None:
        self.solver, self.stop_event = solver, stop_event
        self.done = threading.Event()
        self.thread = None

    def __enter__(self) -> "StopWatcher":
        if self.stop_event is not None:
            self.thread = threading.Thread(target=self._watch, daemon=True)
            self.thread.start()
        return self

    def _watch(self) -> None:
        while not self.done.wait(0.05):
            if self.stop_event.is_set():
                self.solver.stop_search()
                return

    def __exit__(self, *exc) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()


def run_cpsat(model: RosterModel, options: SolveOptions, tracker: ProgressTracker,
              stop_event, time_limit_s: float):
    """One monolithic CP-SAT solve; returns (status, values of x, bound)."""
    if stop_event is not None and stop_event.is_set():
        return Status.UNKNOWN, None, None
    solver = make_solver(options, time_limit_s)
    callback = _Callback(tracker, model, stop_event)
    with StopWatcher(solver, stop_event):
        code = solver.solve(model.cp, callback)
    status = _STATUS[code]
    if not status.has_roster:
        return status, None, None
    values = read_values(model, solver)
    objective = model.objective_of(solver.objective_value)
    bound = model.bound_of(solver.best_objective_bound)
    tracker.report(objective, bound)
    if status is Status.OPTIMAL:
        bound = float(objective)
    return status, values, bound


def read_values(model: RosterModel, solver: cp_model.CpSolver) -> dict:
    """The chosen (person, day, shift) keys of a solution."""
    keys = list(model.x)
    flags = solver.boolean_values([model.x[key] for key in keys])
    return {key for key, flag in zip(keys, flags) if flag}


def add_hints(model: RosterModel, roster: Roster, *, complete: bool = False) -> None:
    """Hint every shift variable from ``roster`` (a warm start).

    With ``complete``, and when the roster meets every hard rule of the model, every
    other variable is hinted too, with its value at that roster (see
    :func:`hint_everything`).
    """
    model.cp.clear_hints()
    hint_shifts(model, roster_keys(model, roster))
    if complete:
        solver, feasible = solve_at_hint(model.cp)
        if feasible:
            hint_everything(model.cp, solver)


def hint_shifts(model: RosterModel, chosen, cp: cp_model.CpModel | None = None) -> None:
    """Hint each shift variable (not those fixed to the ``true`` literal): 1 if its key is in ``chosen``.

    The hint goes into ``cp`` if given (a clone of the model's), else the model's own.
    """
    true = model.true
    keys = [key for key, var in model.x.items() if var is not true]
    hint = (cp or model.cp).proto.solution_hint
    hint.vars.extend(model.x[key].index for key in keys)
    hint.values.extend(int(key in chosen) for key in keys)


def solve_at_hint(cp: cp_model.CpModel) -> tuple[cp_model.CpSolver, bool]:
    """Solve ``cp`` with every hinted variable fixed to its hint; whether that is feasible.

    With the shift variables hinted, this prices a roster: the other variables take their
    least-cost values there.
    """
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    solver.parameters.fix_variables_to_their_hinted_value = True
    code = solver.solve(cp)
    return solver, code in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def hint_everything(cp: cp_model.CpModel, solver: cp_model.CpSolver) -> None:
    """Replace the hint of ``cp`` by ``solver``'s solution, a value for every variable.

    CP-SAT takes a complete feasible hint as its first solution when presolve ends,
    while a partial hint is only followed in a first dive.
    """
    solution = list(solver.response_proto.solution)
    cp.clear_hints()
    hint = cp.proto.solution_hint
    hint.vars.extend(range(len(solution)))
    hint.values.extend(solution)


def roster_keys(model: RosterModel, roster: Roster) -> set[tuple[int, int, int]]:
    """Translate a roster into model keys ``(i, day, k)``, ignoring unknown entries."""
    staff = {p.id: i for i, p in enumerate(model.problem.staff)}
    shifts = {s.code: k for k, s in enumerate(model.problem.shift_types)}
    keys = set()
    for item in roster.assignments:
        if item.staff_id in staff and item.shift in shifts:
            keys.add((staff[item.staff_id], item.day, shifts[item.shift]))
    return keys


def keys_to_roster(model: RosterModel, keys) -> Roster:
    """Translate model keys back into a roster."""
    problem = model.problem
    return Roster(frozenset(
        Assignment(problem.staff[i].id, day, problem.shift_types[k].code) for i, day, k in keys
    ))


def penalty_items(model: RosterModel, keys) -> tuple[PenaltyItem, ...]:
    """Evaluate every penalty of ``model`` on the solution ``keys``."""
    items = []
    evaluator = _Evaluator(model, keys)
    for penalty in model.penalties:
        amount = evaluator.value(penalty.expr)
        if amount:
            items.append(PenaltyItem(penalty.rule, penalty.weight * amount, penalty.staff_id,
                                     penalty.day, penalty.label))
    return tuple(items)


class _Evaluator:
    """Evaluates penalty expressions on a solution with a throwaway CP-SAT fix."""

    def __init__(self, model: RosterModel, keys) -> None:
        self.model = model
        # Auxiliary variables (cover under/over, fairness...) are functions of x; the
        # cheapest exact way to get them is a solve with every x fixed.
        fixed = model.cp.clone()
        for key, var in model.x.items():
            fixed.add(fixed.get_bool_var_from_proto_index(var.index) == (key in keys))
        fixed.clear_hints()
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = 30
        self.status = solver.solve(fixed)
        self.solver = solver

    def value(self, expr) -> int:
        if isinstance(expr, int):
            return expr
        if self.status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return 0
        return int(self.solver.value(expr))


def make_result(model: RosterModel, status: Status, keys, bound, tracker: ProgressTracker,
                build_s: float, started: float, items: tuple[PenaltyItem, ...] | None = None) -> Result:
    """Assemble a :class:`Result` from the chosen keys (and their penalties, if known)."""
    wall = time.perf_counter() - started
    history = tuple(tracker.history)
    if keys is None:
        return Result(status, None, None, None, progress=history, build_s=build_s, wall_s=wall)
    if items is None:
        items = penalty_items(model, keys)
    objective = sum(item.cost for item in items)
    bound = min(bound, objective) if bound is not None else None
    if bound is not None and bound >= objective:
        status = Status.OPTIMAL
    return Result(
        status=status,
        roster=keys_to_roster(model, keys),
        objective=objective,
        bound=bound,
        penalties=items,
        progress=history,
        build_s=build_s,
        first_solution_s=history[0].elapsed_s if history else None,
        best_solution_s=history[-1].elapsed_s if history else None,
        wall_s=wall,
    )
