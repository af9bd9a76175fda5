"""Roster services: the only adapter between database rows and ``solver/``, and roster workflows.

Reading order:

1. Errors and small look-ups (``SchedulingError``, ``ward_rules``, ``current_published_roster``).
2. The adapter: ``load_snapshot`` reads every row a period needs in a fixed number of queries;
   ``build_problem`` turns it into a frozen ``solver.Problem`` plus a ``ProblemMapping`` that
   translates staff ids, shift codes and day indexes back into rows.
3. Validation through ``solver.validate`` in plain words (``check_roster_change``).
4. Workflows: ward set-up, periods, optimiser runs (the job itself is in ``tasks.py``), draft
   edits with locks, publishing numbered versions (``publish_draft``, ``publish_changes``),
   diffs, sick calls, exports.

Services take plain arguments, change rows, write the audit trail and flush; the view commits.
They raise ``SchedulingError`` with messages fit for a ward manager or a nurse.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

import solver
from portal.extensions import db
from portal.models import Grade, ShiftType, Skill, StaffMember, User, Ward, WardMembership, utcnow
from portal.scheduling.models import (
    BankHoliday,
    CoverRequirement,
    DayType,
    DecisionStatus,
    FairnessLedger,
    Leave,
    LeaveKind,
    OptimiserRun,
    PersonalRule,
    PersonalRuleKind,
    Priority,
    RecurringAvailability,
    AvailabilityKind,
    RequestKind,
    RequirementKind,
    Roster,
    RosterAssignment,
    RosterKind,
    RosterPeriod,
    RunStatus,
    ShiftRequest,
    WardRules,
)
from portal.services import notify, record_audit

# A change to a roster: (staff_id, day, shift_type_id) or shift_type_id None to make the day off.
Change = tuple[int, date, int | None]

DEFAULT_WEIGHTS: dict[str, int] = {
    "request_normal": 100,
    "request_high": 300,
    "cover_under": 400,
    "cover_over": 20,
    "complete_weekends": 50,
    "fairness_nights": 1,
    "fairness_weekends": 1,
    "fairness_unpopular": 1,
    "personal_rule": 60,
    "minimal_change": 1000,
    # Extra weight per request not granted in earlier periods, so that the same people do not always lose.
    "request_catch_up": 10,
}
WEIGHT_LABELS: dict[str, str] = {
    "request_normal": "Request (normal priority)",
    "request_high": "Request (high priority)",
    "cover_under": "Each person below the ideal cover",
    "cover_over": "Each person above the ideal cover",
    "complete_weekends": "Working only one day of a weekend",
    "fairness_nights": "Spread of nights between people",
    "fairness_weekends": "Spread of weekends between people",
    "fairness_unpopular": "Spread of long days between people",
    "personal_rule": "Breaking a nurse's personal limit",
    "minimal_change": "Each change to the published roster (sick-call repair)",
    "request_catch_up": "Extra weight per request refused in earlier periods",
}
RULE_LABELS: dict[str, str] = {
    "cover_under": "Cover below ideal",
    "cover_over": "Cover above ideal",
    "shift_on_request": "Wanted shifts not given",
    "shift_off_request": "Days or shifts off not given",
    "complete_weekends": "Split weekends",
    "fairness": "Unfair spread (nights, weekends, long days)",
    "personal_rule": "Personal limits exceeded",
    "minimal_change": "Changes to the published roster",
}
FULL_TIME_MINUTES = 2250
HISTORY_DAYS = 7
GRADE_SKILL_PREFIX = "grade:"
# A nurse's own limits (stored rows) and the solver's soft personal rules they become.
_PERSONAL_KINDS = {
    PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS: solver.PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS,
    PersonalRuleKind.MAX_CONSECUTIVE_DAYS: solver.PersonalRuleKind.MAX_CONSECUTIVE_DAYS,
    PersonalRuleKind.MAX_WEEKENDS: solver.PersonalRuleKind.MAX_WEEKENDS,
}
# A queued or running optimisation older than its time limit plus this is treated as abandoned
# (for example the worker was killed), so that the period can be optimised again.
ABANDONED_AFTER = timedelta(minutes=5)


class SchedulingError(Exception):
    """A refusal with plain-language reasons fit to show the person using the page."""

    def __init__(self, reasons: str | Sequence[str]):
        self.reasons: list[str] = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__(" ".join(self.reasons))


# --- small look-ups ---------------------------------------------------------------------

def ward_rules(ward: Ward) -> WardRules:
    """Return the ward's rules, creating them with the defaults the first time (flushes)."""
    rules = db.session.scalar(select(WardRules).where(WardRules.ward_id == ward.id))
    if rules is None:
        rules = WardRules(ward_id=ward.id, forbidden_sequences=[], weights={})
        db.session.add(rules)
        db.session.flush()
    return rules


def current_published_roster(period: RosterPeriod) -> Roster | None:
    """Return the period's newest published version (highest number), or None."""
    return db.session.scalar(
        select(Roster)
        .where(Roster.period_id == period.id, Roster.kind == RosterKind.PUBLISHED)
        .order_by(Roster.number.desc())
        .limit(1)
    )


def draft_roster(period: RosterPeriod) -> Roster | None:
    """Return the period's working draft, if it has one."""
    return db.session.scalar(select(Roster).where(Roster.draft_period_id == period.id))


def published_versions(period: RosterPeriod) -> list[Roster]:
    return list(db.session.scalars(
        select(Roster).where(Roster.period_id == period.id, Roster.kind == RosterKind.PUBLISHED)
        .order_by(Roster.number.desc())
    ))


def weights_of(rules: WardRules) -> dict[str, int]:
    return {**DEFAULT_WEIGHTS, **{k: int(v) for k, v in (rules.weights or {}).items() if k in DEFAULT_WEIGHTS}}


def day_type_of(day: date, holidays: set[date]) -> DayType:
    if day in holidays:
        return DayType.BANK_HOLIDAY
    return DayType.WEEKEND if day.weekday() >= 5 else DayType.WEEKDAY


def period_days(period: RosterPeriod) -> list[date]:
    return [period.start_date + timedelta(days=i) for i in range(period.days)]


def check_version(obj: Any, submitted: str | int | None) -> None:
    """Refuse an edit made on a stale copy of ``obj``."""
    if submitted in (None, ""):
        return
    if int(submitted) != obj.version:
        raise SchedulingError(
            "Someone else changed this after you opened the page. Nothing was saved; "
            "the page now shows the latest version."
        )


# --- the adapter: rows -> solver.Problem ------------------------------------------------

@dataclass
class Snapshot:
    """Every row the solver needs for one period, loaded in a fixed number of queries."""

    period: RosterPeriod
    rules: WardRules
    shift_types: list[ShiftType]
    staff: list[StaffMember]
    memberships: dict[int, list[WardMembership]]
    leave: dict[int, list[Leave]]
    availability: dict[int, list[RecurringAvailability]]
    personal_rules: dict[int, list[PersonalRule]]
    requests: list[ShiftRequest]
    cover: list[CoverRequirement]
    holidays: set[date]
    grades: dict[int, Grade]
    skills: dict[int, Skill]
    ledgers: dict[int, dict[str, int]]
    history: dict[int, list[int | None]]  # staff id -> shift type ids of the days before the period


def load_snapshot(period: RosterPeriod, extra_staff_ids: Iterable[int] = ()) -> Snapshot:
    """Read the period's ward rules, staff, leave, requests, cover and history."""
    ward_id = period.ward_id
    start, end = period.start_date, period.end_date
    rules = ward_rules(period.ward)
    shift_types = list(db.session.scalars(
        select(ShiftType).where(ShiftType.ward_id == ward_id, ShiftType.is_active).order_by(ShiftType.start_time)
    ))
    memberships = list(db.session.scalars(
        select(WardMembership).where(
            WardMembership.ward_id == ward_id, WardMembership.start_date <= end,
            or_(WardMembership.end_date.is_(None), WardMembership.end_date >= start),
        )
    ))
    staff_ids = {m.staff_id for m in memberships} | set(extra_staff_ids)
    staff = list(db.session.scalars(
        select(StaffMember).where(StaffMember.id.in_(staff_ids), StaffMember.is_active)
        .options(selectinload(StaffMember.skills), selectinload(StaffMember.contracts))
        .order_by(StaffMember.full_name, StaffMember.id)
    )) if staff_ids else []
    ids = [s.id for s in staff]
    by_staff_membership: dict[int, list[WardMembership]] = defaultdict(list)
    for membership in memberships:
        by_staff_membership[membership.staff_id].append(membership)
    leave: dict[int, list[Leave]] = defaultdict(list)
    for item in db.session.scalars(select(Leave).where(
        Leave.staff_id.in_(ids), Leave.status == DecisionStatus.APPROVED,
        Leave.start_date <= end, Leave.end_date >= start,
    )):
        leave[item.staff_id].append(item)
    availability: dict[int, list[RecurringAvailability]] = defaultdict(list)
    for item in db.session.scalars(select(RecurringAvailability).where(
        RecurringAvailability.staff_id.in_(ids), RecurringAvailability.status == DecisionStatus.APPROVED,
        RecurringAvailability.valid_from <= end,
        or_(RecurringAvailability.valid_to.is_(None), RecurringAvailability.valid_to >= start),
    )):
        availability[item.staff_id].append(item)
    personal: dict[int, list[PersonalRule]] = defaultdict(list)
    for item in db.session.scalars(select(PersonalRule).where(PersonalRule.staff_id.in_(ids))):
        personal[item.staff_id].append(item)
    requests = list(db.session.scalars(
        select(ShiftRequest).where(ShiftRequest.period_id == period.id, ShiftRequest.withdrawn_at.is_(None))
        .order_by(ShiftRequest.created_at, ShiftRequest.id)
    ))
    cover = list(db.session.scalars(select(CoverRequirement).where(CoverRequirement.ward_id == ward_id)))
    organisation_id = db.session.scalar(select(Ward.organisation_id).where(Ward.id == ward_id))
    holidays = set(db.session.scalars(select(BankHoliday.day).where(
        BankHoliday.organisation_id == organisation_id, BankHoliday.day >= start, BankHoliday.day <= end)))
    grades = {g.id: g for g in db.session.scalars(select(Grade).where(Grade.organisation_id == organisation_id))}
    skills = {s.id: s for s in db.session.scalars(select(Skill).where(Skill.organisation_id == organisation_id))}
    ledgers: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    earlier = select(RosterPeriod.id).where(RosterPeriod.ward_id == ward_id, RosterPeriod.end_date < start)
    for row in db.session.scalars(select(FairnessLedger).where(
        FairnessLedger.period_id.in_(earlier), FairnessLedger.staff_id.in_(ids))):
        totals = ledgers[row.staff_id]
        totals["nights"] += row.nights
        totals["weekends"] += row.weekends
        totals["unpopular"] += row.unpopular_shifts
        totals["requests_made"] += row.requests_made
        totals["requests_granted"] += row.requests_granted
    history: dict[int, list[int | None]] = {}
    previous = db.session.scalar(select(RosterPeriod).where(
        RosterPeriod.ward_id == ward_id, RosterPeriod.end_date == start - timedelta(days=1)))
    if previous is not None:
        published = current_published_roster(previous)
        if published is not None:
            first = start - timedelta(days=HISTORY_DAYS)
            worked = {(a.staff_id, a.day): a.shift_type_id for a in db.session.execute(
                select(RosterAssignment.staff_id, RosterAssignment.day, RosterAssignment.shift_type_id)
                .where(RosterAssignment.roster_id == published.id, RosterAssignment.day >= first))}
            days = [first + timedelta(days=i) for i in range(HISTORY_DAYS)]
            for staff_id in ids:
                history[staff_id] = [worked.get((staff_id, d)) for d in days]
    return Snapshot(period, rules, shift_types, staff, by_staff_membership, leave, availability, personal,
                    requests, cover, holidays, grades, skills, ledgers, history)


@dataclass
class ProblemMapping:
    """Translates between rows and solver identifiers (staff ``str(id)``, shift codes, day indexes)."""

    start: date
    num_days: int
    staff: dict[str, StaffMember]
    shift_by_code: dict[str, ShiftType]
    code_by_shift_id: dict[int, str]
    skill_labels: dict[str, str] = field(default_factory=dict)
    # Who a cover row counts, by solver skill (None: everyone), e.g. "staff with IV drugs".
    cover_labels: dict[str | None, str] = field(default_factory=dict)

    def day_index(self, day: date) -> int:
        return (day - self.start).days

    def date_of(self, index: int) -> date:
        return self.start + timedelta(days=index)

    def to_solver(self, cells: dict[tuple[int, date], int]) -> solver.Roster:
        """Turn ``{(staff_id, day): shift_type_id}`` into a solver roster (unknown cells are dropped)."""
        items = []
        for (staff_id, day), shift_id in cells.items():
            index = self.day_index(day)
            code = self.code_by_shift_id.get(shift_id)
            if code is not None and str(staff_id) in self.staff and 0 <= index < self.num_days:
                items.append(solver.Assignment(str(staff_id), index, code))
        return solver.Roster(frozenset(items))

    def from_solver(self, roster: solver.Roster) -> dict[tuple[int, date], int]:
        """Turn a solver roster into ``{(staff_id, day): shift_type_id}``."""
        return {
            (int(a.staff_id), self.date_of(a.day)): self.shift_by_code[a.shift].id
            for a in roster.assignments
        }

    def plain(self, message: str) -> str:
        """Rewrite a solver message for people: no day indexes, hours not minutes, grades named."""
        text = re.sub(r" \(day -?\d+\)", "", message)
        text = re.sub(r"(\d+) paid minutes, at (least|most) (\d+) (required|allowed)",
                      lambda m: f"{duration_text(int(m.group(1)))} paid, at {m.group(2)} "
                                f"{duration_text(int(m.group(3)))} {m.group(4)} by the contract", text)
        text = re.sub(r"(\d+) paid minutes", lambda m: f"{duration_text(int(m.group(1)))} paid", text)
        for key, label in self.skill_labels.items():
            text = text.replace(f"'{key}'", label).replace(key, label)
        return text[:1].upper() + text[1:]

    def day_text(self, index: int) -> str:
        """A day index as people write it, e.g. ``Tue 3 Dec``."""
        return f"{self.date_of(index):%a %-d %b}"

    def shift_name(self, code: Any) -> str:
        """The shift's name for a solver code ("a shift" when unknown, e.g. before the period)."""
        shift = self.shift_by_code.get(code) if isinstance(code, str) else None
        return shift.name if shift is not None else "a shift"


def duration_text(minutes: int) -> str:
    """Minutes as hours and minutes, e.g. ``26 h 30 min``, ``8 h``, ``45 min``."""
    sign, minutes = ("-" if minutes < 0 else ""), abs(int(minutes))
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{sign}{hours} h {rest} min"
    return f"{sign}{hours} h" if hours or not rest else f"{sign}{rest} min"


@dataclass
class BuiltProblem:
    problem: solver.Problem
    mapping: ProblemMapping
    # Cover minimums nobody could meet (the problem carries them clipped to what is possible).
    impossible_cover: list[str]


def _grade_skill(grade: Grade) -> str:
    return f"{GRADE_SKILL_PREFIX}{grade.code}"


def _counts_as(staff_grade: Grade, required: Grade) -> bool:
    """A charge nurse counts as an RN; an HCA never counts as an RN."""
    return staff_grade.rank >= required.rank and staff_grade.is_registered == required.is_registered


def build_problem(
    snap: Snapshot,
    *,
    locked: dict[tuple[int, date], int] | None = None,
    reference: dict[tuple[int, date], int] | None = None,
    change_weight: int | None = None,
    frozen: dict[tuple[int, date], int | None] | None = None,
) -> BuiltProblem:
    """Translate a snapshot into a ``solver.Problem``.

    ``locked`` cells must be worked as given (draft locks); ``reference`` asks for as few
    changes as possible to that roster (sick-call repair); ``frozen`` fixes whole days of people
    (a shift, or None for off) — used to keep the past of a published roster as it was.
    Raises ``SchedulingError`` when the ward's set-up cannot be turned into a problem.
    """
    period, rules = snap.period, snap.rules
    weights = weights_of(rules)
    days = period_days(period)
    start = period.start_date
    shift_by_code = {s.code: s for s in snap.shift_types}
    code_by_id = {s.id: s.code for s in snap.shift_types}
    night_codes = {s.code for s in snap.shift_types if s.is_night}
    long_day_codes = {s.code for s in snap.shift_types if not s.is_night and s.paid_minutes >= 600}
    if not snap.shift_types:
        raise SchedulingError("This ward has no shift types in use. Add them under Admin → Shift types.")
    solver_shifts = tuple(
        solver.ShiftType(s.code, paid_minutes=s.paid_minutes, start=s.start_time, end=s.end_time,
                         name=s.name, is_night=s.is_night)
        for s in snap.shift_types
    )
    cover_grades = {c.grade_id for c in snap.cover if c.kind == RequirementKind.GRADE and c.grade_id}
    skill_labels = {
        _grade_skill(snap.grades[g]): f"{snap.grades[g].code}-grade or senior staff"
        for g in cover_grades if g in snap.grades
    }
    frozen = frozen or {}
    staff_items: list[solver.StaffMember] = []
    mapping_staff: dict[str, StaffMember] = {}
    weekday_leave: dict[int, int] = {}
    for person in snap.staff:
        key = str(person.id)
        unavailable: set[int] = set()
        unavailable_shifts: set[tuple[int, str]] = set()
        expected = 0.0
        on_leave_days = {d for item in snap.leave.get(person.id, []) for d in days if item.covers(d)}
        memberships = snap.memberships.get(person.id, [])
        for index, day in enumerate(days):
            contract = person.contract_on(day)
            member = any(m.is_current(day) for m in memberships) if memberships else False
            if contract is None or not member:
                unavailable.add(index)
                continue
            if day in on_leave_days:
                unavailable.add(index)
                continue
            expected += contract.minutes_per_week / 7
        # A weekday of leave counts as a fifth of the contracted week; weekend leave days
        # count as their seventh, as above.
        for day in on_leave_days:
            contract = person.contract_on(day)
            if contract is not None and day.weekday() < 5:
                expected -= contract.minutes_per_week / 5 - contract.minutes_per_week / 7
        expected = max(0.0, expected)
        tolerance = rules.contract_tolerance_minutes
        min_minutes = max(0, round(expected) - tolerance)
        max_minutes = round(expected) + tolerance
        contract = person.contract_on(start) or (person.contracts[-1] if person.contracts else None)
        max_shifts: dict[str, int] = {}
        if contract is not None and not contract.may_work_nights:
            max_shifts.update({code: 0 for code in night_codes})
        for item in snap.availability.get(person.id, []):
            for index, day in enumerate(days):
                ruled_out = {s.code for s in snap.shift_types if item.rules_out(day, s)}
                if item.kind == AvailabilityKind.NOT_WEEKDAY and ruled_out:
                    unavailable.add(index)  # the whole day
                else:
                    unavailable_shifts.update((index, code) for code in ruled_out)
        personal: list[solver.PersonalRule] = []
        for rule in snap.personal_rules.get(person.id, []):
            kind = _PERSONAL_KINDS.get(rule.kind)
            if kind is not None:
                personal.append(solver.PersonalRule(kind, rule.value, weights["personal_rule"]))
        skills = {s.code for s in person.skills if s.is_active}
        grade = snap.grades.get(person.grade_id)
        if grade is not None:
            for grade_id in cover_grades:
                required = snap.grades.get(grade_id)
                if required is not None and _counts_as(grade, required):
                    skills.add(_grade_skill(required))
        history = None
        if person.id in snap.history:
            history = solver.History(last_shifts=tuple(code_by_id.get(s) if s else None
                                                      for s in snap.history[person.id]))
        ledger = snap.ledgers.get(person.id, {})
        minutes_per_week = contract.minutes_per_week if contract else FULL_TIME_MINUTES
        # Frozen days (the past of a published roster) are exempt from availability: they happened.
        for (staff_id, day), _shift in frozen.items():
            if staff_id == person.id:
                index = (day - start).days
                unavailable.discard(index)
                unavailable_shifts = {p for p in unavailable_shifts if p[0] != index}
        staff_items.append(solver.StaffMember(
            key,
            name=person.display_name,
            skills=frozenset(skills),
            grade=grade.code if grade else "",
            min_minutes=min_minutes,
            max_minutes=max_minutes,
            max_shifts=max_shifts,
            unavailable_days=frozenset(unavailable),
            unavailable_shifts=frozenset(unavailable_shifts),
            history=history,
            fte_percent=max(1, round(minutes_per_week * 100 / FULL_TIME_MINUTES)),
            fairness_ledger={t: int(ledger.get(t, 0)) for t in ("nights", "weekends", "unpopular")},
            personal_rules=tuple(personal),
        ))
        mapping_staff[key] = person
        weekday_leave[person.id] = len(on_leave_days)
    mapping = ProblemMapping(start, len(days), mapping_staff, shift_by_code, code_by_id, skill_labels,
                             {None: "staff", **skill_labels})

    # Cover: one row per day, shift and kind; minimums nobody can meet are clipped and reported.
    by_id = {p.id: p for p in staff_items}
    impossible: list[str] = []
    cover_items: list[solver.CoverRequirement] = []
    for index, day in enumerate(days):
        kind_of_day = day_type_of(day, snap.holidays)
        for need in snap.cover:
            if need.day_type != kind_of_day or need.shift_type_id not in code_by_id:
                continue
            code = code_by_id[need.shift_type_id]
            if need.kind == RequirementKind.GRADE:
                grade = snap.grades.get(need.grade_id)
                if grade is None:
                    continue
                skill, who = _grade_skill(grade), skill_labels[_grade_skill(grade)]
            elif need.kind == RequirementKind.SKILL:
                found = snap.skills.get(need.skill_id)
                if found is None:
                    continue
                skill, who = found.code, f"staff with {found.name}"
                mapping.cover_labels[skill] = who
            else:
                skill, who = None, "staff"
            able = sum(
                1 for p in staff_items
                if (skill is None or skill in p.skills) and _can_work(p, index, code)
            )
            minimum = need.minimum
            if able < minimum:
                impossible.append(
                    f"{shift_by_code[code].name} on {day:%a %-d %b} needs at least {minimum} {who}, but only "
                    f"{able} can work it (leave, availability, contracts and night limits rule out the others)."
                )
                minimum = able
            if minimum == 0 and need.ideal == 0:
                continue
            if skill is not None and able == 0:
                continue  # the solver refuses cover for a skill nobody has; already reported above
            cover_items.append(solver.CoverRequirement(
                index, code, skill, minimum=minimum, ideal=max(need.ideal, minimum),
                under_weight=weights["cover_under"], over_weight=weights["cover_over"] if skill is None else 0,
            ))

    # Requests: at most the ward's quota of high-priority ones per person count as high.
    request_items: list[solver.Request] = []
    high_used: dict[int, int] = defaultdict(int)
    for request in snap.requests:
        key = str(request.staff_id)
        index = (request.day - start).days
        if key not in by_id or not 0 <= index < len(days):
            continue
        code = code_by_id.get(request.shift_type_id) if request.shift_type_id else None
        if request.shift_type_id and code is None:
            continue
        high = request.priority == Priority.HIGH and high_used[request.staff_id] < rules.high_priority_quota
        if high:
            high_used[request.staff_id] += 1
        weight = weights["request_high" if high else "request_normal"]
        ledger = snap.ledgers.get(request.staff_id, {})
        refused = ledger.get("requests_made", 0) - ledger.get("requests_granted", 0)
        weight += weights["request_catch_up"] * min(max(refused, 0), 10)
        if request.kind == RequestKind.WORK_SHIFT:
            request_items.append(solver.Request(key, index, code, weight, solver.RequestKind.ON))
        elif request.kind == RequestKind.DAY_OFF:
            request_items.append(solver.Request(key, index, None, weight, solver.RequestKind.OFF))
        else:
            request_items.append(solver.Request(key, index, code, weight, solver.RequestKind.OFF))

    locked_items = []
    for (staff_id, day), shift_id in {**(locked or {}), **{k: v for k, v in frozen.items() if v}}.items():
        index = (day - start).days
        if str(staff_id) in by_id and shift_id in code_by_id and 0 <= index < len(days):
            locked_items.append(solver.Assignment(str(staff_id), index, code_by_id[shift_id]))
    # Frozen days off: make the person unavailable that day.
    frozen_off = defaultdict(set)
    for (staff_id, day), shift_id in frozen.items():
        if shift_id is None and 0 <= (day - start).days < len(days):
            frozen_off[str(staff_id)].add((day - start).days)
    if frozen_off:
        staff_items = [
            _replace_staff(p, unavailable_days=p.unavailable_days | frozen_off[p.id]) if p.id in frozen_off else p
            for p in staff_items
        ]

    forbidden = []
    for pair in rules.forbidden_sequences or []:
        if len(pair) >= 2 and all(code in shift_by_code or code == solver.OFF for code in pair):
            forbidden.append(tuple(pair))
    solver_rules = solver.Rules(
        min_rest_hours=rules.min_rest_hours,
        forbidden_sequences=tuple(forbidden),
        max_consecutive_days=rules.max_consecutive_days,
        min_consecutive_days=rules.min_consecutive_days if rules.min_consecutive_days > 1 else None,
        max_consecutive_shifts={code: rules.max_consecutive_nights for code in night_codes},
        min_days_off_after_nights=rules.min_days_off_after_nights,
        min_consecutive_days_off=rules.min_consecutive_days_off if rules.min_consecutive_days_off > 1 else None,
        max_weekends=rules.max_weekends_per_period,
        complete_weekends_weight=weights["complete_weekends"] if rules.complete_weekends else 0,
    )
    fairness = solver.Fairness(
        nights_weight=weights["fairness_nights"],
        weekends_weight=weights["fairness_weekends"],
        unpopular_weight=weights["fairness_unpopular"] if long_day_codes else 0,
        unpopular_shifts=frozenset(long_day_codes),
    )
    holidays = frozenset((d - start).days for d in snap.holidays if start <= d <= period.end_date)
    try:
        problem = solver.Problem(
            horizon=solver.Horizon(start, len(days), holidays),
            shift_types=solver_shifts,
            staff=tuple(staff_items),
            cover=tuple(cover_items),
            rules=solver_rules,
            requests=tuple(request_items),
            locked=tuple(locked_items),
            fairness=fairness,
            reference=mapping.to_solver(reference) if reference is not None else None,
            change_weight=(change_weight if change_weight is not None else weights["minimal_change"])
            if reference is not None else 0,
            name=f"{period.ward_id}:{start.isoformat()}",
        )
    except solver.ProblemError as exc:
        raise SchedulingError(mapping.plain(f"The ward's set-up cannot be rostered: {exc}")) from exc
    return BuiltProblem(problem, mapping, impossible)


def _replace_staff(person: solver.StaffMember, **changes: Any) -> solver.StaffMember:
    from dataclasses import replace

    return replace(person, **changes)


def _can_work(person: solver.StaffMember, day: int, code: str) -> bool:
    return (
        day not in person.unavailable_days
        and (day, code) not in person.unavailable_shifts
        and person.max_shifts.get(code, 1) > 0
    )


def problem_for_period(period: RosterPeriod, **kwargs: Any) -> BuiltProblem:
    """Load the period's rows and build its problem (see ``build_problem`` for the options)."""
    return build_problem(load_snapshot(period), **kwargs)


# --- rows of rosters ----------------------------------------------------------------------

def roster_cells(roster: Roster | None) -> dict[tuple[int, date], int]:
    """Return ``{(staff_id, day): shift_type_id}`` of a roster in one query."""
    if roster is None:
        return {}
    rows = db.session.execute(
        select(RosterAssignment.staff_id, RosterAssignment.day, RosterAssignment.shift_type_id)
        .where(RosterAssignment.roster_id == roster.id)
    )
    return {(staff_id, day): shift_id for staff_id, day, shift_id in rows}


def locked_cells(roster: Roster | None) -> dict[tuple[int, date], int]:
    if roster is None:
        return {}
    rows = db.session.execute(
        select(RosterAssignment.staff_id, RosterAssignment.day, RosterAssignment.shift_type_id)
        .where(RosterAssignment.roster_id == roster.id, RosterAssignment.is_locked)
    )
    return {(staff_id, day): shift_id for staff_id, day, shift_id in rows}


def _apply(cells: dict[tuple[int, date], int], changes: Iterable[Change]) -> dict[tuple[int, date], int]:
    result = dict(cells)
    for staff_id, day, shift_id in changes:
        if shift_id is None:
            result.pop((staff_id, day), None)
        else:
            result[(staff_id, day)] = shift_id
    return result


# --- validation in plain words ------------------------------------------------------------

def roster_violations(built: BuiltProblem, cells: dict[tuple[int, date], int]) -> list[str]:
    """Every hard rule ``cells`` breaks, in plain words (impossible cover included)."""
    roster = built.mapping.to_solver(cells)
    check = solver.validate(built.problem, roster)
    return _unique(list(built.impossible_cover)
                   + [text for v in check.violations for text in violation_texts(built, roster, v)])


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


class _Reading:
    """What one person works, day by day, including the known history before the period."""

    def __init__(self, built: BuiltProblem, roster: solver.Roster, staff_id: str | None) -> None:
        problem = built.problem
        self.person = problem.staff_by_id.get(staff_id) if staff_id is not None else None
        self.roster, self.num_days = roster, problem.horizon.num_days
        known = self.person.history.known_days() if self.person and self.person.history else ()
        self.history = list(known)

    UNKNOWN = object()

    def state(self, day: int) -> Any:
        """The shift code worked on ``day`` (None: off; '?': worked, shift unknown; UNKNOWN)."""
        if 0 <= day < self.num_days:
            return self.roster.shift_of(self.person.id, day)
        if day < 0 and len(self.history) + day >= 0:
            return self.history[len(self.history) + day]
        return self.UNKNOWN

    def run(self, day: int, step: int, matches) -> int:
        """Length of the run of days matching ``matches`` from ``day`` in direction ``step``."""
        length = 0
        while (state := self.state(day)) is not self.UNKNOWN and matches(state):
            length += 1
            day += step
        return length

    def minutes(self, problem: solver.Problem) -> int:
        return sum(problem.shift_by_code[a.shift].paid_minutes for a in self.roster.assignments
                   if a.staff_id == self.person.id and a.shift in problem.shift_by_code)

    def weekends(self, problem: solver.Problem) -> int:
        return sum(any(self.roster.shift_of(self.person.id, d) is not None for d in group)
                   for group in problem.horizon.weekends)


def violation_texts(built: BuiltProblem, roster: solver.Roster, violation: solver.Violation) -> list[str]:
    """Word one violation of ``solver.validate`` for a ward manager: names, days, shift names, hours.

    The wording is built from the violation's rule, person and day and from the roster itself, not
    from the solver's own message (which counts minutes and day indexes); unknown kinds fall back to
    ``ProblemMapping.plain``.
    """
    problem, mapping = built.problem, built.mapping
    rule, day = violation.rule, violation.day
    reading = _Reading(built, roster, violation.staff_id)
    person = reading.person
    if rule == "cover_minimum" and day is not None:
        return _cover_texts(built, roster, day)
    if person is None or rule in ("unknown_staff", "unknown_shift", "unknown_day"):
        return [mapping.plain(violation.message)]
    who = person.label
    when = mapping.day_text(day) if day is not None else ""
    shift = mapping.shift_name(reading.state(day) if day is not None else None)
    if rule == "one_shift_per_day":
        return [f"{who} would have more than one shift on {when}."]
    if rule == "unavailable":
        if day in person.unavailable_days:
            return [f"{who} would work {shift} on {when} but is on leave or not available that day."]
        return [f"{who} would work {shift} on {when} but cannot work {shift} shifts that day "
                "(approved availability)."]
    if rule == "max_shifts":
        counts = defaultdict(int)
        for item in roster.assignments:
            if item.staff_id == person.id:
                counts[item.shift] += 1
        texts = []
        for code, limit in sorted(person.max_shifts.items()):
            if counts[code] > limit:
                name = mapping.shift_name(code)
                worked = f"{counts[code]} {name} shift{'s' if counts[code] != 1 else ''}"
                texts.append(f"{who} would work {worked} but may not work {name} shifts (contract or availability)."
                             if limit == 0 else f"{who} would work {worked}; at most {limit} allowed this period.")
        return texts or [mapping.plain(violation.message)]
    if rule in ("min_minutes", "max_minutes"):
        worked = duration_text(reading.minutes(problem))
        if rule == "min_minutes":
            return [f"{who} would work {worked}; their contract needs at least "
                    f"{duration_text(person.min_minutes)} this period (with tolerance)."]
        return [f"{who} would work {worked}; their contract allows at most "
                f"{duration_text(person.max_minutes or 0)} this period (with tolerance)."]
    if rule in ("min_rest", "forbidden_sequence") and day is not None:
        for sequence, reason in problem.forbidden_sequences:
            if (reason == "minimum rest") != (rule == "min_rest"):
                continue
            if all(_state_matches(reading.state(day + j), code) for j, code in enumerate(sequence)):
                steps = [f"{'a day off' if code == solver.OFF else mapping.shift_name(code)} on "
                         f"{mapping.day_text(day + j)}" for j, code in enumerate(sequence)]
                if rule == "min_rest":
                    return [f"{who} would not get the minimum rest of {problem.rules.min_rest_hours:g} hours between "
                            f"{steps[0]} and {steps[1]}."]
                return [f"{who} would work {' then '.join(steps)}, a sequence the ward's rules do not allow."]
        return [mapping.plain(violation.message)]
    if rule == "max_consecutive_days" and day is not None:
        length = reading.run(day, -1, lambda state: state is not None)
        return [f"{who} would work {length} days in a row up to {when}; at most "
                f"{problem.limit(person, rule)} allowed."]
    if rule == "max_consecutive_shifts" and day is not None:
        code = reading.state(day)
        length = reading.run(day, -1, lambda state: state == code)
        return [f"{who} would work {length} {shift} shifts in a row up to {when}; at most "
                f"{problem.rules.max_consecutive_shifts.get(code)} allowed."]
    if rule in ("min_consecutive_days", "min_consecutive_days_off") and day is not None:
        working = rule == "min_consecutive_days"
        length = reading.run(day, 1, lambda state: (state is not None) == working)
        noun = ("working day" if working else "day off") if length == 1 else ("working days" if working else "days off")
        first = mapping.day_text(max(day, 0))
        return [f"{who} would have only {length} {noun} in a row from {first}; at least "
                f"{problem.limit(person, rule)} needed."]
    if rule == "days_off_after_nights":
        rest = problem.rules.min_days_off_after_nights
        return [f"{who} would work {shift} on {when}, before the {rest} day{'s' if rest != 1 else ''} off "
                "needed after a run of nights."]
    if rule == "max_weekends":
        return [f"{who} would work {reading.weekends(problem)} weekends this period; at most "
                f"{problem.limit(person, rule)} allowed."]
    if rule == "locked" and day is not None:
        code = next((a.shift for a in problem.locked if a.staff_id == person.id and a.day == day), None)
        return [f"{who} must work {mapping.shift_name(code)} on {when} (locked)."]
    return [mapping.plain(violation.message)]


def _state_matches(state: Any, code: str) -> bool:
    return state is None if code == solver.OFF else state == code


def _cover_counts(problem: solver.Problem, roster: solver.Roster, day: int) -> dict[tuple[str, str | None], int]:
    counts: dict[tuple[str, str | None], int] = defaultdict(int)
    for item in roster.assignments:
        if item.day == day and item.staff_id in problem.staff_by_id:
            counts[item.shift, None] += 1
            for skill in problem.staff_by_id[item.staff_id].skills:
                counts[item.shift, skill] += 1
    return counts


def _cover_shortfalls(problem: solver.Problem, roster: solver.Roster, day: int):
    counts = _cover_counts(problem, roster, day)
    for need in problem.cover:
        if need.day == day and counts[need.shift, need.skill] < need.minimum:
            yield need, counts[need.shift, need.skill]


def _cover_texts(built: BuiltProblem, roster: solver.Roster, day: int) -> list[str]:
    mapping = built.mapping
    return [
        f"Only {have} {mapping.cover_labels.get(need.skill, need.skill)} on {mapping.shift_name(need.shift)}, "
        f"{mapping.day_text(day)}; at least {need.minimum} needed."
        for need, have in _cover_shortfalls(built.problem, roster, day)
    ]


def _severity(built: BuiltProblem, roster: solver.Roster, violation: solver.Violation) -> tuple[tuple, int]:
    """A key naming what a violation is about and how bad it is, to compare two rosters.

    Contract hours are judged by the distance outside the person's allowed band (contract ±
    tolerance), whichever side; counts (shifts of a type, weekends, cover shortfalls of a day) by
    how far beyond the limit they are. Every other violation is compared as it is.
    """
    problem = built.problem
    rule, staff_id = violation.rule, violation.staff_id
    person = problem.staff_by_id.get(staff_id) if staff_id is not None else None
    if person is not None and rule in ("min_minutes", "max_minutes"):
        minutes = _Reading(built, roster, staff_id).minutes(problem)
        ceiling = person.max_minutes if person.max_minutes is not None else minutes
        return ("contract_minutes", staff_id), max(person.min_minutes - minutes, minutes - ceiling, 0)
    if person is not None and rule == "max_shifts":
        counts: dict[str, int] = defaultdict(int)
        for item in roster.assignments:
            if item.staff_id == staff_id:
                counts[item.shift] += 1
        return (rule, staff_id), sum(max(0, counts[c] - limit) for c, limit in person.max_shifts.items())
    if person is not None and rule == "max_weekends":
        limit = problem.limit(person, rule) or 0
        return (rule, staff_id), max(0, _Reading(built, roster, staff_id).weekends(problem) - limit)
    if rule == "cover_minimum" and violation.day is not None:
        return (rule, violation.day), sum(need.minimum - have for need, have in
                                          _cover_shortfalls(problem, roster, violation.day))
    if rule == "unavailable":
        return (rule, staff_id, violation.day), 1
    return (rule, staff_id, violation.day, violation.message), 1


def changed_roster_violations(built: BuiltProblem, before: dict[tuple[int, date], int],
                              after: dict[tuple[int, date], int]) -> list[str]:
    """The hard rules ``after`` breaks that ``before`` did not, or breaks worse, in plain words.

    A person already outside their contract band who stays as far outside it (or moves towards
    it) is not a new problem; moving further outside it, or from inside to outside, is. Likewise a
    cover shortfall, too many shifts of a type or too many weekends only count when they grow.
    """
    mapping = built.mapping
    old_roster, new_roster = mapping.to_solver(before), mapping.to_solver(after)
    old: dict[tuple, int] = {}
    for violation in solver.validate(built.problem, old_roster).violations:
        key, amount = _severity(built, old_roster, violation)
        old[key] = max(amount, old.get(key, 0))
    reasons = []
    for violation in solver.validate(built.problem, new_roster).violations:
        key, amount = _severity(built, new_roster, violation)
        if key in old and amount <= old[key]:
            continue
        reasons.extend(violation_texts(built, new_roster, violation))
    return _unique(reasons)


def _check_changes(period: RosterPeriod, changes: Sequence[Change]) -> None:
    shift_ids = set(db.session.scalars(select(ShiftType.id).where(ShiftType.ward_id == period.ward_id)))
    for _staff_id, day, shift_id in changes:
        if not period.start_date <= day <= period.end_date:
            raise SchedulingError(f"{day:%-d %b %Y} is outside this roster period "
                                  f"({period.start_date:%-d %b} – {period.end_date:%-d %b %Y}).")
        if shift_id is not None and shift_id not in shift_ids:
            raise SchedulingError("That shift type does not belong to this ward.")


def check_roster_change(period: RosterPeriod, changes: list[Change], base: Roster | None = None) -> list[str]:
    """Apply ``changes`` to ``base`` (default: the current published roster) and return what breaks.

    ``changes`` are ``(staff_id, day, shift_type_id)`` with ``shift_type_id`` None to make the
    day off. The result lists, in plain words, the hard rules (rest, consecutive days, leave,
    cover minimums, contract hours, ...) that the changed roster breaks and the base roster did
    not already break, or breaks worse (see ``changed_roster_violations``: a nurse already outside
    their contract band is refused only a change that takes them further outside it); it is
    empty when the change is valid. The check uses ``solver.validate``, the same independent
    validator the optimiser's output is checked with.
    """
    if base is None:
        base = current_published_roster(period)
        if base is None:
            raise SchedulingError("No roster has been published for this period yet.")
    _check_changes(period, changes)
    cells = roster_cells(base)
    changed = _apply(cells, changes)
    built = build_problem(load_snapshot(period, {s for s, _d, _t in changes} | {s for s, _d in cells}))
    return changed_roster_violations(built, cells, changed)


# --- ward set-up ----------------------------------------------------------------------------

RULE_FIELDS = (
    "min_rest_hours", "max_consecutive_days", "min_consecutive_days", "max_consecutive_nights",
    "min_days_off_after_nights", "min_consecutive_days_off", "max_weekends_per_period", "complete_weekends",
    "contract_tolerance_minutes", "high_priority_quota", "swaps_need_approval", "optimiser_time_limit_s",
)


def save_rules(actor: User, ward: Ward, *, version: str | int | None, forbidden_sequences: list[list[str]],
               weights: dict[str, int], **values: Any) -> WardRules:
    """Save the ward's working rules and weights (refusing a stale form)."""
    rules = ward_rules(ward)
    check_version(rules, version)
    codes = {s.code for s in ward.shift_types}
    for pair in forbidden_sequences:
        unknown = [c for c in pair if c not in codes and c != solver.OFF]
        if unknown:
            raise SchedulingError(f"Unknown shift code {', '.join(unknown)} in the forbidden sequences.")
    if values.get("min_consecutive_days", 1) > values.get("max_consecutive_days", 99):
        raise SchedulingError("The minimum run of working days cannot exceed the maximum.")
    for name in RULE_FIELDS:
        if name in values:
            setattr(rules, name, values[name])
    rules.forbidden_sequences = [list(p) for p in forbidden_sequences]
    rules.weights = {k: int(v) for k, v in weights.items() if k in DEFAULT_WEIGHTS and int(v) != DEFAULT_WEIGHTS[k]}
    db.session.flush()
    record_audit(actor, "scheduling.rules_saved", rules, ward=ward.code,
                 **{name: values.get(name) for name in RULE_FIELDS if name in values})
    return rules


def parse_sequences(text: str) -> list[list[str]]:
    """Read forbidden sequences typed as ``N E, N L`` or one per line (``-`` is a day off)."""
    result = []
    for chunk in re.split(r"[,;\n]+", text or ""):
        codes = [c.strip().upper() for c in re.split(r"[\s>→]+", chunk) if c.strip()]
        if len(codes) == 1:
            raise SchedulingError(f"“{chunk.strip()}” needs two shift codes, e.g. “N E”.")
        if codes:
            result.append(codes)
    return result


def add_cover(actor: User, ward: Ward, *, shift_type_id: int, day_type: DayType, kind: RequirementKind,
              grade_id: int | None, skill_id: int | None, minimum: int, ideal: int) -> CoverRequirement:
    """Add (or replace) a cover row: head count for a shift type on a day type."""
    if ideal < minimum:
        raise SchedulingError("The ideal head count cannot be below the minimum.")
    shift = db.session.get(ShiftType, shift_type_id)
    if shift is None or shift.ward_id != ward.id:
        raise SchedulingError("Choose one of this ward's shift types.")
    if kind == RequirementKind.GRADE and grade_id is None:
        raise SchedulingError("Choose the grade this cover row counts.")
    if kind == RequirementKind.SKILL and skill_id is None:
        raise SchedulingError("Choose the skill this cover row counts.")
    grade_id = grade_id if kind == RequirementKind.GRADE else None
    skill_id = skill_id if kind == RequirementKind.SKILL else None
    row = db.session.scalar(select(CoverRequirement).where(
        CoverRequirement.ward_id == ward.id, CoverRequirement.shift_type_id == shift_type_id,
        CoverRequirement.day_type == day_type, CoverRequirement.kind == kind,
        CoverRequirement.grade_id.is_(None) if grade_id is None else CoverRequirement.grade_id == grade_id,
        CoverRequirement.skill_id.is_(None) if skill_id is None else CoverRequirement.skill_id == skill_id,
    ))
    if row is None:
        row = CoverRequirement(ward_id=ward.id, shift_type_id=shift_type_id, day_type=day_type, kind=kind,
                               grade_id=grade_id, skill_id=skill_id, minimum=minimum, ideal=ideal)
        db.session.add(row)
    row.minimum, row.ideal = minimum, ideal
    db.session.flush()
    record_audit(actor, "scheduling.cover_saved", row, ward=ward.code, shift=shift.code, day_type=day_type.value,
                 kind=kind.value, minimum=minimum, ideal=ideal)
    return row


def remove_cover(actor: User, row: CoverRequirement) -> None:
    record_audit(actor, "scheduling.cover_removed", row, shift_type_id=row.shift_type_id,
                 day_type=row.day_type.value, minimum=row.minimum, ideal=row.ideal)
    db.session.delete(row)
    db.session.flush()


def copy_cover(actor: User, ward: Ward, source: DayType, target: DayType) -> int:
    """Copy every cover row of one day type onto another (replacing what it had)."""
    if source == target:
        raise SchedulingError("Choose two different day types.")
    db.session.execute(delete(CoverRequirement).where(CoverRequirement.ward_id == ward.id,
                                                      CoverRequirement.day_type == target))
    rows = list(db.session.scalars(select(CoverRequirement).where(CoverRequirement.ward_id == ward.id,
                                                                   CoverRequirement.day_type == source)))
    for row in rows:
        db.session.add(CoverRequirement(ward_id=ward.id, shift_type_id=row.shift_type_id, day_type=target,
                                        kind=row.kind, grade_id=row.grade_id, skill_id=row.skill_id,
                                        minimum=row.minimum, ideal=row.ideal))
    db.session.flush()
    record_audit(actor, "scheduling.cover_copied", ward, source=source.value, target=target.value, rows=len(rows))
    return len(rows)


def cover_rows(ward: Ward) -> list[CoverRequirement]:
    return list(db.session.scalars(
        select(CoverRequirement).where(CoverRequirement.ward_id == ward.id)
        .options(selectinload(CoverRequirement.shift_type))
    ))


def describe_cover(row: CoverRequirement, grades: dict[int, Grade], skills: dict[int, Skill]) -> str:
    if row.kind == RequirementKind.GRADE and row.grade_id in grades:
        return f"{grades[row.grade_id].name} or senior"
    if row.kind == RequirementKind.SKILL and row.skill_id in skills:
        return f"with {skills[row.skill_id].name}"
    return "Everyone"


# --- periods ----------------------------------------------------------------------------------

def create_period(actor: User, ward: Ward, *, start_date: date, days: int, requests_open_on: date,
                  requests_close_on: date) -> RosterPeriod:
    """Add a roster period; periods of a ward may not overlap."""
    end_date = start_date + timedelta(days=days - 1)
    if requests_close_on > start_date:
        raise SchedulingError("Requests must close on or before the first day of the period.")
    if requests_open_on > requests_close_on:
        raise SchedulingError("The request window must open before it closes.")
    clash = db.session.scalar(select(RosterPeriod).where(
        RosterPeriod.ward_id == ward.id, RosterPeriod.start_date <= end_date, RosterPeriod.end_date >= start_date))
    if clash is not None:
        raise SchedulingError(f"It overlaps the period {clash.start_date:%-d %b} – {clash.end_date:%-d %b %Y}.")
    period = RosterPeriod(ward_id=ward.id, start_date=start_date, end_date=end_date,
                          requests_open_on=requests_open_on, requests_close_on=requests_close_on)
    db.session.add(period)
    db.session.flush()
    record_audit(actor, "scheduling.period_created", period, ward=ward.code, start=start_date, end=end_date)
    return period


def update_request_window(actor: User, period: RosterPeriod, *, version: str | int | None,
                          requests_open_on: date, requests_close_on: date) -> RosterPeriod:
    check_version(period, version)
    if requests_close_on > period.start_date:
        raise SchedulingError("Requests must close on or before the first day of the period.")
    if requests_open_on > requests_close_on:
        raise SchedulingError("The request window must open before it closes.")
    period.requests_open_on, period.requests_close_on = requests_open_on, requests_close_on
    db.session.flush()
    record_audit(actor, "scheduling.request_window_changed", period, opens=requests_open_on,
                 closes=requests_close_on)
    return period


def suggest_next_period(ward: Ward, today: date) -> tuple[date, date, date]:
    """Start (a Monday after the ward's last period), request opening and closing dates."""
    last = db.session.scalar(select(func.max(RosterPeriod.end_date)).where(RosterPeriod.ward_id == ward.id))
    start = last + timedelta(days=1) if last else today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return start, min(today, start - timedelta(days=14)), start - timedelta(days=14)


def ward_periods(ward: Ward) -> list[RosterPeriod]:
    return list(db.session.scalars(
        select(RosterPeriod).where(RosterPeriod.ward_id == ward.id).order_by(RosterPeriod.start_date.desc())
    ))


def period_status(period: RosterPeriod, today: date) -> str:
    if period.accepts_requests_on(today):
        return "Taking requests"
    if today < period.requests_open_on:
        return "Requests not open yet"
    if today > period.end_date:
        return "Finished"
    return "Requests closed"


# --- optimiser runs -----------------------------------------------------------------------

def active_run(period: RosterPeriod) -> OptimiserRun | None:
    return db.session.scalar(select(OptimiserRun).where(OptimiserRun.active_period_id == period.id))


def latest_run(period: RosterPeriod) -> OptimiserRun | None:
    return db.session.scalar(select(OptimiserRun).where(OptimiserRun.period_id == period.id)
                             .order_by(OptimiserRun.id.desc()).limit(1))


def _release_abandoned(period: RosterPeriod) -> None:
    run = active_run(period)
    if run is None:
        return
    since = run.started_at or run.created_at
    if utcnow() - since > timedelta(seconds=run.time_limit_s) + ABANDONED_AFTER:
        run.status = RunStatus.FAILED
        run.active_period_id = None
        run.finished_at = utcnow()
        run.message = "The optimiser stopped without finishing (the worker may have been restarted). Run it again."
        db.session.flush()


def start_optimisation(period: RosterPeriod, actor: User, *, time_limit_s: int | None = None,
                       purpose: str = "optimise", reference: Roster | None = None,
                       frozen_before: date | None = None) -> OptimiserRun:
    """Create a queued run of the period (the view enqueues ``tasks.run_optimiser`` after committing).

    Refuses a second run while one is queued or running for the period: the unique
    ``active_period_id`` makes the database itself refuse it when two managers click at once.
    """
    rules = ward_rules(period.ward)
    limit = int(time_limit_s or rules.optimiser_time_limit_s or 60)
    limit = max(1, min(limit, 3600))
    _release_abandoned(period)
    running = active_run(period)
    if running is not None:
        raise SchedulingError(_already_running(running))
    run = OptimiserRun(period_id=period.id, active_period_id=period.id, requested_by_id=actor.id if actor else None,
                       status=RunStatus.QUEUED, time_limit_s=limit, progress=[], breakdown={}, explanations=[],
                       purpose=purpose, reference_roster_id=reference.id if reference else None,
                       frozen_before=frozen_before)
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError:
        # Another manager started one at the same moment; the caller rolls back.
        raise SchedulingError(_already_running(None)) from None
    record_audit(actor, "scheduling.optimiser_started", run, period=period.id, time_limit_s=limit, purpose=purpose)
    return run


def _already_running(run: OptimiserRun | None) -> str:
    who = run.requested_by.display_name if run is not None and run.requested_by else "someone else"
    return (f"The optimiser is already running for this period (started by {who}). "
            "Wait for it to finish or stop it on its progress page, then start again.")


def request_stop(run: OptimiserRun, actor: User) -> None:
    """Ask a queued or running optimisation to stop early (it keeps the best roster found)."""
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        raise SchedulingError("This run has already finished.")
    run.stop_requested = True
    if run.status == RunStatus.QUEUED:
        run.status = RunStatus.CANCELLED
        run.active_period_id = None
        run.finished_at = utcnow()
        run.message = "Stopped before it started."
    db.session.flush()
    record_audit(actor, "scheduling.optimiser_stopped", run)


def run_is_active(run: OptimiserRun) -> bool:
    return run.status in (RunStatus.QUEUED, RunStatus.RUNNING)


def ensure_draft(period: RosterPeriod, actor: User | None) -> Roster:
    """Return the period's draft, creating an empty one (based on the current version) if needed."""
    draft = draft_roster(period)
    if draft is None:
        current = current_published_roster(period)
        draft = Roster(period_id=period.id, kind=RosterKind.DRAFT, draft_period_id=period.id,
                       created_by_id=actor.id if actor else None, based_on_id=current.id if current else None)
        db.session.add(draft)
        db.session.flush()
        if current is not None:
            _copy_cells(draft, roster_cells(current))
    return draft


def _copy_cells(roster: Roster, cells: dict[tuple[int, date], int], locked: Iterable[tuple[int, date]] = ()) -> None:
    locked = set(locked)
    db.session.add_all([
        RosterAssignment(roster_id=roster.id, staff_id=staff_id, day=day, shift_type_id=shift_id,
                         is_locked=(staff_id, day) in locked)
        for (staff_id, day), shift_id in sorted(cells.items())
    ])
    db.session.flush()


def write_draft(period: RosterPeriod, cells: dict[tuple[int, date], int], *, run: OptimiserRun | None,
                based_on: Roster | None, actor: User | None = None) -> Roster:
    """Replace the draft's cells with ``cells``, keeping the locked flags of cells it keeps."""
    draft = ensure_draft(period, actor)
    locks = set(locked_cells(draft))
    db.session.execute(delete(RosterAssignment).where(RosterAssignment.roster_id == draft.id))
    db.session.expire(draft, ["assignments"])
    _copy_cells(draft, cells, {k for k in locks if k in cells})
    draft.source_run_id = run.id if run else None
    draft.based_on_id = based_on.id if based_on else None
    draft.note = "Written by the optimiser" if run else draft.note
    db.session.flush()
    return draft


def explanation_rows(mapping: ProblemMapping, explanations: Iterable[solver.Explanation]) -> list[dict[str, Any]]:
    rows = []
    for item in explanations:
        person = mapping.staff.get(item.staff_id) if item.staff_id else None
        rows.append({
            "message": mapping.plain(item.message),
            "staff_id": person.id if person else None,
            "day": mapping.date_of(item.day).isoformat() if item.day is not None else None,
            "rules": [RULE_LABELS.get(r, r.replace("_", " ")) for r in item.rules],
        })
    return rows


def breakdown_rows(penalties: Iterable[solver.PenaltyItem], mapping: ProblemMapping) -> dict[str, Any]:
    by_rule: dict[str, int] = defaultdict(int)
    by_staff: dict[str, int] = defaultdict(int)
    for item in penalties:
        by_rule[item.rule] += item.cost
        if item.staff_id is not None and item.staff_id in mapping.staff:
            by_staff[item.staff_id] += item.cost
    return {"by_rule": dict(by_rule), "by_staff": dict(by_staff)}


# --- draft review and edits --------------------------------------------------------------

@dataclass
class GridRow:
    staff: StaffMember
    cells: list[tuple[date, ShiftType | None, bool]]
    worked_minutes: int
    contract_minutes: int
    nights: int
    weekends: int
    requests_made: int
    requests_granted: int


@dataclass
class CoverCell:
    have: int
    minimum: int
    ideal: int

    @property
    def is_short(self) -> bool:
        return self.have < self.minimum

    @property
    def is_below_ideal(self) -> bool:
        return self.minimum <= self.have < self.ideal


@dataclass
class Grid:
    period: RosterPeriod
    days: list[date]
    holidays: set[date]
    shift_types: list[ShiftType]
    rows: list[GridRow]
    cover: dict[int, list[CoverCell]]  # shift type id -> a cell per day (head count of everyone)
    shortfalls: int


def roster_grid(period: RosterPeriod, roster: Roster | None, *, with_requests: bool = True) -> Grid:
    """Everything the staff × day grid shows, in a number of queries that does not grow with staff."""
    days = period_days(period)
    start, end = period.start_date, period.end_date
    shift_types = list(db.session.scalars(
        select(ShiftType).where(ShiftType.ward_id == period.ward_id).order_by(ShiftType.start_time)))
    by_id = {s.id: s for s in shift_types}
    cells: dict[tuple[int, date], tuple[int, bool]] = {}
    if roster is not None:
        for staff_id, day, shift_id, is_locked in db.session.execute(
            select(RosterAssignment.staff_id, RosterAssignment.day, RosterAssignment.shift_type_id,
                   RosterAssignment.is_locked).where(RosterAssignment.roster_id == roster.id)):
            cells[(staff_id, day)] = (shift_id, is_locked)
    member_ids = select(WardMembership.staff_id).where(
        WardMembership.ward_id == period.ward_id, WardMembership.start_date <= end,
        or_(WardMembership.end_date.is_(None), WardMembership.end_date >= start))
    staff_ids = {s for s, _d in cells}
    staff = list(db.session.scalars(
        select(StaffMember).where(or_(StaffMember.id.in_(member_ids), StaffMember.id.in_(staff_ids)))
        .options(selectinload(StaffMember.contracts), selectinload(StaffMember.grade))
        .order_by(StaffMember.full_name, StaffMember.id)))
    organisation_id = period.ward.organisation_id
    holidays = set(db.session.scalars(select(BankHoliday.day).where(
        BankHoliday.organisation_id == organisation_id, BankHoliday.day >= start, BankHoliday.day <= end)))
    requests: dict[int, list[ShiftRequest]] = defaultdict(list)
    if with_requests:
        for item in db.session.scalars(select(ShiftRequest).where(
                ShiftRequest.period_id == period.id, ShiftRequest.withdrawn_at.is_(None))):
            requests[item.staff_id].append(item)
    rows = []
    weekends = _weekend_groups(days)
    # Plain values up front: this loop runs staff × days times and ORM attribute access is slow.
    minutes_of = {s.id: s.paid_minutes for s in shift_types}
    night_ids = {s.id for s in shift_types if s.is_night}
    for person in staff:
        row_cells, worked, nights = [], 0, 0
        pid = person.id
        for day in days:
            shift_id, is_locked = cells.get((pid, day), (None, False))
            if shift_id is None:
                row_cells.append((day, None, False))
                continue
            row_cells.append((day, by_id.get(shift_id), is_locked))
            worked += minutes_of.get(shift_id, 0)
            nights += shift_id in night_ids
        contract_minutes = _contract_minutes(person, start, end)
        worked_weekends = sum(any((pid, d) in cells for d in group) for group in weekends)
        made = requests.get(pid, [])
        granted = sum(1 for r in made if _request_granted(r, cells.get((pid, r.day), (None, False))[0]))
        rows.append(GridRow(person, row_cells, worked, round(contract_minutes), nights, worked_weekends,
                            len(made), granted))
    cover_need = _cover_by_day(period, days, holidays, shift_types)
    counts: dict[tuple[int, date], int] = defaultdict(int)
    for (_staff, day), (shift_id, _locked) in cells.items():
        counts[(shift_id, day)] += 1
    cover: dict[int, list[CoverCell]] = {}
    shortfalls = 0
    for shift in shift_types:
        line = []
        for day in days:
            minimum, ideal = cover_need.get((shift.id, day), (0, 0))
            cell = CoverCell(counts[(shift.id, day)], minimum, ideal)
            shortfalls += cell.is_short
            line.append(cell)
        cover[shift.id] = line
    return Grid(period, days, holidays, shift_types, rows, cover, shortfalls)


def _contract_minutes(person: StaffMember, start: date, end: date) -> float:
    """Contracted minutes between two dates (a week's minutes spread over its seven days)."""
    total = 0.0
    for contract in person.contracts:
        first = max(start, contract.start_date)
        last = min(end, contract.end_date) if contract.end_date else end
        if last >= first:
            total += ((last - first).days + 1) * contract.minutes_per_week / 7
    return total


def _cover_by_day(period: RosterPeriod, days: list[date], holidays: set[date],
                  shift_types: list[ShiftType]) -> dict[tuple[int, date], tuple[int, int]]:
    totals = list(db.session.scalars(select(CoverRequirement).where(
        CoverRequirement.ward_id == period.ward_id, CoverRequirement.kind == RequirementKind.TOTAL)))
    need: dict[tuple[int, date], tuple[int, int]] = {}
    for day in days:
        kind = day_type_of(day, holidays)
        for row in totals:
            if row.day_type == kind:
                need[(row.shift_type_id, day)] = (row.minimum, row.ideal)
    return need


def _weekend_groups(days: list[date]) -> list[list[date]]:
    groups: dict[date, list[date]] = {}
    for day in days:
        if day.weekday() >= 5:
            groups.setdefault(day - timedelta(days=day.weekday() - 5), []).append(day)
    return list(groups.values())


def _request_granted(request: ShiftRequest, shift_id: int | None) -> bool:
    if request.kind == RequestKind.WORK_SHIFT:
        return shift_id is not None and (request.shift_type_id is None or shift_id == request.shift_type_id)
    if request.kind == RequestKind.DAY_OFF:
        return shift_id is None
    return shift_id != request.shift_type_id


def draft_score(period: RosterPeriod, draft: Roster) -> tuple[list[str], dict[str, int], int]:
    """Validate the draft now: hard-rule problems, the score by rule and the total."""
    built = problem_for_period(period)
    cells = roster_cells(draft)
    roster = built.mapping.to_solver(cells)
    check = solver.validate(built.problem, roster)
    problems = _unique(list(built.impossible_cover)
                       + [text for v in check.violations for text in violation_texts(built, roster, v)])
    return problems, check.by_rule(), check.objective


def edit_draft(period: RosterPeriod, actor: User, *, staff_id: int, day: date, shift_type_id: int | None,
               is_locked: bool, version: str | int | None, force: bool = False) -> list[str]:
    """Change one cell of the draft and (un)lock it; refuse it when it breaks a hard rule.

    Returns the rules the change breaks when ``force`` is set (the change is then kept and the
    draft cannot be published until they are fixed); raises ``SchedulingError`` with them otherwise.
    """
    draft = ensure_draft(period, actor)
    check_version(draft, version)
    if is_locked and shift_type_id is None:
        raise SchedulingError("Only a shift can be locked; a day off cannot.")
    reasons = check_roster_change(period, [(staff_id, day, shift_type_id)], base=draft)
    if reasons and not force:
        raise SchedulingError(reasons)
    row = db.session.scalar(select(RosterAssignment).where(
        RosterAssignment.roster_id == draft.id, RosterAssignment.staff_id == staff_id, RosterAssignment.day == day))
    before = row.shift_type_id if row else None
    if shift_type_id is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(RosterAssignment(roster_id=draft.id, staff_id=staff_id, day=day,
                                        shift_type_id=shift_type_id, is_locked=is_locked))
    else:
        row.shift_type_id, row.is_locked = shift_type_id, is_locked
    draft.note = f"Edited by {actor.display_name}"
    draft.created_by_id = actor.id
    db.session.flush()
    record_audit(actor, "scheduling.draft_edited", draft, staff_id=staff_id, day=day, before=before,
                 after=shift_type_id, locked=is_locked, broken_rules=reasons)
    return reasons


def reset_draft(period: RosterPeriod, actor: User, *, version: str | int | None) -> Roster:
    """Make the draft a copy of the current published version (dropping unpublished edits)."""
    current = current_published_roster(period)
    if current is None:
        raise SchedulingError("Nothing has been published for this period yet.")
    draft = ensure_draft(period, actor)
    check_version(draft, version)
    draft = write_draft(period, roster_cells(current), run=None, based_on=current, actor=actor)
    db.session.execute(RosterAssignment.__table__.update().where(RosterAssignment.roster_id == draft.id)
                       .values(is_locked=False))
    draft.note = f"Copied from version {current.number}"
    db.session.flush()
    record_audit(actor, "scheduling.draft_reset", draft, from_version=current.number)
    return draft


# --- publishing ----------------------------------------------------------------------------

CONFLICT = ("Someone else published this roster at the same moment. Their version stands and nothing of "
            "yours was saved; look at the latest version and publish again if something is still needed.")


def publish_draft(period: RosterPeriod, actor: User, *, version: str | int | None, note: str = "") -> Roster:
    """Publish the draft as the next immutable numbered version, notify staff and audit it.

    ``version`` is the draft version the manager reviewed: a stale one (someone edited or
    published meanwhile) is refused. The draft must break no hard rule and must be based on the
    current published version (so that a swap published meanwhile is not silently undone).
    """
    draft = draft_roster(period)
    if draft is None:
        raise SchedulingError("There is no draft to publish yet. Optimise the period first.")
    check_version(draft, version)
    current = current_published_roster(period)
    if (current.id if current else None) != draft.based_on_id and current is not None:
        raise SchedulingError(
            f"Version {current.number} was published after this draft was made, so publishing it would undo "
            "those changes. Copy the current version into the draft (or optimise again), then publish.")
    cells = roster_cells(draft)
    if not cells:
        raise SchedulingError("The draft is empty.")
    built = problem_for_period(period)
    reasons = roster_violations(built, cells)
    if reasons:
        raise SchedulingError(reasons)
    new = _publish(period, actor, cells, base=current, note=note or "Published from the draft", draft=draft)
    _notify_published(period, new, roster_cells(current) if current else None, cells)
    return new


def publish_changes(period: RosterPeriod, actor: User, changes: list[Change], note: str, *,
                    base_roster_id: int | None = None) -> Roster:
    """Publish a new version: the current published roster with ``changes`` applied.

    Validates the changes with ``check_roster_change`` and raises ``SchedulingError`` with the
    reasons when they break a hard rule. When ``base_roster_id`` is given and is no longer the
    current version (someone published meanwhile) the call is refused as stale. The new version
    is derived from the current one (``based_on_id``), numbered one higher, audited, and every
    nurse whose shifts changed is notified. Flushes; the caller commits.
    """
    current = current_published_roster(period)
    if current is None:
        raise SchedulingError("No roster has been published for this period yet.")
    if base_roster_id is not None and base_roster_id != current.id:
        raise SchedulingError(
            f"The roster changed after you opened this page (version {current.number} is now published). "
            "Nothing was changed; look at the new version and try again.")
    reasons = check_roster_change(period, changes, base=current)
    if reasons:
        raise SchedulingError(reasons)
    before = roster_cells(current)
    after = _apply(before, changes)
    new = _publish(period, actor, after, base=current, note=note, changes=changes)
    _notify_published(period, new, before, after)
    return new


def _publish(period: RosterPeriod, actor: User | None, cells: dict[tuple[int, date], int], *, base: Roster | None,
             note: str, draft: Roster | None = None, changes: Sequence[Change] = ()) -> Roster:
    number = (base.number if base else 0) + 1
    new = Roster(period_id=period.id, kind=RosterKind.PUBLISHED, number=number, based_on_id=base.id if base else None,
                 created_by_id=actor.id if actor else None, note=(note or "")[:300],
                 source_run_id=draft.source_run_id if draft else None)
    # No savepoint here: on SQLite, pysqlite would commit a savepoint that opens the transaction.
    # On a conflict the session must be rolled back, which every caller does on SchedulingError.
    try:
        if draft is not None:
            # Bumps the draft's version: a second publisher holding the same version fails here.
            draft.note = f"Published as version {number}"
            db.session.flush()
        db.session.add(new)
        db.session.flush()
    except (IntegrityError, StaleDataError, OperationalError) as exc:
        if isinstance(exc, OperationalError) and "lock" not in str(exc).lower():
            raise
        raise SchedulingError(CONFLICT) from None
    _copy_cells(new, cells)
    if draft is not None:
        draft.based_on_id = new.id
    _update_ledger(period, cells)
    db.session.flush()
    record_audit(actor, "scheduling.roster_published", new, period=period.id, number=number,
                 based_on=base.number if base else None, note=note,
                 changes=[[s, d, t] for s, d, t in changes])
    return new


def _notify_published(period: RosterPeriod, new: Roster, before: dict | None, after: dict) -> None:
    staff_ids = {s for s, _d in after} if before is None else {
        s for s, _d in set(before) | set(after) if before.get((s, _d)) != after.get((s, _d))}
    if not staff_ids:
        return
    users = db.session.scalars(select(User).join(StaffMember, StaffMember.user_id == User.id)
                               .where(StaffMember.id.in_(staff_ids)))
    span = f"{period.start_date:%-d %b} – {period.end_date:%-d %b %Y}"
    link = _link("scheduling.my_roster")
    for user in users:
        if before is None:
            notify(user, "roster_published", f"The roster for {span} is published. See your shifts.", link)
        else:
            notify(user, "roster_changed", f"Your shifts for {span} changed in roster version {new.number}.", link)


def _link(endpoint: str, **values: Any) -> str:
    from flask import url_for

    try:
        return url_for(endpoint, **values)
    except Exception:  # no such page yet, or no request to build an address from
        return ""


def _update_ledger(period: RosterPeriod, cells: dict[tuple[int, date], int]) -> None:
    """Record what each nurse carries out of the period, for fairness in later periods."""
    snap_shifts = {s.id: s for s in db.session.scalars(select(ShiftType).where(ShiftType.ward_id == period.ward_id))}
    days = period_days(period)
    weekends = _weekend_groups(days)
    requests: dict[int, list[ShiftRequest]] = defaultdict(list)
    for item in db.session.scalars(select(ShiftRequest).where(ShiftRequest.period_id == period.id,
                                                              ShiftRequest.withdrawn_at.is_(None))):
        requests[item.staff_id].append(item)
    existing = {row.staff_id: row for row in db.session.scalars(
        select(FairnessLedger).where(FairnessLedger.period_id == period.id))}
    staff_ids = {s for s, _d in cells} | set(requests) | set(existing)
    contracts = {s.id: s for s in db.session.scalars(select(StaffMember).where(StaffMember.id.in_(staff_ids))
                                                      .options(selectinload(StaffMember.contracts)))}
    for staff_id in staff_ids:
        row = existing.get(staff_id) or FairnessLedger(period_id=period.id, staff_id=staff_id)
        mine = {d: snap_shifts[t] for (s, d), t in cells.items() if s == staff_id and t in snap_shifts}
        row.worked_minutes = sum(s.paid_minutes for s in mine.values())
        person = contracts.get(staff_id)
        row.contract_minutes = round(sum(
            (c.minutes_per_week / 7) for d in days if person and (c := person.contract_on(d)) is not None))
        row.nights = sum(1 for s in mine.values() if s.is_night)
        row.weekends = sum(any(d in mine for d in group) for group in weekends)
        row.unpopular_shifts = sum(1 for s in mine.values() if not s.is_night and s.paid_minutes >= 600)
        made = requests.get(staff_id, [])
        row.requests_made = len(made)
        row.requests_granted = sum(1 for r in made if _request_granted(r, mine[r.day].id if r.day in mine else None))
        db.session.add(row)


@dataclass
class DiffLine:
    staff: StaffMember
    day: date
    before: ShiftType | None
    after: ShiftType | None


def diff_cells(before: dict[tuple[int, date], int], after: dict[tuple[int, date], int], ward_id: int) -> list[DiffLine]:
    """What changed between two rosters, sorted by person and day."""
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if not keys:
        return []
    shifts = {s.id: s for s in db.session.scalars(select(ShiftType).where(ShiftType.ward_id == ward_id))}
    people = {s.id: s for s in db.session.scalars(select(StaffMember).where(
        StaffMember.id.in_({k[0] for k in keys})))}
    lines = [DiffLine(people[s], d, shifts.get(before.get((s, d))), shifts.get(after.get((s, d))))
             for s, d in keys if s in people]
    return sorted(lines, key=lambda line: (line.staff.full_name, line.day))


def diff_rosters(old: Roster | None, new: Roster) -> list[DiffLine]:
    return diff_cells(roster_cells(old), roster_cells(new), new.period.ward_id)


# --- sick calls -----------------------------------------------------------------------------

def record_sick_call(period: RosterPeriod, actor: User, staff: StaffMember, *, start: date, end: date,
                     note: str = "", time_limit_s: int | None = None) -> tuple[Leave, OptimiserRun]:
    """Record a nurse as absent and start a repair of the rest of the period.

    The absence is recorded as approved sickness leave (a hard rule for the optimiser); the
    repair re-optimises the period from the first day of absence with minimal perturbation of
    the current published version, keeping every day before it as published. The result lands in
    the draft for review; the manager publishes it as a new version.
    """
    current = current_published_roster(period)
    if current is None:
        raise SchedulingError("A sick call repairs a published roster; nothing is published for this period yet.")
    if end < start:
        raise SchedulingError("The last day of absence cannot be before the first.")
    if not (period.start_date <= start <= period.end_date):
        raise SchedulingError("The first day of absence must fall within this roster period.")
    if staff.id not in {s for s, _d in roster_cells(current)} and staff.id not in {
            m.staff_id for m in period.ward.memberships}:
        raise SchedulingError("That person is not on this ward's roster.")
    overlap = db.session.scalar(select(Leave).where(
        Leave.staff_id == staff.id, Leave.kind == LeaveKind.SICKNESS, Leave.status == DecisionStatus.APPROVED,
        Leave.start_date <= end, Leave.end_date >= start))
    if overlap is not None:
        raise SchedulingError(f"{staff.display_name} is already recorded as sick from "
                              f"{overlap.start_date:%-d %b} to {overlap.end_date:%-d %b}.")
    leave = Leave(staff_id=staff.id, kind=LeaveKind.SICKNESS, start_date=start, end_date=end, note=note[:300],
                  status=DecisionStatus.APPROVED, decided_by_id=actor.id, decided_at=utcnow())
    db.session.add(leave)
    db.session.flush()
    record_audit(actor, "scheduling.sick_call", leave, staff=staff.id, start=start, end=end, period=period.id)
    run = start_optimisation(period, actor, time_limit_s=time_limit_s or min(ward_rules(period.ward).optimiser_time_limit_s, 30),
                             purpose="repair", reference=current, frozen_before=start)
    return leave, run


# --- exports ---------------------------------------------------------------------------------

def roster_csv(period: RosterPeriod, roster: Roster) -> str:
    """CSV with columns staff, employee_number, date, shift, start, end."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["staff", "employee_number", "date", "shift", "start", "end"])
    rows = db.session.execute(
        select(StaffMember.full_name, StaffMember.employee_number, RosterAssignment.day, ShiftType.code,
               ShiftType.start_time, ShiftType.end_time)
        .join(StaffMember, StaffMember.id == RosterAssignment.staff_id)
        .join(ShiftType, ShiftType.id == RosterAssignment.shift_type_id)
        .where(RosterAssignment.roster_id == roster.id)
        .order_by(StaffMember.full_name, RosterAssignment.day))
    for name, number, day, code, start, end in rows:
        writer.writerow([_csv_safe(name), _csv_safe(number), day.isoformat(), code, start.strftime("%H:%M"),
                         end.strftime("%H:%M")])
    return out.getvalue()


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in text cells."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def roster_ics(period: RosterPeriod, roster: Roster, zone_name: str) -> bytes:
    """The ward roster as an RFC 5545 calendar in the hospital's time zone."""
    from zoneinfo import ZoneInfo

    from icalendar import Calendar, Event

    zone = ZoneInfo(zone_name)
    ward = period.ward
    calendar = Calendar()
    calendar.add("prodid", "-//Ward Portal//Roster//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{ward.name} roster")
    calendar.add("x-wr-timezone", zone_name)
    rows = db.session.execute(
        select(RosterAssignment.id, RosterAssignment.day, StaffMember.full_name, StaffMember.known_as,
               StaffMember.id, ShiftType)
        .join(StaffMember, StaffMember.id == RosterAssignment.staff_id)
        .join(ShiftType, ShiftType.id == RosterAssignment.shift_type_id)
        .where(RosterAssignment.roster_id == roster.id)
        .order_by(RosterAssignment.day, ShiftType.start_time, StaffMember.full_name))
    stamp = roster.created_at.astimezone(timezone.utc)
    for _id, day, full_name, _known, staff_id, shift in rows:
        begin = datetime.combine(day, shift.start_time, tzinfo=zone)
        finish = datetime.combine(day + timedelta(days=1 if shift.crosses_midnight else 0), shift.end_time, tzinfo=zone)
        event = Event()
        event.add("uid", f"ward-{ward.id}-{staff_id}-{day.isoformat()}@ward-portal")
        event.add("dtstamp", stamp)
        event.add("dtstart", begin)
        event.add("dtend", finish)
        event.add("summary", f"{full_name}: {shift.name} ({shift.code})")
        event.add("sequence", roster.number or 0)
        calendar.add_component(event)
    try:
        calendar.add_missing_timezones()
    except AttributeError:  # icalendar < 6 has no helper; clients still read TZID with the zone's name
        pass
    return calendar.to_ical()
