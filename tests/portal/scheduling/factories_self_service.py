"""Factories for the self-service tests: periods, published rosters, leave, swaps, open shifts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from portal.extensions import db
from portal.models import ShiftType, StaffMember, Ward
from portal.scheduling.models import (
    DecisionStatus,
    Leave,
    LeaveKind,
    OpenShift,
    Roster,
    RosterAssignment,
    RosterKind,
    RosterPeriod,
    SwapRequest,
    SwapStatus,
)
from portal.timeutil import local_today


def shift(ward: Ward, code: str) -> ShiftType:
    return next(s for s in ward.shift_types if s.code == code)


def create_period(ward: Ward, *, start: date | None = None, days: int = 28, opens: date | None = None,
                  closes: date | None = None) -> RosterPeriod:
    """A period starting three weeks from today whose request window is open today by default."""
    today = local_today()
    start = start or today + timedelta(days=21)
    period = RosterPeriod(ward_id=ward.id, start_date=start, end_date=start + timedelta(days=days - 1),
                          requests_open_on=opens or min(today - timedelta(days=7), start),
                          requests_close_on=closes or min(today + timedelta(days=7), start))
    db.session.add(period)
    db.session.flush()
    return period


def current_period(ward: Ward, days: int = 28) -> RosterPeriod:
    """A period that started a few days ago (window closed), for published-roster tests."""
    start = local_today() - timedelta(days=3)
    return create_period(ward, start=start, days=days, opens=start - timedelta(days=30),
                         closes=start - timedelta(days=10))


def publish(period: RosterPeriod, cells: dict[tuple[StaffMember, date], str], *, number: int | None = None,
            created_at: datetime | None = None) -> Roster:
    """Write a published roster version directly (no validation), next number by default."""
    if number is None:
        number = 1 + max((r.number or 0 for r in period.rosters if r.kind == RosterKind.PUBLISHED), default=0)
    roster = Roster(period_id=period.id, kind=RosterKind.PUBLISHED, number=number,
                    created_at=created_at or datetime.now(timezone.utc))
    db.session.add(roster)
    db.session.flush()
    for (person, day), code in cells.items():
        db.session.add(RosterAssignment(roster_id=roster.id, staff_id=person.id, day=day,
                                        shift_type_id=shift(period.ward, code).id))
    db.session.flush()
    db.session.refresh(period)
    return roster


def create_leave(staff: StaffMember, start: date, end: date, *, status: DecisionStatus = DecisionStatus.PENDING,
                 kind: LeaveKind = LeaveKind.ANNUAL) -> Leave:
    leave = Leave(staff_id=staff.id, kind=kind, start_date=start, end_date=end, status=status)
    db.session.add(leave)
    db.session.flush()
    return leave


def create_swap(period: RosterPeriod, roster: Roster, requester: StaffMember, colleague: StaffMember, give_day: date,
                *, status: SwapStatus = SwapStatus.PROPOSED, code: str = "E") -> SwapRequest:
    swap = SwapRequest(period_id=period.id, requester_id=requester.id, colleague_id=colleague.id, give_day=give_day,
                       give_shift_type_id=shift(period.ward, code).id, based_on_roster_id=roster.id, status=status)
    db.session.add(swap)
    db.session.flush()
    return swap


def create_open_shift(period: RosterPeriod, day: date, code: str = "E", skill_id: int | None = None) -> OpenShift:
    item = OpenShift(period_id=period.id, day=day, shift_type_id=shift(period.ward, code).id, skill_id=skill_id)
    db.session.add(item)
    db.session.flush()
    return item
