"""Where the benchmark ward's gap lies: its per-person shift counts alone, solved as a MIP.

The 45-staff ward of ``bench/scheduling_ward.py`` leaves a gap of 8-20 % after 60 s. This
script builds a *relaxation* of it that keeps only each person's numbers of shifts: how
many Earlies/Lates, long days and nights over the period, how many of them fall in each
week's weekdays and on each Saturday and Sunday, and how many weekends they work. It keeps
the contract minutes, availability, leave, the maximum number of each shift, the cover
totals per week-block and weekend day (per shift and skill, with the same under and over
weights), the split-weekend cost and the three fairness spreads exactly as the solver
scores them; it drops the order of days (rest, sequences, runs) except for two counting
consequences (an off day in every six days, two days off after each run of at most four
nights). Every roster of the ward is a solution of it with no higher cost, so its optimum
is a lower bound on the ward's, and when a MIP solver cannot close it either, the gap lies
in these counts rather than in the sequence rules.

Each person chooses one pattern (short shifts, long days, nights) among those their
contract minutes allow, so the LP knows each person's minutes exactly; each fairness
spread's highest and lowest load are order-encoded over the loads that can occur.

    PYTHONPATH=. .venv/bin/python bench/ward_relaxation.py --time-limit 120 --backend HIGHS
    PYTHONPATH=. .venv/bin/python bench/ward_relaxation.py --weekdays-together   # one cover total for all weekdays

This is a measuring tool for docs/performance.md, not part of the solver: the backends are
the MIP solvers shipped inside OR-Tools (HiGHS, SCIP).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ortools.linear_solver import pywraplp  # noqa: E402
from ortools.math_opt.io.python import mps_converter  # noqa: E402
from ortools.math_opt.python import mathopt  # noqa: E402

import solver  # noqa: E402
from scheduling_ward import demo_ward_problem  # noqa: E402
from solver.model import fairness_scale  # noqa: E402


def day_groups(problem: solver.Problem, weekdays_together: bool) -> list[tuple[int, ...]]:
    """Each weekend day alone, and each week's run of weekdays (or all weekdays as one group)."""
    groups: list[tuple[int, ...]] = []
    run: list[int] = []
    for day in range(problem.horizon.num_days):
        if problem.horizon.date(day).weekday() >= 5:
            if run and not weekdays_together:
                groups.append(tuple(run))
                run = []
            groups.append((day,))
        else:
            run.append(day)
    if run:
        groups.append(tuple(run))
    return groups


def build(problem: solver.Problem, mip: pywraplp.Solver, weekdays_together: bool):
    """The count relaxation; returns the objective expression."""
    horizon = problem.horizon
    num_days = horizon.num_days
    codes = [s.code for s in problem.shift_types]
    minutes = {s.code: s.paid_minutes or 0 for s in problem.shift_types}
    nights = {s.code for s in problem.shift_types if s.is_night}
    unpopular = set(problem.fairness.unpopular_shifts)
    long_codes = nights | unpopular
    short_codes = [c for c in codes if c not in long_codes]
    short_minutes = {minutes[c] for c in short_codes}
    if unpopular & nights or len(short_minutes) > 1:
        raise SystemExit("the pattern form assumes unpopular shifts are not nights and the others share one length")
    short_len = short_minutes.pop() if short_minutes else 0
    groups = day_groups(problem, weekdays_together)
    group_of = {d: g for g, days in enumerate(groups) for d in days}
    terms = []  # the objective
    count = {}  # (person, group, code) -> variable
    unary: dict[tuple[int, str], list] = {}  # (person, term) -> [count >= 1, count >= 2, ...]
    for i, person in enumerate(problem.staff):
        can = {c: {d for d in range(num_days) if problem.can_work(person, d, c)} for c in codes}
        free_days = len(set().union(*can.values()))
        for g, days in enumerate(groups):
            for c in codes:
                top = len(can[c].intersection(days))
                if top:
                    count[i, g, c] = mip.IntVar(0, top, "")
            free = sum(1 for d in days if any(d in can[c] for c in codes))
            mip.Add(sum(count.get((i, g, c), 0) for c in codes) <= free)
        total = {c: sum(count.get((i, g, c), 0) for g in range(len(groups))) for c in codes}
        most = {c: min(len(can[c]), person.max_shifts.get(c, num_days)) for c in codes}
        longest = problem.limit(person, "max_consecutive_days")
        day_cap = min(free_days, num_days - num_days // (longest + 1)) if longest else free_days
        run = min((problem.rules.max_consecutive_shifts.get(c) or num_days) for c in nights) if nights else num_days
        rest = problem.rules.min_days_off_after_nights
        # one pattern per person: (short shifts, unpopular shifts, nights) within the contract minutes
        night_len = max((minutes[c] for c in nights), default=0)
        long_len = max((minutes[c] for c in unpopular - nights), default=0)
        patterns = []
        for ld in range(sum(most[c] for c in unpopular - nights) + 1):
            for n in range(sum(most[c] for c in nights) + 1):
                for short in range(sum(most[c] for c in short_codes) + 1):
                    worked = short + ld + n
                    paid = short_len * short + long_len * ld + night_len * n
                    if worked > day_cap or paid < person.min_minutes:
                        continue
                    if person.max_minutes is not None and paid > person.max_minutes:
                        continue
                    if n and worked + rest * (-(-n // run) - 1) > num_days:
                        continue
                    patterns.append((short, ld, n))
        if not patterns:
            raise SystemExit(f"{person.id}: no pattern of shifts meets the contract")
        pick = [mip.BoolVar("") for _ in patterns]
        mip.Add(sum(pick) == 1)
        mip.Add(sum(total[c] for c in short_codes) == sum(v * p[0] for v, p in zip(pick, patterns)))
        mip.Add(sum(total[c] for c in unpopular - nights) == sum(v * p[1] for v, p in zip(pick, patterns)))
        mip.Add(sum(total[c] for c in nights) == sum(v * p[2] for v, p in zip(pick, patterns)))
        top_n, top_ld = max(p[2] for p in patterns), max(p[1] for p in patterns)
        unary[i, "nights"] = [sum(v for v, p in zip(pick, patterns) if p[2] >= k) for k in range(1, top_n + 1)]
        unary[i, "unpopular"] = [sum(v for v, p in zip(pick, patterns) if p[1] >= k) for k in range(1, top_ld + 1)]
        # weekends: which are worked, at most the limit, a split weekend costs its weight
        worked_weekends = []
        for days in horizon.weekends:
            if not any((i, group_of[d], c) in count for d in days for c in codes):
                continue
            on = [sum(count.get((i, group_of[d], c), 0) for c in codes) for d in days]
            w = mip.BoolVar("")
            for x in on:
                mip.Add(w >= x)
            mip.Add(w <= sum(on))
            worked_weekends.append(w)
            if problem.rules.complete_weekends_weight and len(days) == 2:
                split = mip.BoolVar("")
                mip.Add(split >= on[0] - on[1])
                mip.Add(split >= on[1] - on[0])
                terms.append(problem.rules.complete_weekends_weight * split)
        limit = problem.limit(person, "max_weekends")
        if limit is not None and worked_weekends:
            mip.Add(sum(worked_weekends) <= limit)
        if worked_weekends:
            k = min(len(worked_weekends), limit if limit is not None else len(worked_weekends))
            steps = [mip.BoolVar("") for _ in range(k)]
            for a, b in zip(steps, steps[1:]):
                mip.Add(b <= a)
            mip.Add(sum(steps) == sum(worked_weekends))
            unary[i, "weekends"] = steps
    # cover: totals per group, shift, skill and weights
    rows: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for need in problem.cover:
        key = (group_of[need.day], need.shift, need.skill, need.under_weight, need.over_weight)
        rows[key][0] += need.ideal if need.ideal is not None else 0
        rows[key][1] += need.minimum
    for (g, code, skill, under_w, over_w), (ideal, minimum) in rows.items():
        heads = sum(count.get((i, g, code), 0) for i, p in enumerate(problem.staff)
                    if skill is None or skill in p.skills)
        mip.Add(heads >= minimum)
        under, over = mip.NumVar(0, mip.infinity(), ""), mip.NumVar(0, mip.infinity(), "")
        if over_w:
            mip.Add(over - under == heads - ideal)
        else:
            mip.Add(under >= ideal - heads)
        terms += [under_w * under, over_w * over]
    # requests that can never be met cost their weight whatever the roster
    by_id = problem.staff_by_id
    constant = sum(r.weight for r in problem.requests if r.kind is solver.RequestKind.ON and r.shift is not None
                   and not problem.can_work(by_id[r.staff_id], r.day, r.shift))
    # fairness spreads: highest and lowest load, order-encoded over the loads that can occur
    for term in ("nights", "weekends", "unpopular"):
        weight = problem.fairness.weight(term)
        people = [(fairness_scale(p), p.fairness_ledger.get(term, 0), unary[i, term])
                  for i, p in enumerate(problem.staff) if unary.get((i, term))]
        if not weight or len(people) < 2:
            continue
        base_high = max(s * led for s, led, _ in people)
        base_low = min(s * led for s, led, _ in people)
        highs = sorted({s * (led + k) for s, led, u in people for k in range(1, len(u) + 1)} - set(range(base_high + 1)))
        above = [mip.BoolVar("") for _ in highs]
        for a, b in zip(above, above[1:]):
            mip.Add(b <= a)
        where = {v: j for j, v in enumerate(highs)}
        for s, led, u in people:
            for k, step in enumerate(u, 1):
                if s * (led + k) > base_high:
                    mip.Add(step <= above[where[s * (led + k)]])
        high = base_high + sum((v - (highs[j - 1] if j else base_high)) * above[j] for j, v in enumerate(highs))
        ceiling = min(s * (led + len(u)) for s, led, u in people)
        lows = sorted(v for v in {s * (led + k) for s, led, u in people for k in range(len(u) + 1)}
                      if base_low < v <= ceiling)
        reached = [mip.BoolVar("") for _ in lows]
        for a, b in zip(reached, reached[1:]):
            mip.Add(b <= a)
        for j, v in enumerate(lows):
            for s, led, u in people:
                k = -(-v // s) - led
                if k > len(u):
                    mip.Add(reached[j] == 0)
                elif k > 0:
                    mip.Add(reached[j] <= u[k - 1])
        low = base_low + sum((v - (lows[j - 1] if j else base_low)) * reached[j] for j, v in enumerate(lows))
        terms.append(weight * (high - low))
    return sum(terms) + constant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--backend", default="HIGHS", choices=["HIGHS", "SCIP"])
    parser.add_argument("--threads", type=int, default=2, help="SCIP only (HiGHS runs its MIP on one)")
    parser.add_argument("--weekdays-together", action="store_true",
                        help="one cover total over all weekdays instead of one per week")
    parser.add_argument("--log", action="store_true", help="show the MIP solver's log")
    args = parser.parse_args()
    _, problem, _ = demo_ward_problem()
    builder = pywraplp.Solver.CreateSolver("SCIP")  # used only to write the model down
    started = time.perf_counter()
    builder.Minimize(build(problem, builder, args.weekdays_together))
    built = time.perf_counter() - started
    written = mps_converter.mps_to_model_proto(builder.ExportModelAsMpsFormat(False, False))
    model, lp = mathopt.Model.from_model_proto(written), mathopt.Model.from_model_proto(written)
    for variable in lp.variables():
        variable.integer = False
    relaxed = mathopt.solve(lp, mathopt.SolverType.GLOP)
    backend = {"HIGHS": mathopt.SolverType.HIGHS, "SCIP": mathopt.SolverType.GSCIP}[args.backend]
    params = mathopt.SolveParameters(time_limit=timedelta(seconds=args.time_limit), enable_output=args.log,
                                     threads=args.threads if args.backend == "SCIP" else None)
    started = time.perf_counter()
    result = mathopt.solve(model, backend, params=params)
    wall = time.perf_counter() - started
    print(f"count relaxation ({'all weekdays together' if args.weekdays_together else 'weekdays per week'}, weekend days alone): "
          f"{builder.NumVariables()} variables, {builder.NumConstraints()} constraints, built in {built:.1f} s")
    best = f"{result.objective_value():.0f}" if result.has_primal_feasible_solution() else "none"
    print(f"LP bound {relaxed.objective_value():.0f}; {args.backend} after {wall:.0f} s: "
          f"best {best}, bound {result.dual_bound():.0f} ({result.termination.reason.name.lower()})")

if __name__ == "__main__":
    main()
