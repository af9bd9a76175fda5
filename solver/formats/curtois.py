"""Reader of the Curtois & Qu nurse-rostering benchmark and CSV rosters.

The benchmark's rules map onto the general model: ``CannotFollow`` becomes forbidden
sequences, ``MaxShifts`` per-person shift limits, min/max total minutes the contract,
consecutive limits and ``MaxWeekends`` personal limits, ``SECTION_DAYS_OFF`` leave,
requests soft requests, and cover rows soft cover with no hard minimum.  Every instance
starts on a Monday; we date day 0 as Monday 1 January 2024.

Malformed input raises :class:`ProblemError` naming the file, line and field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from solver.domain import (
    Assignment, CoverRequirement, Horizon, Problem, ProblemError, Request, RequestKind,
    Roster, Rules, ShiftType, StaffMember,
)

START = dt.date(2024, 1, 1)  # a Monday
SECTIONS = (
    "SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF", "SECTION_DAYS_OFF",
    "SECTION_SHIFT_ON_REQUESTS", "SECTION_SHIFT_OFF_REQUESTS", "SECTION_COVER",
)


class _Line:
    def __init__(self, where: str, number: int, text: str) -> None:
        self.where, self.number, self.text = where, number, text
        self.fields = text.split(",")

    def fail(self, message: str) -> None:
        raise ProblemError(f"{self.where}:{self.number}: {message} in {self.text!r}")

    def int(self, index: int, name: str, minimum: int | None = 0) -> int:
        try:
            value = int(self.fields[index])
        except (IndexError, ValueError):
            self.fail(f"field {name} must be an integer")
        if minimum is not None and value < minimum:
            self.fail(f"field {name} must be at least {minimum}, got {value}")
        return value

    def expect(self, count: int, names: str) -> None:
        if len(self.fields) != count:
            self.fail(f"expected {count} fields ({names}), got {len(self.fields)}")


def read_instance(path: str | Path) -> Problem:
    """Read a benchmark instance file into a :class:`Problem`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ProblemError(f"{path}: cannot read ({error.strerror})") from None
    return parse_instance(text, name=path.stem, where=str(path))


def parse_instance(text: str, *, name: str = "instance", where: str = "instance") -> Problem:
    """Parse the text of a benchmark instance (see the benchmark README)."""
    sections: dict[str, list[_Line]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            if not line:
                current = None
            continue
        if line.startswith("SECTION_"):
            if line not in SECTIONS:
                raise ProblemError(f"{where}:{number}: unknown section {line!r}")
            if line in sections:
                raise ProblemError(f"{where}:{number}: section {line} appears twice")
            current = line
            sections[line] = []
            continue
        if current is None:
            raise ProblemError(f"{where}:{number}: data outside any section: {line!r}")
        sections[current].append(_Line(where, number, line))
    for section in ("SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF"):
        if section not in sections:
            raise ProblemError(f"{where}: missing {section}")

    horizon_lines = sections["SECTION_HORIZON"]
    if len(horizon_lines) != 1:
        raise ProblemError(f"{where}: SECTION_HORIZON must hold exactly one number")
    num_days = horizon_lines[0].int(0, "horizon", minimum=1)
    horizon = Horizon(START, num_days)

    def check_day(line: _Line, day: int) -> None:
        if day >= num_days:
            line.fail(f"day {day} is outside the horizon 0..{num_days - 1}")

    shifts: list[ShiftType] = []
    follow: list[tuple[_Line, str, list[str]]] = []
    for line in sections["SECTION_SHIFTS"]:
        line.expect(3, "ShiftID,LengthMinutes,CannotFollow")
        code = line.fields[0]
        if not code or any(s.code == code for s in shifts):
            line.fail(f"empty or duplicate shift id {code!r}")
        shifts.append(_build(line, lambda: ShiftType(code, paid_minutes=line.int(1, "LengthMinutes"))))
        follow.append((line, code, [c for c in line.fields[2].split("|") if c]))
    codes = {s.code for s in shifts}
    sequences = []
    for line, code, others in follow:
        for other in others:
            if other not in codes:
                line.fail(f"unknown shift {other!r} in CannotFollow")
            sequences.append((code, other))

    staff: list[StaffMember] = []
    for line in sections["SECTION_STAFF"]:
        line.expect(8, "ID,MaxShifts,MaxTotalMinutes,MinTotalMinutes,MaxConsecutiveShifts,"
                       "MinConsecutiveShifts,MinConsecutiveDaysOff,MaxWeekends")
        max_shifts = {}
        for pair in filter(None, line.fields[1].split("|")):
            code, _, limit = pair.partition("=")
            if code not in codes:
                line.fail(f"unknown shift {code!r} in MaxShifts")
            try:
                max_shifts[code] = int(limit)
            except ValueError:
                line.fail(f"MaxShifts value for {code!r} must be an integer")
        values = [line.int(i, n) for i, n in (
            (2, "MaxTotalMinutes"), (3, "MinTotalMinutes"), (4, "MaxConsecutiveShifts"),
            (5, "MinConsecutiveShifts"), (6, "MinConsecutiveDaysOff"), (7, "MaxWeekends"))]
        staff_id = line.fields[0]
        if any(p.id == staff_id for p in staff):
            line.fail(f"duplicate employee {staff_id!r}")
        staff.append(_build(line, lambda: StaffMember(
            id=staff_id, max_shifts=max_shifts, max_minutes=values[0], min_minutes=values[1],
            max_consecutive_days=max(values[2], 1), min_consecutive_days=max(values[3], 1),
            min_consecutive_days_off=max(values[4], 1), max_weekends=values[5])))
    by_id = {p.id: p for p in staff}

    leave: dict[str, set[int]] = {p.id: set() for p in staff}
    for line in sections.get("SECTION_DAYS_OFF", []):
        if line.fields[0] not in by_id:
            line.fail(f"unknown employee {line.fields[0]!r}")
        for index in range(1, len(line.fields)):
            day = line.int(index, "day")
            check_day(line, day)
            leave[line.fields[0]].add(day)
    staff = [_replace_leave(p, leave[p.id]) for p in staff]

    requests = []
    for section, kind in (("SECTION_SHIFT_ON_REQUESTS", RequestKind.ON),
                          ("SECTION_SHIFT_OFF_REQUESTS", RequestKind.OFF)):
        for line in sections.get(section, []):
            line.expect(4, "EmployeeID,Day,ShiftID,Weight")
            staff_id, code = line.fields[0], line.fields[2]
            if staff_id not in by_id:
                line.fail(f"unknown employee {staff_id!r}")
            if code not in codes:
                line.fail(f"unknown shift {code!r}")
            day = line.int(1, "Day")
            check_day(line, day)
            weight = line.int(3, "Weight")
            requests.append(Request(staff_id, day, code, weight, kind))

    cover = []
    seen = set()
    for line in sections.get("SECTION_COVER", []):
        line.expect(5, "Day,ShiftID,Requirement,WeightUnder,WeightOver")
        day, code = line.int(0, "Day"), line.fields[1]
        check_day(line, day)
        if code not in codes:
            line.fail(f"unknown shift {code!r}")
        if (day, code) in seen:
            line.fail(f"duplicate cover row for day {day}, shift {code!r}")
        seen.add((day, code))
        cover.append(CoverRequirement(
            day, code, minimum=0, ideal=line.int(2, "Requirement"),
            under_weight=line.int(3, "WeightUnder"), over_weight=line.int(4, "WeightOver")))

    return Problem(
        horizon=horizon, shift_types=tuple(shifts), staff=tuple(staff), cover=tuple(cover),
        rules=Rules(forbidden_sequences=tuple(sequences)), requests=tuple(requests), name=name,
    )


def _build(line: _Line, factory):
    try:
        return factory()
    except ProblemError as error:
        line.fail(str(error))


def _replace_leave(person: StaffMember, days: set[int]) -> StaffMember:
    from dataclasses import replace

    return replace(person, unavailable_days=frozenset(days))


def read_roster(path: str | Path) -> Roster:
    """Read a roster CSV with header ``employee,day,shift``."""
    path = Path(path)
    return parse_roster(path.read_text(encoding="utf-8"), where=str(path))


def parse_roster(text: str, *, where: str = "roster") -> Roster:
    """Parse roster CSV text; errors name the line."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip() for c in rows[0]] != ["employee", "day", "shift"]:
        raise ProblemError(f"{where}:1: header must be 'employee,day,shift'")
    items = []
    for number, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 3:
            raise ProblemError(f"{where}:{number}: expected 3 fields, got {len(row)}")
        try:
            day = int(row[1])
        except ValueError:
            raise ProblemError(f"{where}:{number}: day must be an integer, got {row[1]!r}") from None
        items.append(Assignment(row[0].strip(), day, row[2].strip()))
    return Roster(frozenset(items))


def format_roster(roster: Roster) -> str:
    """Roster as CSV text ``employee,day,shift`` sorted by employee and day."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["employee", "day", "shift"])
    for item in sorted(roster.assignments, key=lambda a: (a.staff_id, a.day)):
        writer.writerow([item.staff_id, item.day, item.shift])
    return out.getvalue()


def write_roster(roster: Roster, path: str | Path) -> None:
    """Write a roster CSV."""
    Path(path).write_text(format_roster(roster), encoding="utf-8")
