"""Route cases for the self-service scheduling pages (requests, leave, my roster, swaps, open shifts, calendar)."""

from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.scheduling import self_service as ss
from portal.scheduling.models import (
    AvailabilityKind,
    DecisionStatus,
    Priority,
    ReasonCategory,
    RecurringAvailability,
    RequestKind,
    ShiftRequest,
    SwapStatus,
)
from portal.timeutil import local_today
from tests.permissions import ANY_MANAGER, ANYONE, MANAGER_OF_WARD, MEMBER_OF_WARD, RouteCase
from tests.portal.scheduling.factories_self_service import (
    create_leave,
    create_open_shift,
    create_period,
    create_swap,
    current_period,
    publish,
)

# Accounts with a staff record (the test admin has none).
STAFF = frozenset({"nurse", "manager", "other_manager"})
STAFF_OF_WARD = frozenset({"nurse", "manager"})
NURSE_ONLY = frozenset({"nurse"})
COLLEAGUE_ONLY = frozenset({"manager"})  # the swap cases ask the manager (a nurse of the ward too)


def _nurse(c):
    return c.users["nurse"].staff


def _roster(c):
    """A period running now with a published roster: the nurse on Early in 4 days, the manager in 6."""
    period = current_period(c.ward)
    today = local_today()
    publish(period, {(_nurse(c), today + timedelta(days=4)): "E",
                     (c.users["manager"].staff, today + timedelta(days=6)): "E"})
    return period


def _request(c):
    item = ShiftRequest(period_id=c.ss_period.id, staff_id=_nurse(c).id, day=c.ss_period.start_date,
                        kind=RequestKind.DAY_OFF, priority=Priority.NORMAL)
    db.session.add(item)
    db.session.flush()
    return item


def _availability(c):
    item = RecurringAvailability(staff_id=_nurse(c).id, kind=AvailabilityKind.NO_NIGHTS, reason=ReasonCategory.HEALTH,
                                 valid_from=local_today(), status=DecisionStatus.PENDING)
    db.session.add(item)
    db.session.flush()
    return item


def _swap(c, status=SwapStatus.PROPOSED):
    period = c.ss_roster
    return create_swap(period, period.rosters[-1], _nurse(c), c.users["manager"].staff,
                       local_today() + timedelta(days=4), status=status)


BUILDERS = {
    "ss_period": lambda c: create_period(c.ward),
    "ss_request": _request,
    "ss_leave": lambda c: create_leave(_nurse(c), local_today() + timedelta(days=30), local_today() + timedelta(days=31)),
    "ss_availability": _availability,
    "ss_roster": _roster,
    "ss_swap": _swap,
    "ss_swap_accepted": lambda c: _swap(c, SwapStatus.ACCEPTED),
    "ss_open_shift": lambda c: create_open_shift(c.ss_roster, local_today() + timedelta(days=8)),
    "ss_calendar_secret": lambda c: ss.create_calendar_token(c.users["nurse"], _nurse(c)),
}

CASES = [
    # The nurse's own pages.
    RouteCase("scheduling.my_roster", "GET", lambda c: "/scheduling/my/roster", STAFF),
    RouteCase("scheduling.my_ward_roster", "GET", lambda c: f"/scheduling/my/wards/{c.ward.id}/roster", MEMBER_OF_WARD),
    RouteCase("scheduling.my_calendar", "GET", lambda c: "/scheduling/my/calendar", STAFF),
    RouteCase("scheduling.create_calendar_link", "POST", lambda c: "/scheduling/my/calendar/new", STAFF),
    RouteCase("scheduling.revoke_calendar_link", "POST", lambda c: "/scheduling/my/calendar/revoke", STAFF),
    RouteCase("scheduling.calendar_feed", "GET", lambda c: f"/scheduling/calendar/{c.ss_calendar_secret}.ics", ANYONE),
    RouteCase("scheduling.my_requests", "GET", lambda c: "/scheduling/my/requests", STAFF),
    RouteCase("scheduling.my_period_requests", "GET", lambda c: f"/scheduling/my/requests/{c.ss_period.id}", STAFF_OF_WARD),
    RouteCase("scheduling.my_period_requests", "POST", lambda c: f"/scheduling/my/requests/{c.ss_period.id}", STAFF_OF_WARD),
    RouteCase("scheduling.withdraw_request", "POST", lambda c: f"/scheduling/my/requests/item/{c.ss_request.id}/withdraw", NURSE_ONLY),
    RouteCase("scheduling.my_availability", "GET", lambda c: "/scheduling/my/availability", STAFF),
    RouteCase("scheduling.my_availability", "POST", lambda c: "/scheduling/my/availability", STAFF),
    RouteCase("scheduling.cancel_availability", "POST", lambda c: f"/scheduling/my/availability/{c.ss_availability.id}/cancel", NURSE_ONLY),
    RouteCase("scheduling.my_limits", "GET", lambda c: "/scheduling/my/limits", STAFF),
    RouteCase("scheduling.my_limits", "POST", lambda c: "/scheduling/my/limits", STAFF),
    RouteCase("scheduling.my_leave", "GET", lambda c: "/scheduling/my/leave", STAFF),
    RouteCase("scheduling.my_leave", "POST", lambda c: "/scheduling/my/leave", STAFF),
    RouteCase("scheduling.cancel_leave", "POST", lambda c: f"/scheduling/my/leave/{c.ss_leave.id}/cancel", NURSE_ONLY),
    RouteCase("scheduling.my_swaps", "GET", lambda c: "/scheduling/my/swaps", STAFF),
    RouteCase("scheduling.my_swaps", "POST", lambda c: "/scheduling/my/swaps", STAFF),
    RouteCase("scheduling.accept_swap", "POST", lambda c: f"/scheduling/swaps/{c.ss_swap.id}/accept", COLLEAGUE_ONLY),
    RouteCase("scheduling.decline_swap", "POST", lambda c: f"/scheduling/swaps/{c.ss_swap.id}/decline", COLLEAGUE_ONLY),
    RouteCase("scheduling.cancel_swap", "POST", lambda c: f"/scheduling/swaps/{c.ss_swap.id}/cancel", NURSE_ONLY),
    RouteCase("scheduling.my_open_shifts", "GET", lambda c: "/scheduling/my/open-shifts", STAFF),
    RouteCase("scheduling.claim_open_shift", "POST", lambda c: f"/scheduling/open-shifts/{c.ss_open_shift.id}/claim", STAFF_OF_WARD),
    RouteCase("scheduling.withdraw_open_shift_claim", "POST", lambda c: f"/scheduling/open-shifts/{c.ss_open_shift.id}/withdraw", STAFF_OF_WARD),
    # The manager's side.
    RouteCase("scheduling.decisions", "GET", lambda c: "/scheduling/decisions", ANY_MANAGER),
    RouteCase("scheduling.decide_leave", "GET", lambda c: f"/scheduling/leave/{c.ss_leave.id}", MANAGER_OF_WARD),
    RouteCase("scheduling.decide_leave", "POST", lambda c: f"/scheduling/leave/{c.ss_leave.id}", MANAGER_OF_WARD),
    RouteCase("scheduling.decide_availability", "POST", lambda c: f"/scheduling/availability/{c.ss_availability.id}/decide", MANAGER_OF_WARD),
    RouteCase("scheduling.approve_swap", "POST", lambda c: f"/scheduling/swaps/{c.ss_swap_accepted.id}/approve", MANAGER_OF_WARD),
    RouteCase("scheduling.refuse_swap", "POST", lambda c: f"/scheduling/swaps/{c.ss_swap_accepted.id}/refuse", MANAGER_OF_WARD),
    RouteCase("scheduling.ward_open_shifts", "GET", lambda c: f"/scheduling/wards/{c.ward.id}/open-shifts", MANAGER_OF_WARD),
    RouteCase("scheduling.ward_open_shifts", "POST", lambda c: f"/scheduling/wards/{c.ward.id}/open-shifts", MANAGER_OF_WARD),
    RouteCase("scheduling.confirm_open_shift", "POST", lambda c: f"/scheduling/open-shifts/{c.ss_open_shift.id}/confirm", MANAGER_OF_WARD),
    RouteCase("scheduling.cancel_open_shift", "POST", lambda c: f"/scheduling/open-shifts/{c.ss_open_shift.id}/cancel", MANAGER_OF_WARD),
]
