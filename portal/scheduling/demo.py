"""Scheduling in the demo hospital: rules and cover for both wards, bank holidays, three periods.

Ward 7 gets a past period and the current one, both published (so nurses see today's shifts,
the manager can try a sick call), and the next period with requests, leave and an optimised
draft, its request window open. Ward 12 gets its rules, cover and an empty next period.

Each roster comes from the solver in its deterministic mode (fixed seed, a limit counted in
CP-SAT's deterministic time, one interleaved search) and the search stops at the first roster
(the published periods) or the third improving one (the draft): the same demo day always gives
the same rosters, whatever the machine's load, in a few seconds each. A roster that cannot be
found stops the demo with a clear error; nothing half-built is kept.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import solver
from portal.extensions import db
from portal.models import ShiftType, Ward
from portal.scheduling import services
from portal.scheduling.models import (
    BankHoliday,
    CoverRequirement,
    DayType,
    DecisionStatus,
    Leave,
    LeaveKind,
    Priority,
    RequestKind,
    RequirementKind,
    RosterPeriod,
    ShiftRequest,
)

# England and Wales bank holidays (gov.uk), for the years the demo may fall in.
BANK_HOLIDAYS = {
    2025: [("01-01", "New Year's Day"), ("04-18", "Good Friday"), ("04-21", "Easter Monday"),
           ("05-05", "Early May bank holiday"), ("05-26", "Spring bank holiday"), ("08-25", "Summer bank holiday"),
           ("12-25", "Christmas Day"), ("12-26", "Boxing Day")],
    2026: [("01-01", "New Year's Day"), ("04-03", "Good Friday"), ("04-06", "Easter Monday"),
           ("05-04", "Early May bank holiday"), ("05-25", "Spring bank holiday"), ("08-31", "Summer bank holiday"),
           ("12-25", "Christmas Day"), ("12-28", "Boxing Day (substitute day)")],
    2027: [("01-01", "New Year's Day"), ("03-26", "Good Friday"), ("03-29", "Easter Monday"),
           ("05-03", "Early May bank holiday"), ("05-31", "Spring bank holiday"), ("08-30", "Summer bank holiday"),
           ("12-27", "Christmas Day (substitute day)"), ("12-28", "Boxing Day (substitute day)")],
    2028: [("01-03", "New Year's Day (substitute day)"), ("04-14", "Good Friday"), ("04-17", "Easter Monday"),
           ("05-01", "Early May bank holiday"), ("05-29", "Spring bank holiday"), ("08-28", "Summer bank holiday"),
           ("12-25", "Christmas Day"), ("12-26", "Boxing Day")],
}
# Deterministic time (CP-SAT's unit, independent of the machine's load). The first roster of the
# 45-staff ward needs about 1-2 units (2-6 s of wall time on 2 cores); the solver also caps the
# wall time at 10 times this.
DEMO_TIME_LIMIT = 6.0
ROSTERS_PUBLISHED = 1  # stop at the first valid roster for the past and current periods
ROSTERS_DRAFT = 3  # let the draft improve a little: stop at the third improving roster
PERIOD_DAYS = 28

# (shift code, counts, grade code or None, minimum, ideal) for every day type; weekend and bank
# holiday rows repeat the weekday ones.
COVER = {
    "W7": [("E", "total", None, 6, 7), ("L", "total", None, 6, 7), ("N", "total", None, 4, 5),
           ("E", "grade", "RN", 3, 4), ("L", "grade", "RN", 3, 4), ("N", "grade", "RN", 3, 3),
           ("E", "grade", "CN", 1, 1), ("L", "grade", "CN", 0, 1), ("N", "grade", "CN", 1, 1),
           ("N", "grade", "HCA", 1, 1), ("LD", "total", None, 0, 1)],
    "W12": [("E", "total", None, 4, 5), ("L", "total", None, 4, 5), ("N", "total", None, 3, 3),
            ("E", "grade", "RN", 2, 3), ("L", "grade", "RN", 2, 3), ("N", "grade", "RN", 2, 2),
            ("E", "grade", "CN", 0, 1), ("N", "grade", "CN", 0, 1), ("LD", "total", None, 0, 1)],
}


def add_demo_data(hospital) -> None:
    org = hospital.organisation
    for year, days in BANK_HOLIDAYS.items():
        for month_day, name in days:
            db.session.add(BankHoliday(organisation_id=org.id, day=date.fromisoformat(f"{year}-{month_day}"), name=name))
    db.session.flush()
    for ward in hospital.wards:
        _rules_and_cover(hospital, ward)
    today = hospital.today
    anchor = today - timedelta(days=today.weekday())
    current_start = anchor - timedelta(days=7)
    w7, w12 = hospital.wards
    manager = hospital.manager.user
    past = _period(w7, current_start - timedelta(days=PERIOD_DAYS))
    current = _period(w7, current_start)
    upcoming = _period(w7, current_start + timedelta(days=PERIOD_DAYS), open_on=today - timedelta(days=7))
    _period(w12, current_start + timedelta(days=PERIOD_DAYS), open_on=today - timedelta(days=7))
    db.session.flush()
    _requests_and_leave(hospital, w7, past, seed=1)
    for period in (past, current):
        cells = _solve(period, seed=3, rosters=ROSTERS_PUBLISHED)
        draft = services.write_draft(period, cells, run=None, based_on=None, actor=manager)
        services.publish_draft(period, manager, version=draft.version, note="Demo roster")
    _requests_and_leave(hospital, w7, upcoming, seed=2)
    cells = _solve(upcoming, seed=5, rosters=ROSTERS_DRAFT)
    services.write_draft(upcoming, cells, run=None, based_on=None, actor=manager)
    db.session.flush()


def _rules_and_cover(hospital, ward: Ward) -> None:
    rules = services.ward_rules(ward)
    rules.min_rest_hours = 11
    rules.max_consecutive_days = 5
    rules.max_consecutive_nights = 4
    rules.min_days_off_after_nights = 2
    rules.max_weekends_per_period = 2
    rules.complete_weekends = True
    rules.forbidden_sequences = [["N", "E"], ["N", "L"], ["N", "LD"]]
    rules.contract_tolerance_minutes = 600
    rules.optimiser_time_limit_s = 20
    shifts = {s.code: s for s in db.session.query(ShiftType).filter_by(ward_id=ward.id)}
    for code, kind, grade, minimum, ideal in COVER[ward.code]:
        for day_type in DayType:
            db.session.add(CoverRequirement(
                ward_id=ward.id, shift_type_id=shifts[code].id, day_type=day_type, kind=RequirementKind(kind),
                grade_id=hospital.grades[grade].id if grade else None, minimum=minimum, ideal=ideal))
    db.session.flush()


def _period(ward: Ward, start: date, open_on: date | None = None) -> RosterPeriod:
    period = RosterPeriod(ward_id=ward.id, start_date=start, end_date=start + timedelta(days=PERIOD_DAYS - 1),
                          requests_open_on=open_on or start - timedelta(days=42),
                          requests_close_on=start - timedelta(days=14))
    db.session.add(period)
    return period


def _requests_and_leave(hospital, ward: Ward, period: RosterPeriod, seed: int) -> None:
    import random

    rng = random.Random(seed)
    staff = hospital.staff_by_ward[ward.id]
    shifts = {s.code: s for s in db.session.query(ShiftType).filter_by(ward_id=ward.id)}
    seen: set = set()
    wishes: list[ShiftRequest] = []
    for person in rng.sample(staff, 18):
        contract = person.contract_on(period.start_date)
        nights = contract is None or contract.may_work_nights
        for _ in range(rng.randint(1, 3)):
            day = period.start_date + timedelta(days=rng.randrange(PERIOD_DAYS))
            kind = rng.choice([RequestKind.DAY_OFF, RequestKind.DAY_OFF, RequestKind.WORK_SHIFT, RequestKind.SHIFT_OFF])
            code = None if kind == RequestKind.DAY_OFF else rng.choice(["E", "L", "N"])
            if code == "N" and kind == RequestKind.WORK_SHIFT and not nights:
                code = "E"  # a nurse who does not work nights does not ask for one
            shift = shifts[code] if code else None
            key = (person.id, day, kind, shift.id if shift else None)
            if key in seen:
                continue
            seen.add(key)
            wishes.append(ShiftRequest(period_id=period.id, staff_id=person.id, day=day, kind=kind,
                                       shift_type_id=shift.id if shift else None,
                                       priority=Priority.HIGH if rng.random() < 0.3 else Priority.NORMAL,
                                       note="Family birthday" if kind == RequestKind.DAY_OFF else ""))
    nurse = hospital.nurse
    wishes.append(ShiftRequest(period_id=period.id, staff_id=nurse.id, day=period.start_date + timedelta(days=5),
                               kind=RequestKind.DAY_OFF, priority=Priority.HIGH, note="Graduation"))
    away: set = set()
    for person in rng.sample([s for s in staff if s is not nurse and s is not hospital.manager], 3):
        first = period.start_date + timedelta(days=rng.randrange(PERIOD_DAYS - 7))
        leave = Leave(staff_id=person.id, kind=LeaveKind.ANNUAL, start_date=first,
                      end_date=first + timedelta(days=rng.choice([2, 4, 6])), note="Holiday",
                      status=DecisionStatus.APPROVED, decided_by_id=hospital.manager.user.id)
        db.session.add(leave)
        away.update((person.id, leave.start_date + timedelta(days=k))
                    for k in range((leave.end_date - leave.start_date).days + 1))
    # The portal refuses a shift request on a day of leave; the demo makes none either.
    db.session.add_all(w for w in wishes if w.kind != RequestKind.WORK_SHIFT or (w.staff_id, w.day) not in away)
    db.session.flush()


class DemoRosterError(RuntimeError):
    """The demo could not build one of its rosters (the demo is then not created)."""


def _solve(period: RosterPeriod, seed: int, rosters: int) -> dict:
    """A valid roster for ``period``, the same for the same data: deterministic search, stopped early.

    Stops at the ``rosters``-th improving roster; raises ``DemoRosterError`` when there is none.
    """
    where = f"{period.ward.name}, {period.start_date:%-d %b} – {period.end_date:%-d %b %Y}"
    built = services.problem_for_period(period)
    if built.impossible_cover:
        raise DemoRosterError(f"The demo roster for {where} cannot meet its cover: " + " ".join(built.impossible_cover))
    found: list[solver.Progress] = []
    enough = threading.Event()

    def count(progress: solver.Progress) -> None:
        found.append(progress)
        if len(found) >= rosters:
            enough.set()  # read by the solver's callback right after this one: a deterministic stop

    options = solver.SolveOptions(time_limit_s=DEMO_TIME_LIMIT, workers=1, seed=seed, deterministic=True,
                                  strategy="cpsat", explain=False)
    result = solver.solve(built.problem, options, on_solution=count, stop_event=enough)
    if result.roster is None:
        raise DemoRosterError(
            f"The demo could not build a roster for {where}: the solver found none "
            f"(status {result.status.value}, {result.wall_s:.0f} s). Nothing was saved; run `portal demo` again.")
    check = solver.validate(built.problem, result.roster)
    if not check.is_valid:
        raise DemoRosterError(f"The demo roster for {where} breaks the ward's rules: "
                              + "; ".join(v.message for v in check.violations[:5]))
    return built.mapping.from_solver(result.roster)
