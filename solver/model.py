"""The CP-SAT model: one function per rule, listed in order by :func:`build_model`.

Decision variables are ``x[i, d, k]`` (person ``i`` works shift type ``k`` on day
``d``), created only where the person may work that shift, and ``work[i][d]``, their
sum.  Sequence rules (consecutive days, days off, forbidden sequences, rest after
nights) are stated as forbidden patterns: one clause per pattern start, which keeps the
LP relaxation tight and needs no automaton state.  History days before day 0 enter those
patterns as constants, so rules hold across period boundaries.

Soft rules append :class:`Penalty` records; the objective is their weighted sum.  With
``guarded=True`` each hard rule of each person (and each leave day, lock and cover
minimum) is enforced only under an assumption literal, so that an infeasible problem
can be explained by a small set of rules (see :mod:`solver.explain`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ortools.sat.python import cp_model

from solver import result as names
from solver.domain import OFF, PersonalRuleKind, Problem, RequestKind, StaffMember, ceil_div

# A day's state in a pattern: a literal, a known constant (history / impossible), or
# None when unknown (before the known history), which switches the pattern off.
State = object  # a CP-SAT literal, a bool constant, or None


@dataclass
class Penalty:
    """A soft-rule cost term: ``weight * expr`` with what it is about."""

    expr: cp_model.LinearExprT
    weight: int
    rule: str
    staff_id: str | None = None
    day: int | None = None
    label: str = ""


@dataclass(frozen=True)
class Restriction:
    """Build the model for some of the staff only, the others' shifts being fixed.

    Our LNS re-optimises a few people at a time on a model of just those people: the
    others are constants, so they enter the model only through ``cover`` (per cover
    requirement, how many of the others already work it) and ``fairness`` (per fairness
    term, the lowest and highest load among the others who can work it, and how many
    there are).  Every per-person rule concerns only the people in ``people``.

    With a ``window`` the model also decides only some days: a fixed day enters every
    rule as a constant (the literal :attr:`RosterModel.true`, or a plain ``True`` /
    ``False`` in sequence patterns), as history days already do before day 0.

    Without ``coupling`` the model leaves out the rules that tie people together (cover
    and the fairness spreads; ``cover`` is then ignored): what is left is the people's
    own rules and costs, which column generation prices.
    """

    people: tuple[int, ...]
    cover: tuple[int, ...]
    fairness: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)
    # Decide only the days ``window[0] <= day < window[1]``; on the other days each of
    # ``people`` works what ``fixed`` says (person -> day -> shift index; absent: off).
    # Cover needs outside the window are then constants and left out of the model, so
    # its objective differs from the whole one by a constant.
    window: tuple[int, int] | None = None
    fixed: Mapping[int, Mapping[int, int]] = field(default_factory=dict)
    coupling: bool = True


@dataclass
class RosterModel:
    """A CP-SAT model of a :class:`Problem` with its named variables and penalties."""

    problem: Problem
    guarded: bool = False
    restriction: Restriction | None = None
    cp: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    x: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    work: list[list[cp_model.IntVar | None]] = field(default_factory=list)
    penalties: list[Penalty] = field(default_factory=list)
    guards: dict[str, cp_model.IntVar] = field(default_factory=dict)
    by_person: list[list[tuple[int, int, cp_model.IntVar]]] = field(default_factory=list)
    by_person_day: list[list[list[tuple[int, int, cp_model.IntVar]]]] = field(default_factory=list)
    # Per fairness term: its highest and lowest load and each person's load.
    spreads: dict[str, tuple] = field(default_factory=dict)
    # CP-SAT minimises objective_scale * objective + tie-break (see add_fairness_tie_break).
    objective_scale: int = 1
    _cache: dict = field(default_factory=dict)

    @cached_property
    def codes(self) -> list[str]:
        """Shift codes by index ``k``."""
        return [s.code for s in self.problem.shift_types]

    # -- helpers -----------------------------------------------------------------------
    def enforce(self, constraint: cp_model.Constraint, label: str) -> None:
        """Make ``constraint`` the hard rule ``label`` (guarded by an assumption if asked)."""
        if self.guarded:
            constraint.only_enforce_if(self.guard(label))

    def guard(self, label: str) -> list[cp_model.IntVar]:
        """Return the enforcement literals of the hard rule ``label`` ([] if unguarded)."""
        if not self.guarded:
            return []
        if label not in self.guards:
            self.guards[label] = self.cp.new_bool_var(f"assume[{label}]")
        return [self.guards[label]]

    @cached_property
    def people(self) -> list[tuple[int, StaffMember]]:
        """``(i, person)`` for everybody the model decides for."""
        staff = self.problem.staff
        if self.restriction is None:
            return list(enumerate(staff))
        return [(i, staff[i]) for i in self.restriction.people]

    @cached_property
    def index_of(self) -> dict[str, int]:
        """Index ``i`` of each staff id in the model (only people it decides for)."""
        return {person.id: i for i, person in self.people}

    @cached_property
    def span(self) -> tuple[int, int]:
        """The days the model decides, ``(first, end)``: the window, or the whole horizon."""
        window = self.restriction.window if self.restriction is not None else None
        return window if window is not None else (0, self.problem.horizon.num_days)

    def in_window(self, day: int) -> bool:
        """Whether the model decides ``day`` (always, without a window restriction)."""
        return self.span[0] <= day < self.span[1]

    def touches(self, first: int, last: int) -> bool:
        """Whether days ``first..last`` include a decided one.

        A rule's pattern or penalty over days the model does not decide is a constant:
        the rules skip it, so a window's sub-model costs only what its days need.
        """
        return first < self.span[1] and last >= self.span[0]

    @property
    def coupled(self) -> bool:
        """Whether the model has the rules that tie people together (see Restriction)."""
        return self.restriction is None or self.restriction.coupling

    def cover_offset(self, index: int) -> int:
        """How many people outside a restricted model work cover requirement ``index``."""
        return self.restriction.cover[index] if self.restriction is not None else 0

    @property
    def num_days(self) -> int:
        return self.problem.horizon.num_days

    def history_states(self, person: StaffMember) -> tuple[str | None, ...]:
        """Known states before day 0, oldest first (shift code, '?' or None for off)."""
        return person.history.known_days() if person.history else ()

    def work_states(self, i: int) -> tuple[list[State], int]:
        """Work states of person ``i`` over history + horizon, and day 0's position."""
        key = ("work", i)
        if key not in self._cache:
            self._cache[key] = self._work_states(i)
        return self._cache[key]

    def _work_states(self, i: int) -> tuple[list[State], int]:
        history = self.history_states(self.problem.staff[i])
        states: list[State] = [code is not None for code in history]
        true = self.true
        states += [False if w is None else (True if w is true else w) for w in self.work[i]]
        return states, len(history)

    def shift_states(self, i: int, codes: set[str]) -> tuple[list[State], int]:
        """States "works one of ``codes``" of person ``i`` over history + horizon."""
        key = ("shift", i, frozenset(codes))
        if key not in self._cache:
            self._cache[key] = self._shift_states(i, codes)
        return self._cache[key]

    def _shift_states(self, i: int, codes: set[str]) -> tuple[list[State], int]:
        history = self.history_states(self.problem.staff[i])
        states: list[State] = [
            None if code == "?" else (code in codes) for code in history
        ]
        for day in range(self.num_days):
            states.append(self.shifts_literal(i, day, codes))
        return states, len(history)

    def shifts_literal(self, i: int, day: int, codes: set[str]) -> State:
        """A literal for "person ``i`` works one of ``codes`` on ``day``" (or False)."""
        lits = [var for _, k, var in self.by_person_day[i][day] if self.codes[k] in codes]
        if not lits:
            return False
        if len(lits) == 1:
            return True if lits[0] is self.true else lits[0]
        if len(lits) == len(self.day_vars(i, day)):
            return self.work[i][day]
        either = self.cp.new_bool_var(f"any[{i},{day},{'|'.join(sorted(codes))}]")
        self.cp.add(either == _total(lits))
        return either

    def forbid(self, pattern: Sequence[tuple[State, bool]], label: str) -> None:
        """Forbid the states in ``pattern`` all taking their given values."""
        clause = []
        for state, value in pattern:
            if state is None:
                return
            if isinstance(state, bool):
                if state != value:
                    return
                continue
            clause.append(state.Not() if value else state)
        if not clause:
            clause = [self.false]
        self.enforce(self.cp.add_bool_or(clause), label)

    def person_vars(self, i: int) -> list[tuple[int, int, cp_model.IntVar]]:
        """All ``(day, k, x)`` of person ``i``."""
        return self.by_person[i]

    def day_vars(self, i: int, day: int) -> list[cp_model.IntVar]:
        """All shift variables of person ``i`` on ``day``."""
        return [var for d, _, var in self.by_person_day[i][day]]

    def shift_count(self, i: int, code: str | None = None) -> cp_model.LinearExprT:
        """Number of shifts (of type ``code``, or all) person ``i`` works."""
        if code is None:
            return _total(var for _, _, var in self.by_person[i])
        key = ("count", i)
        if key not in self._cache:
            groups: dict[str, list] = {}
            for _, k, var in self.by_person[i]:
                groups.setdefault(self.codes[k], []).append(var)
            self._cache[key] = groups
        return _total(self._cache[key].get(code, []))

    def weekend_literal(self, i: int, days: tuple[int, ...]) -> State:
        """A literal for "person ``i`` works on one of the weekend ``days``"."""
        lits = [self.work[i][d] for d in days if self.work[i][d] is not None]
        if not lits:
            return False
        if any(lit is self.true for lit in lits):
            # A fixed worked day (outside a window) makes the weekend worked.
            return self.true
        if len(lits) == 1:
            return lits[0]
        key = ("weekend", i, days[0])
        cache = self._cache
        if key not in cache:
            worked = self.cp.new_bool_var(f"weekend[{i},{days[0]}]")
            self.cp.add_max_equality(worked, lits)
            cache[key] = worked
        return cache[key]

    def penalise(self, expr, weight: int, rule: str, staff_id=None, day=None, label="") -> None:
        """Add a soft cost ``weight * expr``."""
        if weight:
            self.penalties.append(Penalty(expr, weight, rule, staff_id, day, label))

    def objective_expr(self) -> cp_model.LinearExprT:
        """The weighted sum of all penalties."""
        return cp_model.LinearExpr.weighted_sum([p.expr for p in self.penalties],
                                                [p.weight for p in self.penalties])

    def objective_of(self, value: float) -> int:
        """The roster's objective from CP-SAT's objective value."""
        return round(value) // self.objective_scale

    def bound_of(self, value: float) -> float:
        """A lower bound on the objective from CP-SAT's bound.

        With a tie-break of at most ``objective_scale - 1`` below the objective, a bound
        ``b`` on ``scale * objective + ties`` gives ``objective >= floor(b / scale)``.
        """
        if self.objective_scale == 1:
            return value
        return float(math.floor(value / self.objective_scale))


def build_model(problem: Problem, *, guarded: bool = False,
                restriction: Restriction | None = None) -> RosterModel:
    """Build the CP-SAT model of ``problem``: variables, hard rules, soft rules, objective.

    With a ``restriction`` the model covers only some people (see :class:`Restriction`).
    """
    m = RosterModel(problem, guarded=guarded, restriction=restriction)
    add_variables(m)
    # Hard rules.
    add_unavailability(m)
    add_locked_assignments(m)
    add_max_shifts_per_type(m)
    add_contract_minutes(m)
    add_forbidden_sequences(m)
    add_max_consecutive_days(m)
    add_min_consecutive_days(m)
    add_min_consecutive_days_off(m)
    add_max_consecutive_shifts(m)
    add_days_off_after_nights(m)
    add_max_weekends(m)
    add_cover_minimum(m)
    # Soft rules.
    add_cover_ideal(m)
    add_requests(m)
    add_complete_weekends(m)
    add_fairness(m)
    add_personal_rules(m)
    add_minimal_change(m)
    # Implied constraints that tighten the relaxation; they remove no roster.
    add_redundant_shift_counts(m)
    m.cp.minimize(m.objective_expr())
    return m


# -- variables ---------------------------------------------------------------------------
def add_variables(m: RosterModel) -> None:
    """Create ``x[i,d,k]`` where allowed and ``work[i][d] = sum_k x[i,d,k] <= 1``."""
    problem = m.problem
    m.false = m.cp.new_bool_var("false")
    m.cp.add(m.false == 0)
    # The shift a person works on a fixed day (outside a window restriction).
    m.true = m.cp.new_bool_var("true")
    m.cp.add(m.true == 1)
    restriction = m.restriction
    window = restriction.window if restriction is not None else None
    fixed = restriction.fixed if restriction is not None else {}
    codes = m.codes
    new_bool_var = m.cp.new_bool_var
    empty_row = [None] * problem.horizon.num_days
    empty_days = [[] for _ in problem.horizon.days]
    included = {i for i, _ in m.people}
    for i, person in enumerate(problem.staff):
        if i not in included:
            m.by_person.append([])
            m.by_person_day.append(empty_days)
            m.work.append(empty_row)
            continue
        row: list[cp_model.IntVar | None] = []
        person_vars: list = []
        person_days: list = []
        # can_work() inlined: this loop creates up to a million variables.
        allowed = [k for k, code in enumerate(codes) if m.guarded or person.max_shifts.get(code, 1) > 0]
        blocked = set() if m.guarded else person.unavailable_shifts
        leave = set() if m.guarded else person.unavailable_days
        mine = fixed.get(i, {})
        for day in problem.horizon.days:
            entries = []
            if window is not None and not window[0] <= day < window[1]:
                if day in mine:
                    entries.append((day, mine[day], m.true))
                    m.x[i, day, mine[day]] = m.true
            elif day not in leave:
                for k in allowed:
                    if blocked and (day, codes[k]) in blocked:
                        continue
                    var = new_bool_var(f"x[{person.id},{day},{codes[k]}]")
                    m.x[i, day, k] = var
                    entries.append((day, k, var))
            person_days.append(entries)
            person_vars.extend(entries)
            if not entries:
                row.append(None)
            elif len(entries) == 1:
                row.append(entries[0][2])
            else:
                worked = new_bool_var(f"work[{person.id},{day}]")
                m.cp.add(_total(e[2] for e in entries) == worked)
                row.append(worked)
        m.by_person.append(person_vars)
        m.by_person_day.append(person_days)
        m.work.append(row)


# -- hard rules --------------------------------------------------------------------------
def add_unavailability(m: RosterModel) -> None:
    """Leave and unavailable shifts (only needed as constraints in guarded mode)."""
    if not m.guarded:
        return
    problem = m.problem
    for i, person in m.people:
        for day in sorted(person.unavailable_days):
            label = f"{person.label} is on leave on {problem.horizon.label(day)}"
            m.enforce(m.cp.add(m.work[i][day] == 0), label)
        for day, code in sorted(person.unavailable_shifts):
            k = _shift_index(problem, code)
            label = f"{person.label} cannot work {code} on {problem.horizon.label(day)}"
            m.enforce(m.cp.add(m.x[i, day, k] == 0), label)


def add_locked_assignments(m: RosterModel) -> None:
    """Locked (fixed) assignments must be worked."""
    problem = m.problem
    for item in problem.locked:
        if item.staff_id not in m.index_of:
            continue
        i, k = m.index_of[item.staff_id], _shift_index(problem, item.shift)
        person = problem.staff[i]
        label = f"{person.label} is fixed to {item.shift} on {problem.horizon.label(item.day)}"
        var = m.x.get((i, item.day, k), m.false)
        m.enforce(m.cp.add(var == 1), label)


def add_max_shifts_per_type(m: RosterModel) -> None:
    """At most ``max_shifts[code]`` shifts of each type per person."""
    for i, person in m.people:
        for code, limit in person.max_shifts.items():
            if limit >= m.num_days and not m.guarded:
                continue
            label = f"{person.label}: at most {limit} {code} shifts"
            m.enforce(m.cp.add(m.shift_count(i, code) <= limit), label)


def add_contract_minutes(m: RosterModel) -> None:
    """Paid minutes over the period between the contract minimum and maximum."""
    problem = m.problem
    for i, person in m.people:
        entries = m.person_vars(i)
        minutes = cp_model.LinearExpr.weighted_sum(
            [var for _, _, var in entries], [problem.shift_types[k].paid_minutes for _, k, _ in entries])
        if person.min_minutes > 0:
            label = f"{person.label}: at least {person.min_minutes} paid minutes"
            m.enforce(m.cp.add(minutes >= person.min_minutes), label)
        if person.max_minutes is not None:
            label = f"{person.label}: at most {person.max_minutes} paid minutes"
            m.enforce(m.cp.add(minutes <= person.max_minutes), label)


def add_forbidden_sequences(m: RosterModel) -> None:
    """Forbidden shift sequences on consecutive days, including too-short rests.

    Two-shift sequences are grouped by follower set F: with H the shifts that cannot be
    followed by any shift of F, ``sum(x[d, a] for a in H) + sum(x[d+1, b] for b in F) <= 1``
    (valid because a person works one shift a day).  One such clique per distinct F
    replaces one clause per pair, and is tighter in the LP.  Other sequences (with days
    off, or longer) are forbidden patterns.
    """
    problem = m.problem
    pairs: dict[str, list[str]] = {}
    others = []
    for sequence, reason in problem.forbidden_sequences:
        if len(sequence) == 2 and OFF not in sequence:
            followers = pairs.setdefault(sequence[0], [])
            if sequence[1] not in followers:
                followers.append(sequence[1])
        else:
            others.append((sequence, reason))
    reasons = {s: r for s, r in problem.forbidden_sequences}
    k_of = {code: k for k, code in enumerate(m.codes)}
    # One constraint per distinct follower set F: every shift whose followers include F
    # is a head.  Nested sets (common: later shifts forbid more) share constraints.
    groups = []
    for followers in sorted({frozenset(f) for f in pairs.values()}, key=sorted):
        heads = sorted(a for a, f in pairs.items() if followers <= set(f))
        groups.append(({k_of[a] for a in heads}, {k_of[b] for b in followers}, heads, sorted(followers)))
    for i, person in m.people:
        history = m.history_states(person)
        last = history[-1] if history else None
        if last in pairs:  # across the period boundary
            for b in pairs[last]:
                var = m.x.get((i, 0, k_of[b]))
                if var is not None:
                    label = f"{person.label}: {reasons[(last, b)]} ({last} then {b})"
                    m.enforce(m.cp.add(var == 0), label)
        for head_ks, tail_ks, heads, followers in groups:
            label = f"{person.label}: cannot work {'/'.join(followers)} the day after {'/'.join(heads)}"
            if m.guarded:
                label += " (" + "; ".join(sorted({reasons[(a, b)] for a in heads for b in followers
                                                  if (a, b) in reasons})) + ")"
            heads_by_day = [[var for _, k, var in entries if k in head_ks]
                            for entries in m.by_person_day[i]]
            tails_by_day = [[var for _, k, var in entries if k in tail_ks]
                            for entries in m.by_person_day[i]]
            for day in range(m.num_days - 1):
                if heads_by_day[day] and tails_by_day[day + 1] and (
                        m.in_window(day) or m.in_window(day + 1)):
                    m.enforce(m.cp.add(_total(heads_by_day[day] + tails_by_day[day + 1]) <= 1), label)
        for sequence, reason in others:
            label = f"{person.label}: {reason} ({' then '.join(sequence)})"
            series = []
            for code in sequence:
                if code == OFF:
                    states, offset = m.work_states(i)
                    series.append((states, False))
                else:
                    states, offset = m.shift_states(i, {code})
                    series.append((states, True))
            length = len(sequence)
            for start in range(-offset, m.num_days - length + 1):
                if start + length - 1 < 0 or not m.touches(start, start + length - 1):
                    continue
                m.forbid([(states[offset + start + j], value)
                          for j, (states, value) in enumerate(series)], label)


def add_max_consecutive_days(m: RosterModel) -> None:
    """Every run of worked days is at most ``max_consecutive_days`` long."""
    for i, person in m.people:
        limit = m.problem.limit(person, "max_consecutive_days")
        states, offset = m.work_states(i)
        if limit is None or limit >= len(states):
            continue
        _add_max_run(m, states, offset, limit, f"{person.label}: at most {limit} consecutive working days")


def add_min_consecutive_days(m: RosterModel) -> None:
    """Every run of worked days is at least ``min_consecutive_days`` long.

    Runs touching the end of the horizon, or its start when there is no history, are
    exempt (they continue outside the period).
    """
    for i, person in m.people:
        limit = m.problem.limit(person, "min_consecutive_days")
        if limit is None or limit <= 1:
            continue
        states, offset = m.work_states(i)
        _add_min_run(m, states, offset, limit, True, f"{person.label}: at least {limit} consecutive working days")


def add_min_consecutive_days_off(m: RosterModel) -> None:
    """Every run of days off is at least ``min_consecutive_days_off`` long (edges exempt)."""
    for i, person in m.people:
        limit = m.problem.limit(person, "min_consecutive_days_off")
        if limit is None or limit <= 1:
            continue
        states, offset = m.work_states(i)
        _add_min_run(m, states, offset, limit, False, f"{person.label}: at least {limit} consecutive days off")


def add_max_consecutive_shifts(m: RosterModel) -> None:
    """At most ``max_consecutive_shifts[code]`` shifts of that type in a row."""
    for code, limit in m.problem.rules.max_consecutive_shifts.items():
        for i, person in m.people:
            states, offset = m.shift_states(i, {code})
            _add_max_run(m, states, offset, limit, f"{person.label}: at most {limit} {code} shifts in a row")


def add_days_off_after_nights(m: RosterModel) -> None:
    """After a run of night shifts, at least ``min_days_off_after_nights`` days off."""
    rest = m.problem.rules.min_days_off_after_nights
    nights = {s.code for s in m.problem.shift_types if s.is_night}
    if rest <= 0 or not nights:
        return
    for i, person in m.people:
        label = f"{person.label}: {rest} days off after nights"
        night, offset = m.shift_states(i, nights)
        work, _ = m.work_states(i)
        for pos in range(len(night) - 1):
            if not m.touches(pos - offset, pos + rest - offset):
                continue
            for gap in range(1, rest + 1):
                if pos + gap >= len(night) or pos + gap < offset:
                    continue
                m.forbid([(night[pos], True), (night[pos + 1], False), (work[pos + gap], True)], label)


def add_max_weekends(m: RosterModel) -> None:
    """At most ``max_weekends`` worked weekends (Saturday or Sunday worked)."""
    weekends = m.problem.horizon.weekends
    for i, person in m.people:
        limit = m.problem.limit(person, "max_weekends")
        if limit is None or limit >= len(weekends):
            continue
        lits = [m.weekend_literal(i, days) for days in weekends]
        lits = [lit for lit in lits if not isinstance(lit, bool)]
        label = f"{person.label}: at most {limit} working weekends"
        m.enforce(m.cp.add(_total(lits) <= limit), label)


def add_cover_minimum(m: RosterModel) -> None:
    """At least ``minimum`` skilled staff on each shift (hard)."""
    problem = m.problem
    if not m.coupled:
        return
    for index, need in enumerate(problem.cover):
        needed = need.minimum - m.cover_offset(index)
        if needed <= 0 or not m.in_window(need.day):
            continue
        who = need.skill or "staff"
        label = f"cover: at least {need.minimum} {who} on {need.shift}, {problem.horizon.label(need.day)}"
        m.enforce(m.cp.add(_cover_count(m, need) >= needed), label)


# -- soft rules --------------------------------------------------------------------------
def add_cover_ideal(m: RosterModel) -> None:
    """Each person short of / over the ideal cover costs its under / over weight."""
    problem = m.problem
    if not m.coupled:
        return
    for index, need in enumerate(problem.cover):
        if not m.in_window(need.day):
            continue
        able = _cover_able(m, need)
        offset = m.cover_offset(index)
        count = _total(able) + offset
        where = f"{need.shift} {problem.horizon.label(need.day)}" + (f" ({need.skill})" if need.skill else "")
        under = over = None
        if need.under_weight and need.ideal > offset:
            under = m.cp.new_int_var(0, need.ideal - offset, f"under[{index}]")
        if need.over_weight and len(able) + offset > need.ideal:
            over = m.cp.new_int_var(max(0, offset - need.ideal), len(able) + offset - need.ideal,
                                    f"over[{index}]")
        if under is not None and over is not None:
            m.cp.add(count - need.ideal == over - under)
        elif under is not None:
            m.cp.add(under >= need.ideal - count)
        elif over is not None:
            m.cp.add(over >= count - need.ideal)
        if under is not None:
            m.penalise(under, need.under_weight, names.COVER_UNDER, None, need.day, f"short on {where}")
        if over is not None:
            m.penalise(over, need.over_weight, names.COVER_OVER, None, need.day, f"over on {where}")


def add_requests(m: RosterModel) -> None:
    """Unmet shift-on requests and met shift-off requests cost their weight."""
    problem = m.problem
    for request in problem.requests:
        i = m.index_of.get(request.staff_id)
        if i is None or not m.in_window(request.day):
            continue
        if request.shift is None:
            lit = m.work[i][request.day]
        else:
            lit = m.x.get((i, request.day, _shift_index(problem, request.shift)))
        worked = lit if lit is not None else 0
        what = request.shift or "any shift"
        when = problem.horizon.label(request.day)
        if request.kind is RequestKind.ON:
            m.penalise(1 - worked, request.weight, names.SHIFT_ON_REQUEST, request.staff_id,
                       request.day, f"wanted {what} on {when}")
        else:
            m.penalise(worked, request.weight, names.SHIFT_OFF_REQUEST, request.staff_id,
                       request.day, f"wanted no {what} on {when}")


def add_complete_weekends(m: RosterModel) -> None:
    """Working only one day of a weekend costs ``complete_weekends_weight``."""
    weight = m.problem.rules.complete_weekends_weight
    if not weight:
        return
    for i, person in m.people:
        for days in m.problem.horizon.weekends:
            if len(days) != 2 or not m.touches(days[0], days[1]):
                continue
            sat, sun = (m.work[i][d] for d in days)
            if sat is None and sun is None:
                continue
            split = m.cp.new_bool_var(f"split_weekend[{person.id},{days[0]}]")
            sat_expr = sat if sat is not None else 0
            sun_expr = sun if sun is not None else 0
            m.cp.add(split >= sat_expr - sun_expr)
            m.cp.add(split >= sun_expr - sat_expr)
            m.penalise(split, weight, names.COMPLETE_WEEKENDS, person.id, days[0],
                       f"works only one day of the weekend of {m.problem.horizon.label(days[0])}")


def add_fairness(m: RosterModel) -> None:
    """Cost the spread of nights, weekends and unpopular shifts relative to contract."""
    problem = m.problem
    if not m.coupled:
        return
    fairness = problem.fairness
    for term in ("nights", "weekends", "unpopular"):
        weight = fairness.weight(term)
        if not weight:
            continue
        loads = []
        for i, person in m.people:
            count = fairness_count(m, i, term)
            if count is None:
                continue
            scale = fairness_scale(person)
            loads.append(scale * (count + person.fairness_ledger.get(term, 0)))
        outside = m.restriction.fairness.get(term) if m.restriction is not None else None
        if outside is not None and outside[2]:
            loads += [outside[0], outside[1]]
            if outside[2] == 1:
                loads.pop()
        if len(loads) < 2:
            continue
        top = 100 * m.num_days * 100 + 10**6
        high = m.cp.new_int_var(-top, top, f"fair_high[{term}]")
        low = m.cp.new_int_var(-top, top, f"fair_low[{term}]")
        for load in loads:
            m.cp.add(high >= load)
            m.cp.add(low <= load)
        m.spreads[term] = (high, low, loads)
        m.penalise(high - low, weight, names.FAIRNESS, None, None, f"spread of {term}")


def add_fairness_tie_break(m: RosterModel) -> None:
    """Below the objective, count the people at the highest and lowest load of each spread.

    A spread falls only when everybody at its highest (or lowest) load moves at once. On
    a ward many people share the extreme load (in one roster of the 45-staff benchmark
    ward, 15 night workers at the most nights), so a search that changes a few people at
    a time sees no gain until the last of them moves. One literal per person and extreme,
    true when the person's load reaches it, is minimised below the objective: CP-SAT
    minimises ``scale * objective + literals`` with ``scale`` above the number of
    literals, which orders rosters by the objective first. Read values back with
    :meth:`RosterModel.objective_of` and :meth:`RosterModel.bound_of`.
    """
    ties = []
    for high, low, loads in m.spreads.values():
        for load in loads:
            if isinstance(load, int):
                continue
            at_top = m.cp.new_bool_var("at_top")
            m.cp.add(load <= high - 1).only_enforce_if(at_top.Not())
            at_bottom = m.cp.new_bool_var("at_bottom")
            m.cp.add(load >= low + 1).only_enforce_if(at_bottom.Not())
            ties += [at_top, at_bottom]
    if not ties:
        return
    m.objective_scale = len(ties) + 1
    m.cp.minimize(m.objective_scale * m.objective_expr() + cp_model.LinearExpr.sum(ties))


def fairness_scale(person: StaffMember) -> int:
    """Hundredths of a full-time shift that one shift of ``person`` represents."""
    return round(10000 / person.fte_percent)


def fairness_count(m: RosterModel, i: int, term: str):
    """This period's count of ``term`` for person ``i``, or None if they cannot work it."""
    problem = m.problem
    if term == "weekends":
        lits = [m.weekend_literal(i, days) for days in problem.horizon.weekends]
    else:
        if term == "nights":
            codes = {s.code for s in problem.shift_types if s.is_night}
        else:
            codes = set(problem.fairness.unpopular_shifts)
        lits = [var for _, k, var in m.person_vars(i) if problem.shift_types[k].code in codes]
    lits = [lit for lit in lits if not isinstance(lit, bool)]
    return _total(lits) if lits else None


def add_personal_rules(m: RosterModel) -> None:
    """Soft personal limits: each unit beyond the limit costs the rule's weight."""
    problem = m.problem
    nights = {s.code for s in problem.shift_types if s.is_night}
    for i, person in m.people:
        for number, rule in enumerate(person.personal_rules):
            what = f"{person.label}: {rule.kind.value} {rule.limit}" + (f" {rule.shift}" if rule.shift else "")
            if rule.kind in (PersonalRuleKind.MAX_CONSECUTIVE_DAYS, PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS):
                if rule.kind is PersonalRuleKind.MAX_CONSECUTIVE_DAYS:
                    states, offset = m.work_states(i)
                else:
                    states, offset = m.shift_states(i, nights)
                for start in range(len(states) - rule.limit):
                    window = states[start:start + rule.limit + 1]
                    # False: the run is broken; None: an unknown day of history.
                    if (start + rule.limit < offset or not m.touches(start - offset, start + rule.limit - offset)
                            or any(s is False or s is None for s in window)):
                        continue
                    lits = [s for s in window if not isinstance(s, bool)]
                    excess = m.cp.new_bool_var(f"personal[{person.id},{number},{start}]")
                    m.cp.add(excess >= _total(lits) - len(lits) + 1)
                    m.penalise(excess, rule.weight, names.PERSONAL_RULE, person.id,
                               start + rule.limit - offset, what)
                continue
            if rule.kind is PersonalRuleKind.MAX_WEEKENDS:
                lits = [m.weekend_literal(i, days) for days in problem.horizon.weekends]
                count = _total(lit for lit in lits if not isinstance(lit, bool))
                top = len(lits)
            else:
                count = m.shift_count(i, rule.shift)
                top = m.num_days
            excess = m.cp.new_int_var(0, top, f"personal[{person.id},{number}]")
            if rule.kind is PersonalRuleKind.MIN_SHIFTS:
                m.cp.add(excess >= rule.limit - count)
            else:
                m.cp.add(excess >= count - rule.limit)
            m.penalise(excess, rule.weight, names.PERSONAL_RULE, person.id, None, what)


def add_minimal_change(m: RosterModel) -> None:
    """Each person-day that differs from the reference roster costs ``change_weight``."""
    problem = m.problem
    if problem.reference is None or not problem.change_weight:
        return
    for i, person in m.people:
        for day in range(*m.span):
            code = problem.reference.shift_of(person.id, day)
            worked = m.work[i][day]
            if code is None:
                changed = worked if worked is not None else 0
            else:
                var = m.x.get((i, day, _shift_index(problem, code)))
                changed = 1 - var if var is not None else 1
            m.penalise(changed, problem.change_weight, names.MINIMAL_CHANGE, person.id, day,
                       f"changed from the reference on {problem.horizon.label(day)}")


# -- redundant constraints -------------------------------------------------------------
def add_redundant_shift_counts(m: RosterModel) -> None:
    """Bound each person's number of shifts by what their paid minutes allow."""
    problem = m.problem
    if m.guarded:  # implied constraints must not escape the guards
        return
    for i, person in m.people:
        lengths = {problem.shift_types[k].paid_minutes for _, k, _ in m.person_vars(i)}
        if not lengths or min(lengths) <= 0:
            continue
        total = _total(w for w in m.work[i] if w is not None)
        if person.max_minutes is not None:
            m.cp.add(total <= person.max_minutes // min(lengths))
        if person.min_minutes > 0 and max(lengths) > 0:
            m.cp.add(total >= ceil_div(person.min_minutes, max(lengths)))


# -- shared pieces -----------------------------------------------------------------------
def _shift_index(problem: Problem, code: str) -> int:
    return next(k for k, s in enumerate(problem.shift_types) if s.code == code)


def _total(items) -> cp_model.LinearExprT:
    """Sum of variables (much faster than Python's ``sum`` on large models)."""
    return cp_model.LinearExpr.sum(list(items))


def _cover_able(m: RosterModel, need) -> list[cp_model.IntVar]:
    if "cover" not in m._cache:
        by_slot: dict[tuple[int, int], list] = {}
        for (i, day, k), var in m.x.items():
            by_slot.setdefault((day, k), []).append((i, var))
        m._cache["cover"] = by_slot
    k = _shift_index(m.problem, need.shift)
    staff = m.problem.staff
    return [var for i, var in m._cache["cover"].get((need.day, k), [])
            if need.skill is None or need.skill in staff[i].skills]


def _cover_count(m: RosterModel, need) -> cp_model.LinearExprT:
    return _total(_cover_able(m, need))


def _add_max_run(m: RosterModel, states: list[State], offset: int, limit: int, label: str) -> None:
    """No ``limit + 1`` consecutive True states (windows ending in the horizon)."""
    first, end = m.span
    for start in range(max(0, offset - limit, first + offset - limit),
                       min(len(states) - limit, end + offset)):
        m.forbid([(s, True) for s in states[start:start + limit + 1]], label)


def _add_min_run(
    m: RosterModel, states: list[State], offset: int, limit: int, value: bool, label: str
) -> None:
    """Every run of ``value`` states bounded by the other value is ``limit`` or longer.

    Runs touching either end of ``states`` are exempt; runs ending in history are ignored.
    """
    n = len(states)
    first, end = m.span
    # Only patterns that include a decided day (all of them without a window).
    for before in range(max(0, first + offset - limit), min(n, end + offset)):
        for length in range(1, limit):
            after = before + length + 1
            if after >= n:
                break
            if after < offset:
                continue
            pattern = [(states[before], not value)]
            pattern += [(states[d], value) for d in range(before + 1, after)]
            pattern.append((states[after], not value))
            m.forbid(pattern, label)
