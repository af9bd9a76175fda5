"""Independent roster checker: every hard rule and the objective, without CP-SAT.

This module shares only the problem dataclasses with the model; it re-derives every rule
from the problem's definition in plain Python, so that a bug in the model cannot hide
behind the same bug here.  The portal uses it for manual edits and swaps; the tests run
every solver output through it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from solver import result as names
from solver.domain import OFF, PersonalRuleKind, Problem, RequestKind, Roster, StaffMember
from solver.result import PenaltyItem, breakdown_by_rule, breakdown_by_staff


@dataclass(frozen=True)
class Violation:
    """A broken hard rule, with the person and day when it has one."""

    rule: str
    message: str
    staff_id: str | None = None
    day: int | None = None


@dataclass(frozen=True)
class Validation:
    """Outcome of :func:`validate`: hard violations and the recomputed objective."""

    violations: tuple[Violation, ...]
    objective: int
    penalties: tuple[PenaltyItem, ...]

    @property
    def is_valid(self) -> bool:
        """Whether no hard rule is broken."""
        return not self.violations

    def by_rule(self) -> dict[str, int]:
        """Objective broken down by rule name."""
        return breakdown_by_rule(self.penalties)

    def by_staff(self) -> dict[str | None, int]:
        """Objective broken down by staff id (``None`` for ward-level terms)."""
        return breakdown_by_staff(self.penalties)


def validate(problem: Problem, roster: Roster) -> Validation:
    """Check ``roster`` against every hard rule of ``problem`` and recompute its objective."""
    checker = _Checker(problem, roster)
    checker.run()
    penalties = tuple(p for p in checker.penalties if p.cost)
    return Validation(tuple(checker.violations), sum(p.cost for p in penalties), penalties)


class _Checker:
    def __init__(self, problem: Problem, roster: Roster) -> None:
        self.problem = problem
        self.roster = roster
        self.horizon = problem.horizon
        self.violations: list[Violation] = []
        self.penalties: list[PenaltyItem] = []
        self.grid: dict[tuple[str, int], str] = {}

    def violation(self, rule: str, message: str, person: StaffMember | None = None,
                  day: int | None = None) -> None:
        self.violations.append(Violation(rule, message, person.id if person else None, day))

    def when(self, day: int) -> str:
        return self.horizon.label(day)

    # -- structure -----------------------------------------------------------------------
    def run(self) -> None:
        self.read_roster()
        for person in self.problem.staff:
            self.check_person(person)
        self.check_locked()
        self.check_cover()
        self.score_requests()
        self.score_fairness()
        self.score_minimal_change()

    def read_roster(self) -> None:
        problem = self.problem
        for item in sorted(self.roster.assignments):
            person = problem.staff_by_id.get(item.staff_id)
            if person is None:
                self.violation("unknown_staff", f"unknown staff member {item.staff_id!r}")
                continue
            if item.shift not in problem.shift_by_code:
                self.violation("unknown_shift", f"{person.label}: unknown shift {item.shift!r}",
                               person, item.day)
                continue
            if not 0 <= item.day < self.horizon.num_days:
                self.violation("unknown_day", f"{person.label}: day {item.day} is outside the horizon",
                               person, item.day)
                continue
            key = (item.staff_id, item.day)
            if key in self.grid:
                self.violation("one_shift_per_day",
                               f"{person.label} has more than one shift on {self.when(item.day)}",
                               person, item.day)
                continue
            self.grid[key] = item.shift

    def days_of(self, person: StaffMember) -> list[str | None]:
        return [self.grid.get((person.id, d)) for d in self.horizon.days]

    # -- per-person hard rules and soft rules ----------------------------------------------
    def check_person(self, person: StaffMember) -> None:
        problem = self.problem
        days = self.days_of(person)
        history = list(person.history.known_days()) if person.history else []
        seq = history + days  # shift code, '?' (worked, unknown shift) or None (off)
        offset = len(history)
        worked = [code is not None for code in seq]
        label = person.label

        for day, code in enumerate(days):
            if code is None:
                continue
            if day in person.unavailable_days:
                self.violation("unavailable", f"{label} works {code} on {self.when(day)} but is on leave", person, day)
            elif (day, code) in person.unavailable_shifts:
                self.violation("unavailable", f"{label} works {code} on {self.when(day)} but cannot work it then", person, day)

        counts = Counter(code for code in days if code is not None)
        for code, limit in person.max_shifts.items():
            if counts[code] > limit:
                self.violation("max_shifts", f"{label} works {counts[code]} {code} shifts, at most {limit} allowed", person)

        minutes = sum(problem.shift_by_code[c].paid_minutes * n for c, n in counts.items())
        if minutes < person.min_minutes:
            self.violation("min_minutes", f"{label} works {minutes} paid minutes, at least {person.min_minutes} required", person)
        if person.max_minutes is not None and minutes > person.max_minutes:
            self.violation("max_minutes", f"{label} works {minutes} paid minutes, at most {person.max_minutes} allowed", person)

        for sequence, reason in problem.forbidden_sequences:
            rule = "min_rest" if reason == "minimum rest" else "forbidden_sequence"
            for start in range(len(seq) - len(sequence) + 1):
                if start + len(sequence) - 1 < offset:
                    continue
                if all(_matches(seq[start + j], code) for j, code in enumerate(sequence)):
                    day = start - offset
                    self.violation(rule, f"{label} works {' then '.join(sequence)} from {self.when(max(day, 0))} ({reason})", person, day)

        limit = problem.limit(person, "max_consecutive_days")
        if limit is not None:
            for start, end in _runs(worked, True):
                if end - start > limit and end - 1 >= offset:
                    self.violation("max_consecutive_days", f"{label} works {end - start} days in a row up to {self.when(end - 1 - offset)}, at most {limit} allowed", person, end - 1 - offset)
        for name, value, noun in (("min_consecutive_days", True, "working days"),
                                  ("min_consecutive_days_off", False, "days off")):
            limit = problem.limit(person, name)
            if limit is None:
                continue
            for start, end in _runs(worked, value):
                if start == 0 or end == len(seq) or end < offset:
                    continue
                if end - start < limit:
                    self.violation(name, f"{label} has only {end - start} {noun} in a row from {self.when(max(start - offset, 0))}, at least {limit} required", person, start - offset)
        for code, limit in problem.rules.max_consecutive_shifts.items():
            for start, end in _runs([c == code for c in seq], True):
                if end - start > limit and end - 1 >= offset:
                    self.violation("max_consecutive_shifts", f"{label} works {end - start} {code} shifts in a row up to {self.when(end - 1 - offset)}, at most {limit} allowed", person, end - 1 - offset)

        rest = problem.rules.min_days_off_after_nights
        nights = {s.code for s in problem.shift_types if s.is_night}
        if rest > 0 and nights:
            is_night = [None if c == "?" else (c in nights) for c in seq]
            for pos in range(len(seq) - 1):
                if is_night[pos] is not True or is_night[pos + 1] is not False:
                    continue
                for gap in range(1, rest + 1):
                    at = pos + gap
                    if at < len(seq) and at >= offset and worked[at]:
                        self.violation("days_off_after_nights", f"{label} works on {self.when(at - offset)}, within {rest} days after a night run", person, at - offset)

        weekends = self.horizon.weekends
        worked_weekends = [any(days[d] is not None for d in group) for group in weekends]
        limit = problem.limit(person, "max_weekends")
        if limit is not None and sum(worked_weekends) > limit:
            self.violation("max_weekends", f"{label} works {sum(worked_weekends)} weekends, at most {limit} allowed", person)

        weight = problem.rules.complete_weekends_weight
        if weight:
            for group in weekends:
                if len(group) == 2 and (days[group[0]] is None) != (days[group[1]] is None):
                    self.penalty(names.COMPLETE_WEEKENDS, weight, person, group[0],
                                 f"works only one day of the weekend of {self.when(group[0])}")

        for rule in person.personal_rules:
            what = f"{label}: {rule.kind.value} {rule.limit}" + (f" {rule.shift}" if rule.shift else "")
            if rule.kind in (PersonalRuleKind.MAX_CONSECUTIVE_DAYS, PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS):
                flags = worked if rule.kind is PersonalRuleKind.MAX_CONSECUTIVE_DAYS else [c in nights for c in seq]
                for start in range(max(0, offset - rule.limit), len(seq) - rule.limit):
                    if all(flags[start:start + rule.limit + 1]):
                        self.penalty(names.PERSONAL_RULE, rule.weight, person, start + rule.limit - offset, what)
                continue
            if rule.kind is PersonalRuleKind.MAX_WEEKENDS:
                excess = sum(worked_weekends) - rule.limit
            else:
                count = sum(1 for c in days if c is not None and (rule.shift is None or c == rule.shift))
                excess = rule.limit - count if rule.kind is PersonalRuleKind.MIN_SHIFTS else count - rule.limit
            if excess > 0:
                self.penalty(names.PERSONAL_RULE, rule.weight * excess, person, None, what)

    def penalty(self, rule: str, cost: int, person: StaffMember | None, day: int | None, label: str) -> None:
        self.penalties.append(PenaltyItem(rule, cost, person.id if person else None, day, label))

    # -- ward-level rules ------------------------------------------------------------------
    def check_locked(self) -> None:
        for item in self.problem.locked:
            if self.grid.get((item.staff_id, item.day)) != item.shift:
                person = self.problem.staff_by_id[item.staff_id]
                self.violation("locked", f"{person.label} must work {item.shift} on {self.when(item.day)}", person, item.day)

    def check_cover(self) -> None:
        problem = self.problem
        counts: dict[tuple[int, str, str | None], int] = defaultdict(int)
        skills = {p.id: p.skills for p in problem.staff}
        for (staff_id, day), code in self.grid.items():
            counts[day, code, None] += 1
            for skill in skills[staff_id]:
                counts[day, code, skill] += 1
        for need in problem.cover:
            have = counts[need.day, need.shift, need.skill]
            who = need.skill or "staff"
            where = f"{need.shift} {self.when(need.day)}" + (f" ({need.skill})" if need.skill else "")
            if have < need.minimum:
                self.violation("cover_minimum", f"only {have} {who} on {need.shift}, {self.when(need.day)}; at least {need.minimum} needed", None, need.day)
            if have < need.ideal and need.under_weight:
                self.penalty(names.COVER_UNDER, need.under_weight * (need.ideal - have), None, need.day, f"short on {where}")
            if have > need.ideal and need.over_weight:
                self.penalty(names.COVER_OVER, need.over_weight * (have - need.ideal), None, need.day, f"over on {where}")

    def score_requests(self) -> None:
        for request in self.problem.requests:
            person = self.problem.staff_by_id[request.staff_id]
            code = self.grid.get((request.staff_id, request.day))
            granted = code is not None if request.shift is None else code == request.shift
            what = request.shift or "any shift"
            when = self.when(request.day)
            if request.kind is RequestKind.ON and not granted:
                self.penalty(names.SHIFT_ON_REQUEST, request.weight, person, request.day, f"wanted {what} on {when}")
            if request.kind is RequestKind.OFF and granted:
                self.penalty(names.SHIFT_OFF_REQUEST, request.weight, person, request.day, f"wanted no {what} on {when}")

    def score_fairness(self) -> None:
        problem = self.problem
        fairness = problem.fairness
        nights = {s.code for s in problem.shift_types if s.is_night}
        for term in ("nights", "weekends", "unpopular"):
            weight = fairness.weight(term)
            if not weight:
                continue
            codes = nights if term == "nights" else set(fairness.unpopular_shifts)
            loads = []
            for person in problem.staff:
                days = self.days_of(person)
                if term == "weekends":
                    eligible = any(
                        problem.can_work(person, d, s.code)
                        for group in self.horizon.weekends for d in group for s in problem.shift_types
                    )
                    count = sum(any(days[d] is not None for d in group) for group in self.horizon.weekends)
                else:
                    eligible = any(
                        problem.can_work(person, d, c) for d in self.horizon.days for c in codes
                    )
                    count = sum(1 for c in days if c in codes)
                if eligible:
                    scale = round(10000 / person.fte_percent)
                    loads.append(scale * (count + person.fairness_ledger.get(term, 0)))
            if len(loads) >= 2:
                self.penalty(names.FAIRNESS, weight * (max(loads) - min(loads)), None, None, f"spread of {term}")

    def score_minimal_change(self) -> None:
        problem = self.problem
        if problem.reference is None or not problem.change_weight:
            return
        for person in problem.staff:
            for day in self.horizon.days:
                if problem.reference.shift_of(person.id, day) != self.grid.get((person.id, day)):
                    self.penalty(names.MINIMAL_CHANGE, problem.change_weight, person, day,
                                 f"changed from the reference on {self.when(day)}")


def _matches(state: str | None, code: str) -> bool:
    if code == OFF:
        return state is None
    return state == code


def _runs(flags: list[bool], value: bool) -> list[tuple[int, int]]:
    """Maximal runs ``[start, end)`` of ``value`` in ``flags``."""
    runs, start = [], None
    for index, flag in enumerate(flags + [not value]):
        if flag == value and start is None:
            start = index
        elif flag != value and start is not None:
            runs.append((start, index))
            start = None
    return runs
