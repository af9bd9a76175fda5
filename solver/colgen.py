"""Column generation: a lower bound from each person's possible rosters, and its support.

Every hard rule but the cover minimums concerns one person, and every soft rule but
cover and the fairness spreads is one person's cost.  So the problem is to choose one
*column* per person -- a whole-horizon roster meeting their own rules, with its own cost
-- such that cover and fairness come out cheapest.  The linear relaxation of that choice
(the *master*: weights between 0 and 1 on the columns, summing to 1 per person) is far
tighter than the relaxation of the compact model, because it only mixes rosters each
person can really work.

The master starts from a few columns and grows: after each solve of its LP (GLOP),
every person's *pricing* problem -- their own sub-model (see :class:`Restriction`),
minimising their own cost minus what the LP's dual prices say their shifts are worth --
is solved with CP-SAT, and columns with a negative reduced cost join the master.  At any
iteration where everybody is priced, ``LP value + sum of each person's lowest reduced
cost`` is a lower bound on the objective (the Lagrangian bound); when no column is
added it equals the LP value.  The bound holds for any dual prices of the right signs,
so pricing uses the LP's duals smoothed towards those of the best bound so far
(Wentges), and it takes each pricing problem's CP-SAT bound, so it stays valid when
one of them times out.

The LP's solution then guides the search for rosters: :meth:`ColumnGeneration.support`
gives, per person, the shifts their columns with a weight above 0 hold, and the LNS
(``solver.lns._support_search``) searches the whole model limited to them.  With
``track_support`` each iteration keeps its master's support, so the LNS's guided steps
can use it while the root finishes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from solver import result as names
from solver.model import Restriction, RosterModel, build_model, fairness_count, fairness_scale
from solver.solve import hint_shifts, solve_at_hint

Column = frozenset  # of (day, k)
# Dual prices enter CP-SAT's integer objective multiplied by this; the rounding error is
# allowed for in the bound (see ColumnGeneration._price).
SCALE = 100_000
# Cost per missing person of a hard cover minimum in the master, which may use an
# artificial slack before its columns can meet the minimum (a relaxation either way).
ARTIFICIAL_COST = 10**6
COUPLING_RULES = {names.COVER_UNDER, names.COVER_OVER, names.FAIRNESS}
# Rules whose penalty is an affine expression of the shift and work literals: any
# solution of a pricing problem gives their exact value, optimal or not.  (The others
# use a slack variable bounded from below, which only an optimal solution holds at its
# least.)
EXACT_RULES = {names.SHIFT_ON_REQUEST, names.SHIFT_OFF_REQUEST, names.MINIMAL_CHANGE}
# A pricing problem has this long at most; the pricing parameters (full LP, no probing or
# symmetry detection) cut one person's 56-day pricing on Curtois 17 from 1.25 s to 0.12 s.
# Without Chvátal-Gomory and MIR cuts, and with the LP's constraints added at once rather
# than lazily, the pricing of every fourth person at the same duals (the 20th iteration)
# takes 0.9-1.3 s instead of 2.2-2.6 s on Curtois 19, 1.0 s instead of 1.8-2.3 s on 15 and
# 0.21 s instead of 0.35-0.52 s on 12 (on 13, at the 40th, without those cuts: 1.4-1.8 s
# instead of 2.4-3.9 s), and the standalone roots converge sooner: 8 at 10.5 s instead of
# 18.1 s, 12 at 30 s instead of 38 s, 15 at 94 s instead of 132 s, 13 at 154 s instead of
# 235 s, 19 at 204 s where it had not by 300 s.  (No cuts at all is as fast on 12, 13 and
# 15 but slower on 19.)  But some people's pricing is slow without those cuts: on Curtois 9
# twelve of them ran into the 2-s limit from the 8th iteration on, and its root, which
# converges in 7-9 s with the cuts, had not by 60 s.  So a person's pricing is first tried
# lean, for LEAN_LIMIT_S at most; if that does not prove its optimum it is solved again at
# once with the cuts, and that person's pricing keeps them from then on.
PRICING_LIMIT_S = 2.0
PRICING_PARAMETERS = {"linearization_level": 2, "cp_model_probing_level": 0, "symmetry_level": 0,
                      "add_lp_constraints_lazily": False}
LEAN_PARAMETERS = {"add_cg_cuts": False, "add_mir_cuts": False}
LEAN_LIMIT_S = 0.5
# Columns kept per person and pricing call (each improving solution CP-SAT finds).
COLUMNS_PER_PRICING = 3
# Weight of the stabilisation centre in the duals priced (0: plain column generation).
SMOOTHING = 0.5
# Iterations a root must have room for at its pace, or it is given up (see run_root).
# Curtois 8-17 need 20-35 with smoothing; a root stopped at its deadline a few short of
# converging still guides the support search (8 at 60 s, seeds 0 and 1: 1,511 and 1,552
# with 20 here, against 1,738 and 1,665 with 25, which gave the root up; 10: proven
# optimal at 30 s against 4,647 at 60 s).
EXPECTED_ITERATIONS = 20
# Pricing solves stop within this relative gap of their optimum while the Lagrangian
# bound is below this share of the master's value (the bound stays valid: it is each
# pricing problem's own bound).
HEADING_GAP = 0.05
HEADING_SHARE = 0.5
# GLOP's presolve would be redone on every master solve.
GLOP_PARAMETERS = "use_preprocessing: false"
# The root ends once the integer bound cannot rise any more: the Lagrangian bound rounded
# up reaches the master's value rounded up (every objective is an integer).  Curtois 15:
# 3,824 at 95 s, where the LP converges at 109 s (its last 14 s moved it by 0.01).
STOP_AT_INTEGER_BOUND = True


class _Person:
    """One person's pricing model: their own rules and costs, shifts priced by the duals."""

    def __init__(self, problem, i: int, terms: list[str]) -> None:
        self.i = i
        person = problem.staff[i]
        restriction = Restriction(people=(i,), cover=(), coupling=False)
        self.model = m = build_model(problem, restriction=restriction)
        own = [p for p in m.penalties if p.rule not in COUPLING_RULES]
        # Whether this person's pricing still runs without the costly cuts (see
        # LEAN_PARAMETERS).
        self.lean = True
        # Whether every solution's own cost is exact (see EXACT_RULES); the fairness
        # counts always are (sums of shift literals and weekend maxima).
        self.exact = all(p.rule in EXACT_RULES for p in own)
        self.own = cp_model.LinearExpr.weighted_sum([p.expr for p in own], [p.weight for p in own])
        self.keys = [(day, k) for (_, day, k), var in m.x.items() if var is not m.true]
        self.vars = [m.x[i, day, k] for day, k in self.keys]
        codes = {s.code: k for k, s in enumerate(problem.shift_types)}
        # Cover rows each shift counts in.
        self.cover: list[tuple[int, cp_model.IntVar]] = []
        self.cover_keys: list[tuple[int, tuple[int, int]]] = []
        for n, need in enumerate(problem.cover):
            key = (need.day, codes[need.shift])
            var = m.x.get((i, *key))
            if var is not None and var is not m.true and (need.skill is None or need.skill in person.skills):
                self.cover.append((n, var))
                self.cover_keys.append((n, key))
        # Fairness loads: scale * (count + ledger), for the terms the person can work.
        self.counts = {}
        for term in terms:
            count = fairness_count(m, i, term)
            if count is not None:
                self.counts[term] = count
        self.scale = fairness_scale(person)

    def evaluate(self, chosen: Column) -> tuple[int, dict[str, int]] | None:
        """Own cost and fairness counts of a column, or None if it breaks the person's rules."""
        cp = self.model.cp
        cp.minimize(self.own)
        cp.clear_hints()
        hint_shifts(self.model, {(self.i, day, k) for day, k in chosen})
        solver, feasible = solve_at_hint(cp)
        cp.clear_hints()
        if not feasible:
            return None
        return round(solver.objective_value), {t: solver.value(c) for t, c in self.counts.items()}


class _Collector(cp_model.CpSolverSolutionCallback):
    """Keeps the last few solutions of a pricing solve."""

    def __init__(self, person: _Person) -> None:
        super().__init__()
        self.person = person
        self.found: list[tuple[int, Column, int, dict[str, int]]] = []

    def on_solution_callback(self) -> None:
        p = self.person
        flags = [self.boolean_value(v) for v in p.vars]
        column = frozenset(key for key, flag in zip(p.keys, flags) if flag)
        counts = {t: self.value(c) for t, c in p.counts.items()}
        self.found.append((round(self.objective_value), column, self.value(p.own), counts))
        del self.found[:-COLUMNS_PER_PRICING]


class ColumnGeneration:
    """The master LP over a growing pool of columns, its pricing, bound and support."""

    def __init__(self, model: RosterModel, *, should_stop: Callable[[], bool],
                 remaining: Callable[[], float], workers: int = 1, seed: int = 0) -> None:
        self.model = model
        self.problem = problem = model.problem
        self.should_stop, self.remaining = should_stop, remaining
        self.workers, self.seed = workers, seed
        self.n = len(problem.staff)
        self.terms = [t for t in ("nights", "weekends", "unpopular") if problem.fairness.weight(t)]
        self.people = [_Person(problem, i, self.terms) for i in range(self.n)]
        self.pool: list[dict[Column, pywraplp.Variable]] = [{} for _ in range(self.n)]
        self.iterations = 0
        self.converged = False
        self.gave_up = False
        # Stabilisation centre: the duals of the best Lagrangian bound so far.
        self.center: list[float] | None = None
        self.best_bound = -math.inf
        self.lp_value = math.inf  # the master's value at the last iteration
        # With track_support, each iteration keeps the support of its master's solution
        # (see support()), for the LNS's guided steps while the root goes on.
        self.track_support = False
        self.latest_support: tuple[list[set], list[Column]] | None = None
        self._build_master()

    # -- the master LP ---------------------------------------------------------------------
    def _build_master(self) -> None:
        problem = self.problem
        lp = self.lp = pywraplp.Solver.CreateSolver("GLOP")
        if not lp.SetSolverSpecificParametersAsString(GLOP_PARAMETERS):
            raise RuntimeError("GLOP refused its parameters")
        inf = lp.infinity()
        objective = lp.Objective()
        objective.SetMinimization()
        self.convexity = [lp.Constraint(1, 1) for _ in range(self.n)]
        # Per cover need, the rows its shifts count in.
        self.need_rows: list[list[pywraplp.Constraint]] = []
        for need in problem.cover:
            rows = []
            ideal = need.ideal if need.ideal is not None else need.minimum
            if need.under_weight:
                row = lp.Constraint(ideal, inf)
                under = lp.NumVar(0, inf, "")
                row.SetCoefficient(under, 1)
                objective.SetCoefficient(under, need.under_weight)
                rows.append(row)
            if need.over_weight:
                row = lp.Constraint(-inf, ideal)
                over = lp.NumVar(0, inf, "")
                row.SetCoefficient(over, -1)
                objective.SetCoefficient(over, need.over_weight)
                rows.append(row)
            if need.minimum:
                row = lp.Constraint(need.minimum, inf)
                slack = lp.NumVar(0, inf, "")
                row.SetCoefficient(slack, 1)
                objective.SetCoefficient(slack, ARTIFICIAL_COST)
                rows.append(row)
            self.need_rows.append(rows)
        # Per fairness term: high >= load_i and low <= load_i for each person who counts.
        self.fair_rows: list[dict[str, tuple]] = [{} for _ in range(self.n)]
        for term in self.terms:
            members = [p for p in self.people if term in p.counts]
            if len(members) < 2:
                continue
            weight = problem.fairness.weight(term)
            high, low = lp.NumVar(-inf, inf, ""), lp.NumVar(-inf, inf, "")
            objective.SetCoefficient(high, weight)
            objective.SetCoefficient(low, -weight)
            for p in members:
                ledger = p.scale * problem.staff[p.i].fairness_ledger.get(term, 0)
                # high - scale * count >= ledger;  low - scale * count <= ledger
                above = lp.Constraint(ledger, inf)
                above.SetCoefficient(high, 1)
                below = lp.Constraint(-inf, ledger)
                below.SetCoefficient(low, 1)
                self.fair_rows[p.i][term] = (above, below)
        self.objective = objective
        # All rows but the convexity ones, flat, with their right-hand sides: dual vectors
        # are lists in this order.
        self.flat: list[tuple[pywraplp.Constraint, float]] = []
        self.need_index: list[list[int]] = []
        for need, rows in zip(problem.cover, self.need_rows):
            self.need_index.append(list(range(len(self.flat), len(self.flat) + len(rows))))
            self.flat += [(row, row.lb() if row.lb() > -inf else row.ub()) for row in rows]
        self.fair_index: list[dict[str, tuple[int, int]]] = []
        for rows in self.fair_rows:
            index = {}
            for term, (above, below) in rows.items():
                index[term] = (len(self.flat), len(self.flat) + 1)
                self.flat += [(above, above.lb()), (below, below.ub())]
            self.fair_index.append(index)

    def add_column(self, i: int, column: Column, cost: int, counts: dict[str, int]) -> bool:
        """Add a column of person ``i`` to the master; False if it is already there."""
        pool = self.pool[i]
        if column in pool:
            return False
        var = self.lp.NumVar(0, 1, "")
        self.objective.SetCoefficient(var, cost)
        self.convexity[i].SetCoefficient(var, 1)
        p = self.people[i]
        for n, key in p.cover_keys:
            if key not in column:
                continue
            for row in self.need_rows[n]:
                row.SetCoefficient(var, 1)
        for term, (above, below) in self.fair_rows[i].items():
            load = -p.scale * counts.get(term, 0)
            above.SetCoefficient(var, load)
            below.SetCoefficient(var, load)
        pool[column] = var
        return True

    def add_roster(self, keys) -> None:
        """Add each person's part of a roster (model keys) as a column."""
        columns: list[set] = [set() for _ in range(self.n)]
        for i, day, k in keys:
            columns[i].add((day, k))
        for i, column in enumerate(columns):
            column = frozenset(column)
            if column in self.pool[i]:
                continue
            priced = self.people[i].evaluate(column)
            if priced is not None:
                self.add_column(i, column, *priced)

    def solve_master(self) -> bool:
        return self.lp.Solve() == pywraplp.Solver.OPTIMAL

    # -- pricing -----------------------------------------------------------------------------
    def _duals(self) -> list[float]:
        return [row.dual_value() for row, _ in self.flat]

    def _prices(self, p: _Person, y: list[float]) -> tuple[dict[int, float], dict[str, float]]:
        """What the duals ``y`` pay for each of the person's cover shifts and fairness counts.

        A column's entries are 1 in its shifts' cover rows and ``-scale * count`` in its
        fairness rows; its reduced cost is its cost minus the duals times its entries.
        """
        cover = {n: sum(y[r] for r in self.need_index[n]) for n, _ in p.cover}
        fair = {term: -p.scale * (y[a] + y[b]) for term, (a, b) in self.fair_index[p.i].items()}
        return cover, fair

    def _column_value(self, p: _Person, y: list[float], column: Column, counts) -> float:
        """Duals ``y`` times the column's entries."""
        cover, fair = self._prices(p, y)
        value = sum(cover[n] for n, key in p.cover_keys if key in column)
        return value + sum(fair[t] * counts.get(t, 0) for t in fair)

    def _price(self, p: _Person, y: list[float], gap: float = 0.0):
        """Solve one pricing problem at duals ``y``.

        Returns the solutions found, as (column, cost, counts), and a lower bound on
        ``cost - y * entries`` over all the person's columns (None on a timeout without
        a solution).
        """
        cp = p.model.cp
        cover, fair = self._prices(p, y)
        coefficients, variables = [], []
        error = 0.0
        for n, var in p.cover:
            c = round(SCALE * cover[n])
            if c:
                coefficients.append(-c)
                variables.append(var)
                error += 0.5
        objective = SCALE * p.own + cp_model.LinearExpr.weighted_sum(variables, coefficients)
        for term, count in p.counts.items():
            c = round(SCALE * fair.get(term, 0.0))
            if c:
                objective -= c * count
                error += 0.5 * len(p.keys)
        cp.minimize(objective)
        cp.clear_hints()
        while True:
            lean = p.lean
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = 1
            solver.parameters.random_seed = self.seed
            limit = min(LEAN_LIMIT_S if lean else PRICING_LIMIT_S, self.remaining())
            solver.parameters.max_time_in_seconds = max(0.05, limit)
            for name, value in PRICING_PARAMETERS.items():
                setattr(solver.parameters, name, value)
            if lean:
                for name, value in LEAN_PARAMETERS.items():
                    setattr(solver.parameters, name, value)
            if gap:
                solver.parameters.relative_gap_limit = gap
            collector = _Collector(p)
            code = solver.solve(cp, collector)
            if code == cp_model.OPTIMAL or not lean or self.remaining() <= 0:
                break
            p.lean = False
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return [], None
        # Unless the person's own costs are all exact, only an optimal solution is sure to
        # have their penalty terms at their least (the others are priced again before they
        # join the master).
        last = len(collector.found) - 1
        found = [(column, cost, counts,
                  p.exact or (code == cp_model.OPTIMAL and not gap and n == last))
                 for n, (_, column, cost, counts) in enumerate(collector.found)]
        return found, (solver.best_objective_bound - error) / SCALE

    def _price_all(self, free: list[_Person], y: list[float], gap: float = 0.0):
        if self.workers > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                return list(pool.map(lambda p: self._price(p, y, gap), free))
        return [self._price(p, y, gap) for p in free]

    def iterate(self) -> tuple[float, float | None, int] | None:
        """One LP solve and one round of pricing: (LP value, Lagrangian bound, columns added).

        Pricing uses the LP's duals smoothed towards the duals of the best bound so far
        (Wentges' stabilisation, weight ``SMOOTHING``), which damps the duals' swings
        between iterations; when the smoothed duals find no column that the LP's own
        duals price below zero, the round is repeated at the LP's duals.  The bound is
        the Lagrangian bound at the duals priced; it is None when someone's pricing gave
        none (a timeout without a solution).  None overall when the LP fails.
        """
        if not self.solve_master():
            return None
        value = self.lp_value = self.objective.Value()
        if self.track_support:
            self.latest_support = self._support_of_solution()
        y_lp = self._duals()
        pis = [row.dual_value() for row in self.convexity]
        smooth = self.center is not None and SMOOTHING > 0
        y = ([SMOOTHING * c + (1 - SMOOTHING) * d for c, d in zip(self.center, y_lp)]
             if smooth else y_lp)
        # While heading in, pricing may stop within HEADING_GAP of its optimum.
        gap = HEADING_GAP if self.best_bound < HEADING_SHARE * value else 0.0
        while True:
            priced = self._price_all(self.people, y, gap)
            bound: float | None = sum(d * rhs for d, (_, rhs) in zip(y, self.flat))
            added = 0
            for p, (columns, low) in zip(self.people, priced):
                if low is None or bound is None:
                    bound = None
                else:
                    bound += low
                for column, cost, counts, exact in columns:
                    if column in self.pool[p.i]:
                        continue
                    if not exact:
                        priced_again = p.evaluate(column)
                        if priced_again is None:
                            continue
                        cost, counts = priced_again
                    reduced = cost - self._column_value(p, y_lp, column, counts) - pis[p.i]
                    if reduced < -1e-6:
                        added += self.add_column(p.i, column, cost, counts)
            if bound is not None and bound > self.best_bound:
                self.best_bound, self.center = bound, y
            if added or (y is y_lp and not gap):
                break
            if y is y_lp:
                gap = 0.0
            y = y_lp
        self.iterations += 1
        return value, bound, added

    def lower_bound(self, bound: float) -> int:
        """The integer objective bound implied by a Lagrangian bound (with a tolerance)."""
        return math.ceil(bound - 1e-4)

    def bound_is_final(self) -> bool:
        """Whether more columns could not raise the integer bound: the master's value is
        an upper bound on the relaxation's, so on the integer bound it implies."""
        return (self.best_bound > -math.inf
                and self.lower_bound(self.best_bound) >= self.lower_bound(self.lp_value))

    # -- driving ---------------------------------------------------------------------------
    def run_root(self, on_bound: Callable[[int], None],
                 before_each: Callable[[], None] | None = None,
                 deadline: float = math.inf) -> bool:
        """Generate columns until none improves the LP, or the integer bound is final
        (see ``STOP_AT_INTEGER_BOUND``); True when converged.

        ``before_each`` runs before each iteration (the LNS adds its incumbent there);
        no iteration starts after ``deadline`` (a ``time.perf_counter()`` value), and the
        search gives up early (``self.gave_up``) as soon as its iterations so far (the
        seeding round counted as one) are so slow that ``EXPECTED_ITERATIONS`` of them
        would not fit before it.
        """
        started = time.perf_counter()
        # What one iteration may take; the seeding round costs about as much as one.
        budget = (deadline - started) / EXPECTED_ITERATIONS
        if not self._seed_columns(started + budget):
            self.gave_up = True
            return False
        while not self.should_stop() and self.remaining() > 0:
            now = time.perf_counter()
            if now >= deadline:
                return False
            if (now - started) / (self.iterations + 1) > budget:
                self.gave_up = True
                return False
            if before_each is not None:
                before_each()
            step = self.iterate()
            if step is None:
                return False
            value, bound, added = step
            if bound is not None:
                on_bound(self.lower_bound(bound))
            if not added or (STOP_AT_INTEGER_BOUND and self.bound_is_final()):
                self.converged = True
                return True
        return False

    def _seed_columns(self, until: float = math.inf) -> bool:
        """Each person's cheapest roster for themselves, ignoring cover (zero duals).

        False when that is not done by ``until``: the iterations would be as slow.
        """
        zero = [0.0] * len(self.flat)
        size = max(1, self.workers)
        for start in range(0, self.n, size):
            if time.perf_counter() > until or self.should_stop():
                return False
            group = self.people[start:start + size]
            for p, (columns, _) in zip(group, self._price_all(group, zero)):
                for column, cost, counts, exact in columns:
                    priced = (cost, counts) if exact else p.evaluate(column)
                    if priced is not None:
                        self.add_column(p.i, column, *priced)
        return True

    def support(self) -> tuple[list[set], list[Column]] | None:
        """What the master's solution uses: per person, the shifts of their columns with a
        weight above 0, and their heaviest column (None when the LP fails)."""
        if not self.solve_master():
            return None
        return self._support_of_solution()

    def _support_of_solution(self) -> tuple[list[set], list[Column]]:
        """:meth:`support` at the master's current solution (before columns join it)."""
        shifts: list[set] = []
        heaviest: list[Column] = []
        for pool in self.pool:
            weights = {column: var.solution_value() for column, var in pool.items()}
            shifts.append(set().union(*(column for column, w in weights.items() if w > 1e-6)))
            heaviest.append(max(weights, key=weights.get, default=frozenset()))
        return shifts, heaviest

    @property
    def columns(self) -> int:
        return sum(len(pool) for pool in self.pool)

