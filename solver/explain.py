"""Explanations a ward manager can read.

* Infeasible problems: every hard rule of every person (and each leave day, lock and
  cover minimum) is guarded by an assumption literal; CP-SAT returns a set of
  assumptions that cannot hold together, which we shrink by deletion (drop a rule,
  re-solve, keep it out if still infeasible) into a small conflict.
* Unmet requests: we grant the request in the final roster and re-check it with the
  independent validator; the hard rules this breaks, or the soft costs it adds (e.g.
  a shift left short), are what forced the refusal.
"""

from __future__ import annotations

import time
from dataclasses import replace

from ortools.sat.python import cp_model

from solver.domain import Assignment, Problem, RequestKind, Roster
from solver.model import build_model
from solver.result import Explanation, Result, Status
from solver.validate import validate


def explain_infeasible(problem: Problem, *, time_limit_s: float = 10.0) -> tuple[Explanation, ...]:
    """Return a small set of rules, leave and requirements that cannot all hold.

    The first explanation is a summary sentence; one explanation per conflicting rule
    follows.  Returns ``()`` when the problem is feasible (or when the time runs out
    before infeasibility is proven).
    """
    deadline = time.perf_counter() + time_limit_s
    model = build_model(problem, guarded=True)
    model.cp.clear_objective()
    labels = {lit.index: label for label, lit in model.guards.items()}
    literals = {label: lit for label, lit in model.guards.items()}
    core = _core(model.cp, list(literals.values()), deadline)
    if core is None:
        return ()
    # Deletion-based shrinking: try without each rule; keep it out while still infeasible.
    kept = list(core)
    index = 0
    while index < len(kept) and time.perf_counter() < deadline:
        trial = kept[:index] + kept[index + 1:]
        smaller = _core(model.cp, trial, deadline)
        if smaller is None:
            index += 1
        else:
            kept = [lit for lit in trial if lit.index in {s.index for s in smaller}]
    names = [labels[lit.index] for lit in kept]
    if not names:
        names = ["the shift pattern rules themselves (one shift per person per day)"]
    summary = "These rules cannot all be met together: " + "; ".join(names) + ". Relax one of them."
    return (Explanation(summary, rules=tuple(names)),) + tuple(
        Explanation(name, rules=(name,)) for name in names)


def _core(cp: cp_model.CpModel, assumptions, deadline: float):
    """Solve under ``assumptions``; return a sufficient infeasible subset, or None."""
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return None
    cp.clear_assumptions()
    cp.add_assumptions(assumptions)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = remaining
    status = solver.solve(cp)
    cp.clear_assumptions()
    if status != cp_model.INFEASIBLE:
        return None
    by_index = {lit.index: lit for lit in assumptions}
    return [by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index]


def explain_result(problem: Problem, result: Result, options) -> Result:
    """Attach explanations to ``result`` (unmet requests, or infeasibility)."""
    if result.status is Status.INFEASIBLE:
        limit = min(options.time_limit_s, 10.0)
        return replace(result, explanations=explain_infeasible(problem, time_limit_s=limit))
    if result.roster is None:
        return result
    return replace(result, explanations=explain_requests(problem, result.roster, options.max_explained))


def explain_requests(problem: Problem, roster: Roster, limit: int = 50) -> tuple[Explanation, ...]:
    """Explain the heaviest unmet requests of ``roster`` (at most ``limit``)."""
    base = validate(problem, roster)
    base_items = {(p.rule, p.staff_id, p.day, p.label): p.cost for p in base.penalties}
    unmet = []
    for request in problem.requests:
        code = roster.shift_of(request.staff_id, request.day)
        granted = code is not None if request.shift is None else code == request.shift
        if (request.kind is RequestKind.ON) != granted:
            unmet.append(request)
    unmet.sort(key=lambda r: -r.weight)
    explanations = []
    for request in unmet[:limit]:
        explanations.append(_explain_request(problem, roster, request, base, base_items))
    return tuple(explanations)


def _explain_request(problem, roster, request, base, base_items) -> Explanation:
    person = problem.staff_by_id[request.staff_id]
    when = problem.horizon.label(request.day)
    if request.kind is RequestKind.ON:
        wish = f"{person.label} asked to work {request.shift or 'a shift'} on {when}"
        new_shift = request.shift or _any_shift(problem, person, request.day)
    else:
        wish = f"{person.label} asked not to work {request.shift or 'at all'} on {when}"
        new_shift = None
    kept = [a for a in roster.assignments if not (a.staff_id == person.id and a.day == request.day)]
    if new_shift is not None:
        kept.append(Assignment(person.id, request.day, new_shift))
    trial = validate(problem, Roster(frozenset(kept)))
    if trial.violations:
        rules = tuple(dict.fromkeys(v.rule for v in trial.violations))
        reasons = "; ".join(v.message for v in trial.violations[:3])
        return Explanation(f"{wish}, but granting it would break: {reasons}.", person.id,
                           request.day, rules)
    increases = []
    for item in trial.penalties:
        key = (item.rule, item.staff_id, item.day, item.label)
        extra = item.cost - base_items.get(key, 0)
        if extra > 0 and not (item.staff_id == person.id and item.day == request.day
                              and item.rule.endswith("request")):
            increases.append((extra, item))
    increases.sort(key=lambda pair: -pair[0])
    delta = trial.objective - base.objective
    if delta > 0 and increases:
        reasons = "; ".join(f"{item.label} (+{extra})" for extra, item in increases[:3])
        rules = tuple(dict.fromkeys(item.rule for _, item in increases))
        return Explanation(
            f"{wish} (weight {request.weight}), but granting it would cost {delta} more overall: {reasons}.",
            person.id, request.day, rules)
    if delta == 0:
        return Explanation(f"{wish}; granting it would cost the same overall (another wish or need of equal weight is met instead).",
                           person.id, request.day, ())
    return Explanation(f"{wish}; it could be granted alone, but the search stopped before finding a roster that does.",
                       person.id, request.day, ())


def _any_shift(problem: Problem, person, day: int) -> str | None:
    for shift in problem.shift_types:
        if problem.can_work(person, day, shift.code):
            return shift.code
    return None
