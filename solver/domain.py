"""Problem and roster dataclasses: frozen, self-validating input of the solver.

Every class checks its own fields in ``__post_init__``; :class:`Problem` also checks
cross-references (unknown staff or shift codes, cover nobody can give, ...).  Errors are
raised as :class:`ProblemError` with a message naming the offending field, so the portal
can show it to a manager unchanged.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

OFF = "-"
"""Marker for a day off inside :attr:`Rules.forbidden_sequences`."""

MINUTES_PER_DAY = 24 * 60


class ProblemError(ValueError):
    """A problem or input file is inconsistent; the message names the field or line."""


def _fail(where: str, message: str) -> None:
    raise ProblemError(f"{where}: {message}")


def _check_int(where: str, value: object, *, minimum: int | None = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(where, f"must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        _fail(where, f"must be at least {minimum}, got {value}")


def _check_optional_int(where: str, value: object, *, minimum: int = 0) -> None:
    if value is not None:
        _check_int(where, value, minimum=minimum)


def _check_code(where: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        _fail(where, f"must be a non-empty string, got {value!r}")
    if value != value.strip() or "," in value:
        _fail(where, f"{value!r} must not contain commas or surrounding spaces")
    if value == OFF:
        _fail(where, f"{OFF!r} is reserved for 'day off'")


def _frozen_mapping(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


class DayType(enum.Enum):
    """Kind of day, for cover templates and weekend rules."""

    WEEKDAY = "weekday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"
    HOLIDAY = "holiday"


@dataclass(frozen=True)
class Horizon:
    """The planning period: ``num_days`` consecutive dates from ``start``.

    Days are referred to everywhere by their index ``0 .. num_days - 1``.
    ``holidays`` holds indexes of public holidays (day type HOLIDAY).
    """

    start: dt.date
    num_days: int
    holidays: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.start, dt.date):
            _fail("horizon.start", f"must be a datetime.date, got {self.start!r}")
        _check_int("horizon.num_days", self.num_days, minimum=1)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        for day in self.holidays:
            if not isinstance(day, int) or not 0 <= day < self.num_days:
                _fail("horizon.holidays", f"day {day!r} is outside the horizon")

    @property
    def days(self) -> range:
        """Indexes of all days."""
        return range(self.num_days)

    def date(self, day: int) -> dt.date:
        """Return the calendar date of day index ``day`` (may be negative for history)."""
        return self.start + dt.timedelta(days=day)

    def day_type(self, day: int) -> DayType:
        """Return whether ``day`` is a weekday, Saturday, Sunday or public holiday."""
        if day in self.holidays:
            return DayType.HOLIDAY
        weekday = self.date(day).weekday()
        return {5: DayType.SATURDAY, 6: DayType.SUNDAY}.get(weekday, DayType.WEEKDAY)

    def label(self, day: int) -> str:
        """Return a short human label such as ``'Tue 03 Mar (day 2)'``."""
        return f"{self.date(day):%a %d %b} (day {day})"

    @cached_property
    def weekends(self) -> tuple[tuple[int, ...], ...]:
        """Day indexes of each weekend (Saturday and/or Sunday) inside the horizon."""
        groups: dict[int, list[int]] = {}
        for day in self.days:
            weekday = self.date(day).weekday()
            if weekday >= 5:
                saturday = day - (weekday - 5)
                groups.setdefault(saturday, []).append(day)
        return tuple(tuple(groups[key]) for key in sorted(groups))


@dataclass(frozen=True)
class ShiftType:
    """A kind of shift, e.g. Early 07:00-15:00 or Night 21:00-07:30.

    Give ``start`` and ``end`` (an end at or before the start crosses midnight) and/or
    ``paid_minutes`` (defaults to the duration).  Shifts without times (as in the Curtois
    benchmark) take part in every rule except the minimum rest in hours.
    ``is_night`` defaults to "crosses midnight".
    """

    code: str
    paid_minutes: int | None = None
    start: dt.time | None = None
    end: dt.time | None = None
    name: str = ""
    is_night: bool | None = None

    def __post_init__(self) -> None:
        _check_code("shift_type.code", self.code)
        where = f"shift_type {self.code!r}"
        if (self.start is None) != (self.end is None):
            _fail(where, "give both start and end times, or neither")
        if self.start is not None:
            for name in ("start", "end"):
                if not isinstance(getattr(self, name), dt.time):
                    _fail(f"{where}.{name}", "must be a datetime.time")
            if self.paid_minutes is None:
                object.__setattr__(self, "paid_minutes", self.duration_minutes)
        if self.paid_minutes is None:
            _fail(f"{where}.paid_minutes", "required when start/end times are not given")
        _check_int(f"{where}.paid_minutes", self.paid_minutes)
        if self.is_night is None:
            crosses = self.start is not None and self.end_minute > MINUTES_PER_DAY
            object.__setattr__(self, "is_night", crosses)

    @property
    def has_times(self) -> bool:
        """Whether start and end times are known."""
        return self.start is not None

    @property
    def start_minute(self) -> int:
        """Start as minutes after midnight of the shift's own day."""
        assert self.start is not None
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minute(self) -> int:
        """End as minutes after midnight of the shift's day (above 1440 when crossing)."""
        assert self.end is not None
        end = self.end.hour * 60 + self.end.minute
        return end if end > self.start_minute else end + MINUTES_PER_DAY

    @property
    def duration_minutes(self) -> int:
        """Length from start to end in minutes."""
        return self.end_minute - self.start_minute


@dataclass(frozen=True)
class History:
    """What a staff member worked just before day 0, so rules hold across periods.

    ``last_shifts`` lists shift codes (``None`` = off) of the days right before day 0,
    oldest first.  ``consecutive_days_worked`` / ``consecutive_days_off`` are the running
    counts at the end of the previous period; when omitted they are read off
    ``last_shifts``.  Only counts that are known are used; rules are not checked on
    days before the known history.
    """

    last_shifts: tuple[str | None, ...] = ()
    consecutive_days_worked: int | None = None
    consecutive_days_off: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "last_shifts", tuple(self.last_shifts))
        _check_optional_int("history.consecutive_days_worked", self.consecutive_days_worked)
        _check_optional_int("history.consecutive_days_off", self.consecutive_days_off)
        if self.consecutive_days_worked and self.consecutive_days_off:
            _fail("history", "cannot end both on a working run and on a days-off run")
        for index, code in enumerate(self.last_shifts):
            if code is not None:
                _check_code(f"history.last_shifts[{index}]", code)

    def known_days(self) -> tuple[str | None, ...]:
        """Return the days before day 0 whose state is known (oldest first).

        A state is ``None`` for off or a shift code; a worked day of unknown shift from
        the running count is ``'?'``.
        """
        days = list(self.last_shifts)
        trailing_worked = 0
        for code in reversed(days):
            if code is None:
                break
            trailing_worked += 1
        trailing_off = 0
        for code in reversed(days):
            if code is not None:
                break
            trailing_off += 1
        if self.consecutive_days_worked is not None:
            if self.consecutive_days_worked > trailing_worked:
                if trailing_worked < len(days):
                    _fail("history", "consecutive_days_worked disagrees with last_shifts")
                days = [None] + ["?"] * (self.consecutive_days_worked - trailing_worked) + days
            elif self.consecutive_days_worked < trailing_worked:
                _fail("history", "consecutive_days_worked disagrees with last_shifts")
            elif trailing_worked == len(days):
                days = [None] + days
        if self.consecutive_days_off is not None:
            if self.consecutive_days_off > trailing_off:
                if trailing_off < len(days):
                    _fail("history", "consecutive_days_off disagrees with last_shifts")
                days = ["?"] + [None] * (self.consecutive_days_off - trailing_off) + days
            elif self.consecutive_days_off < trailing_off:
                _fail("history", "consecutive_days_off disagrees with last_shifts")
            elif trailing_off == len(days):
                days = ["?"] + days
        return tuple(days)


class PersonalRuleKind(enum.Enum):
    """Kinds of soft rule a staff member can ask for."""

    MAX_SHIFTS = "max_shifts"
    MIN_SHIFTS = "min_shifts"
    MAX_WEEKENDS = "max_weekends"
    MAX_CONSECUTIVE_DAYS = "max_consecutive_days"
    MAX_CONSECUTIVE_NIGHTS = "max_consecutive_nights"


@dataclass(frozen=True)
class PersonalRule:
    """A soft personal limit; ``weight`` is paid per unit beyond ``limit``.

    MAX_SHIFTS / MIN_SHIFTS count shifts of type ``shift`` (all shifts when ``None``);
    MAX_CONSECUTIVE_DAYS costs ``weight`` for each window of ``limit + 1`` worked days;
    MAX_CONSECUTIVE_NIGHTS the same for windows of ``limit + 1`` night shifts (shift
    types with ``is_night``).
    """

    kind: PersonalRuleKind
    limit: int
    weight: int
    shift: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, PersonalRuleKind):
            try:
                object.__setattr__(self, "kind", PersonalRuleKind(self.kind))
            except ValueError:
                _fail("personal_rule.kind", f"unknown kind {self.kind!r}")
        _check_int(f"personal_rule {self.kind.value}.limit", self.limit)
        _check_int(f"personal_rule {self.kind.value}.weight", self.weight)


@dataclass(frozen=True)
class StaffMember:
    """A member of staff, their contract and their personal limits.

    Limits left at ``None`` fall back to the ward's :class:`Rules`.
    ``max_shifts`` maps shift codes to the most shifts of that type (0 = never).
    ``unavailable_days`` (leave) and ``unavailable_shifts`` ((day, code) pairs, e.g.
    training in the morning) are hard.  ``fte_percent`` scales fairness targets;
    ``fairness_ledger`` carries counts of ``'nights'``, ``'weekends'`` and
    ``'unpopular'`` shifts from earlier periods.
    """

    id: str
    name: str = ""
    skills: frozenset[str] = frozenset()
    grade: str = ""
    min_minutes: int = 0
    max_minutes: int | None = None
    max_shifts: Mapping[str, int] = field(default_factory=dict)
    max_consecutive_days: int | None = None
    min_consecutive_days: int | None = None
    min_consecutive_days_off: int | None = None
    max_weekends: int | None = None
    unavailable_days: frozenset[int] = frozenset()
    unavailable_shifts: frozenset[tuple[int, str]] = frozenset()
    history: History | None = None
    fte_percent: int = 100
    fairness_ledger: Mapping[str, int] = field(default_factory=dict)
    personal_rules: tuple[PersonalRule, ...] = ()

    def __post_init__(self) -> None:
        _check_code("staff.id", self.id)
        where = f"staff {self.id!r}"
        object.__setattr__(self, "skills", frozenset(self.skills))
        object.__setattr__(self, "max_shifts", _frozen_mapping(self.max_shifts))
        object.__setattr__(self, "fairness_ledger", _frozen_mapping(self.fairness_ledger))
        object.__setattr__(self, "unavailable_days", frozenset(self.unavailable_days))
        object.__setattr__(
            self, "unavailable_shifts", frozenset(tuple(p) for p in self.unavailable_shifts)
        )
        object.__setattr__(self, "personal_rules", tuple(self.personal_rules))
        _check_int(f"{where}.min_minutes", self.min_minutes)
        _check_optional_int(f"{where}.max_minutes", self.max_minutes)
        if self.max_minutes is not None and self.max_minutes < self.min_minutes:
            _fail(f"{where}.max_minutes", f"{self.max_minutes} is below min_minutes {self.min_minutes}")
        for code, limit in self.max_shifts.items():
            _check_int(f"{where}.max_shifts[{code!r}]", limit)
        _check_optional_int(f"{where}.max_consecutive_days", self.max_consecutive_days, minimum=1)
        _check_optional_int(f"{where}.min_consecutive_days", self.min_consecutive_days, minimum=1)
        _check_optional_int(
            f"{where}.min_consecutive_days_off", self.min_consecutive_days_off, minimum=1
        )
        _check_optional_int(f"{where}.max_weekends", self.max_weekends)
        _check_int(f"{where}.fte_percent", self.fte_percent, minimum=1)
        for key, value in self.fairness_ledger.items():
            if key not in FAIRNESS_TERMS:
                _fail(f"{where}.fairness_ledger", f"unknown term {key!r}; use one of {FAIRNESS_TERMS}")
            _check_int(f"{where}.fairness_ledger[{key!r}]", value, minimum=None)
        if self.history is not None and not isinstance(self.history, History):
            _fail(f"{where}.history", "must be a History")
        for rule in self.personal_rules:
            if not isinstance(rule, PersonalRule):
                _fail(f"{where}.personal_rules", f"{rule!r} is not a PersonalRule")

    @property
    def label(self) -> str:
        """Name for messages (falls back to the id)."""
        return self.name or self.id


@dataclass(frozen=True)
class CoverRequirement:
    """Staff needed on ``day`` for ``shift`` (with ``skill``, or anyone when ``None``).

    ``minimum`` is hard.  ``ideal`` (default: the minimum) is soft: each person short
    costs ``under_weight`` and each person over costs ``over_weight``.
    """

    day: int
    shift: str
    skill: str | None = None
    minimum: int = 0
    ideal: int | None = None
    under_weight: int = 0
    over_weight: int = 0

    def __post_init__(self) -> None:
        where = f"cover (day {self.day}, shift {self.shift!r})"
        _check_int(f"{where}.day", self.day)
        _check_code(f"{where}.shift", self.shift)
        _check_int(f"{where}.minimum", self.minimum)
        if self.ideal is None:
            object.__setattr__(self, "ideal", self.minimum)
        _check_int(f"{where}.ideal", self.ideal)
        _check_int(f"{where}.under_weight", self.under_weight)
        _check_int(f"{where}.over_weight", self.over_weight)


@dataclass(frozen=True)
class Rules:
    """Ward-wide hard rules (staff members may override some of them).

    ``forbidden_sequences`` are tuples of shift codes (or :data:`OFF`) on consecutive
    days, e.g. ``("N", "E")``.  ``max_consecutive_shifts`` maps a code to the longest run
    of that shift.  ``min_days_off_after_nights`` days off follow every run of night
    shifts.  ``complete_weekends_weight`` is soft: the cost of working only one day of a
    weekend.
    """

    min_rest_hours: float = 0
    forbidden_sequences: tuple[tuple[str, ...], ...] = ()
    max_consecutive_days: int | None = None
    min_consecutive_days: int | None = None
    max_consecutive_shifts: Mapping[str, int] = field(default_factory=dict)
    min_days_off_after_nights: int = 0
    min_consecutive_days_off: int | None = None
    max_weekends: int | None = None
    complete_weekends_weight: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.min_rest_hours, bool) or not isinstance(self.min_rest_hours, (int, float)):
            _fail("rules.min_rest_hours", f"must be a number, got {self.min_rest_hours!r}")
        if self.min_rest_hours < 0 or self.min_rest_hours >= 48:
            _fail("rules.min_rest_hours", f"must be between 0 and 48, got {self.min_rest_hours}")
        object.__setattr__(
            self, "forbidden_sequences", tuple(tuple(s) for s in self.forbidden_sequences)
        )
        for index, sequence in enumerate(self.forbidden_sequences):
            if len(sequence) < 2:
                _fail(f"rules.forbidden_sequences[{index}]", "needs at least two days")
        object.__setattr__(
            self, "max_consecutive_shifts", _frozen_mapping(self.max_consecutive_shifts)
        )
        for code, limit in self.max_consecutive_shifts.items():
            _check_int(f"rules.max_consecutive_shifts[{code!r}]", limit, minimum=1)
        _check_optional_int("rules.max_consecutive_days", self.max_consecutive_days, minimum=1)
        _check_optional_int("rules.min_consecutive_days", self.min_consecutive_days, minimum=1)
        _check_int("rules.min_days_off_after_nights", self.min_days_off_after_nights)
        _check_optional_int("rules.min_consecutive_days_off", self.min_consecutive_days_off, minimum=1)
        _check_optional_int("rules.max_weekends", self.max_weekends)
        _check_int("rules.complete_weekends_weight", self.complete_weekends_weight)


class RequestKind(enum.Enum):
    """A shift-on request (wants to work) or a shift-off request (wants not to)."""

    ON = "on"
    OFF = "off"


@dataclass(frozen=True)
class Request:
    """A soft wish of ``staff_id`` about ``day``; ``weight`` is paid when it is not met.

    ``shift=None`` means any shift: ON = wants to work that day, OFF = wants the day off.
    """

    staff_id: str
    day: int
    shift: str | None
    weight: int
    kind: RequestKind = RequestKind.ON

    def __post_init__(self) -> None:
        if not isinstance(self.kind, RequestKind):
            try:
                object.__setattr__(self, "kind", RequestKind(self.kind))
            except ValueError:
                _fail("request.kind", f"must be 'on' or 'off', got {self.kind!r}")
        where = f"request ({self.staff_id!r}, day {self.day})"
        _check_int(f"{where}.day", self.day)
        _check_int(f"{where}.weight", self.weight)


FAIRNESS_TERMS = ("nights", "weekends", "unpopular")


@dataclass(frozen=True)
class Fairness:
    """Weights of the fairness terms (0 = ignored).

    Each term costs ``weight`` times the spread (most minus least) of per-person loads,
    where a load is (count this period + ledger) x 100 / fte_percent, in hundredths of a
    full-time shift.  Only staff who can work the kind of shift take part.
    """

    nights_weight: int = 0
    weekends_weight: int = 0
    unpopular_weight: int = 0
    unpopular_shifts: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "unpopular_shifts", frozenset(self.unpopular_shifts))
        for name in ("nights_weight", "weekends_weight", "unpopular_weight"):
            _check_int(f"fairness.{name}", getattr(self, name))

    def weight(self, term: str) -> int:
        """Return the weight of fairness term ``term``."""
        return getattr(self, f"{term}_weight")


@dataclass(frozen=True, order=True)
class Assignment:
    """``staff_id`` works shift ``shift`` on day index ``day``."""

    staff_id: str
    day: int
    shift: str


@dataclass(frozen=True)
class Roster:
    """A set of assignments (at most one per person and day is a hard rule)."""

    assignments: frozenset[Assignment] = frozenset()

    def __post_init__(self) -> None:
        items = frozenset(
            a if isinstance(a, Assignment) else Assignment(*a) for a in self.assignments
        )
        object.__setattr__(self, "assignments", items)

    @classmethod
    def of(cls, triples: Iterable[tuple[str, int, str]]) -> "Roster":
        """Build a roster from ``(staff_id, day, shift)`` triples."""
        return cls(frozenset(Assignment(*t) for t in triples))

    def __iter__(self):
        return iter(sorted(self.assignments))

    def __len__(self) -> int:
        return len(self.assignments)

    @cached_property
    def _by_person_day(self) -> dict[tuple[str, int], str]:
        return {(a.staff_id, a.day): a.shift for a in self.assignments}

    def shift_of(self, staff_id: str, day: int) -> str | None:
        """Return the shift ``staff_id`` works on ``day`` (``None`` when off)."""
        return self._by_person_day.get((staff_id, day))


@dataclass(frozen=True)
class Problem:
    """A complete rostering problem.  Construction validates every cross-reference.

    ``locked`` assignments must appear in the roster.  ``reference`` with
    ``change_weight`` asks for minimal change (each person-day that differs from the
    reference costs ``change_weight``), e.g. to repair a roster after a sick call.
    """

    horizon: Horizon
    shift_types: tuple[ShiftType, ...]
    staff: tuple[StaffMember, ...]
    cover: tuple[CoverRequirement, ...] = ()
    rules: Rules = field(default_factory=Rules)
    requests: tuple[Request, ...] = ()
    locked: tuple[Assignment, ...] = ()
    fairness: Fairness = field(default_factory=Fairness)
    reference: Roster | None = None
    change_weight: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        for name in ("shift_types", "staff", "cover", "requests", "locked"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not isinstance(self.horizon, Horizon):
            _fail("horizon", "must be a Horizon")
        if not self.shift_types:
            _fail("shift_types", "at least one shift type is needed")
        _check_int("change_weight", self.change_weight)
        self._check_unique()
        self._check_staff()
        self._check_rules()
        self._check_cover()
        self._check_requests_and_locks()

    # -- lookups -----------------------------------------------------------------------
    @cached_property
    def shift_by_code(self) -> dict[str, ShiftType]:
        """Shift types by code."""
        return {s.code: s for s in self.shift_types}

    @cached_property
    def staff_by_id(self) -> dict[str, StaffMember]:
        """Staff members by id."""
        return {p.id: p for p in self.staff}

    def limit(self, person: StaffMember, name: str) -> int | None:
        """Return ``person``'s own value of rule ``name`` or else the ward's."""
        own = getattr(person, name)
        return own if own is not None else getattr(self.rules, name)

    def can_work(self, person: StaffMember, day: int, code: str) -> bool:
        """Whether ``person`` may work shift ``code`` on ``day`` at all."""
        return (
            day not in person.unavailable_days
            and (day, code) not in person.unavailable_shifts
            and person.max_shifts.get(code, 1) > 0
        )

    @cached_property
    def forbidden_sequences(self) -> tuple[tuple[tuple[str, ...], str], ...]:
        """All forbidden sequences with their reason, including rest-hour pairs."""
        result = [(tuple(s), "forbidden sequence") for s in self.rules.forbidden_sequences]
        if self.rules.min_rest_hours > 0:
            need = self.rules.min_rest_hours * 60
            for first in self.shift_types:
                for second in self.shift_types:
                    if not (first.has_times and second.has_times):
                        continue
                    rest = MINUTES_PER_DAY + second.start_minute - first.end_minute
                    if rest < need and (first.code, second.code) not in {s for s, _ in result}:
                        result.append(((first.code, second.code), "minimum rest"))
        return tuple(result)

    # -- validation --------------------------------------------------------------------
    def _check_unique(self) -> None:
        seen: set[str] = set()
        for index, shift in enumerate(self.shift_types):
            if not isinstance(shift, ShiftType):
                _fail(f"shift_types[{index}]", "must be a ShiftType")
            if shift.code in seen:
                _fail(f"shift_types[{index}]", f"duplicate shift code {shift.code!r}")
            seen.add(shift.code)
        seen = set()
        for index, person in enumerate(self.staff):
            if not isinstance(person, StaffMember):
                _fail(f"staff[{index}]", "must be a StaffMember")
            if person.id in seen:
                _fail(f"staff[{index}]", f"duplicate staff id {person.id!r}")
            seen.add(person.id)

    def _check_shift(self, where: str, code: str) -> None:
        if code not in self.shift_by_code:
            _fail(where, f"unknown shift {code!r}")

    def _check_day(self, where: str, day: int) -> None:
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day < self.horizon.num_days:
            _fail(where, f"day {day!r} is outside the horizon 0..{self.horizon.num_days - 1}")

    def _check_staff(self) -> None:
        for person in self.staff:
            where = f"staff {person.id!r}"
            for code in person.max_shifts:
                self._check_shift(f"{where}.max_shifts", code)
            for day in person.unavailable_days:
                self._check_day(f"{where}.unavailable_days", day)
            for day, code in person.unavailable_shifts:
                self._check_day(f"{where}.unavailable_shifts", day)
                self._check_shift(f"{where}.unavailable_shifts", code)
            if person.history is not None:
                for code in person.history.last_shifts:
                    if code is not None:
                        self._check_shift(f"{where}.history.last_shifts", code)
                person.history.known_days()
            for rule in person.personal_rules:
                if rule.shift is not None:
                    self._check_shift(f"{where}.personal_rules[{rule.kind.value}]", rule.shift)

    def _check_rules(self) -> None:
        for index, sequence in enumerate(self.rules.forbidden_sequences):
            for code in sequence:
                if code != OFF:
                    self._check_shift(f"rules.forbidden_sequences[{index}]", code)
        for code in self.rules.max_consecutive_shifts:
            self._check_shift("rules.max_consecutive_shifts", code)
        for code in self.fairness.unpopular_shifts:
            self._check_shift("fairness.unpopular_shifts", code)

    def _check_cover(self) -> None:
        all_skills = set().union(*(p.skills for p in self.staff)) if self.staff else set()
        seen = set()
        for index, need in enumerate(self.cover):
            where = f"cover[{index}] (day {need.day}, shift {need.shift!r})"
            if not isinstance(need, CoverRequirement):
                _fail(f"cover[{index}]", "must be a CoverRequirement")
            self._check_day(where, need.day)
            self._check_shift(where, need.shift)
            key = (need.day, need.shift, need.skill)
            if key in seen:
                _fail(where, f"duplicate cover row for skill {need.skill!r}")
            seen.add(key)
            if need.skill is not None and need.skill not in all_skills:
                _fail(where, f"no staff member has skill {need.skill!r}")
            if need.minimum > 0:
                able = sum(
                    1
                    for p in self.staff
                    if (need.skill is None or need.skill in p.skills)
                    and self.can_work(p, need.day, need.shift)
                )
                if able < need.minimum:
                    who = f"with skill {need.skill!r} " if need.skill else ""
                    _fail(
                        where,
                        f"needs at least {need.minimum} staff {who}but only {able} can work it",
                    )

    def _check_requests_and_locks(self) -> None:
        for index, request in enumerate(self.requests):
            where = f"requests[{index}]"
            if request.staff_id not in self.staff_by_id:
                _fail(where, f"unknown staff {request.staff_id!r}")
            self._check_day(where, request.day)
            if request.shift is not None:
                self._check_shift(where, request.shift)
        for index, item in enumerate(self.locked):
            where = f"locked[{index}]"
            if not isinstance(item, Assignment):
                _fail(where, "must be an Assignment")
            if item.staff_id not in self.staff_by_id:
                _fail(where, f"unknown staff {item.staff_id!r}")
            self._check_day(where, item.day)
            self._check_shift(where, item.shift)
        if self.reference is not None:
            for item in self.reference.assignments:
                if item.staff_id not in self.staff_by_id:
                    _fail("reference", f"unknown staff {item.staff_id!r}")
                self._check_day("reference", item.day)
                self._check_shift("reference", item.shift)


def ceil_div(a: int, b: int) -> int:
    """Integer ceiling of a / b for positive b."""
    return -((-a) // b)


__all__ = [
    "OFF", "Assignment", "CoverRequirement", "DayType", "Fairness", "History", "Horizon",
    "PersonalRule", "PersonalRuleKind", "Problem", "ProblemError", "Request", "RequestKind",
    "Roster", "Rules", "ShiftType", "StaffMember", "ceil_div",
]
