"""Self-service scheduling: requests, availability, personal rules, leave, my roster,
calendar tokens, swaps, open shifts and e-mail for notifications.

Services take plain arguments, refuse what breaks a rule with a ``SelfServiceError`` whose
message is fit for the nurse or manager, change rows, audit, notify and flush; the view
commits once. Roster changes (swaps, open shifts) go through ``portal.scheduling.services``
(``check_roster_change`` and ``publish_changes``), never through ``solver/`` directly.
"""

from __future__ import annotations

import hashlib
import secrets
import smtplib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.jobs import enqueue, job
from portal.models import (
    Notification,
    Role,
    RoleAssignment,
    ShiftType,
    Skill,
    StaffMember,
    User,
    Ward,
    WardMembership,
    utcnow,
)
from portal.scheduling.models import (
    AvailabilityKind,
    CalendarToken,
    DecisionStatus,
    Leave,
    LeaveKind,
    OpenShift,
    OpenShiftClaim,
    OpenShiftStatus,
    PersonalRule,
    PersonalRuleKind,
    Priority,
    ReasonCategory,
    RecurringAvailability,
    RequestKind,
    Roster,
    RosterAssignment,
    RosterKind,
    RosterPeriod,
    ShiftRequest,
    SwapRequest,
    SwapStatus,
    WardRules,
)
from portal.services import notify, record_audit
from portal.timeutil import local_today


class SelfServiceError(Exception):
    """A refusal with a message fit to show the person using the page.

    ``reasons`` carries the plain-language rule breaks from the roster validator;
    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, reasons: Iterable[str] = (), field: str | None = None):
        super().__init__(message)
        self.message = message
        self.reasons = list(reasons)
        self.field = field


def day_label(day: date) -> str:
    """Dates as nurses write them: "Tue 3 Dec"."""
    return f"{day:%a} {day.day} {day:%b}"


def day_span(start: date, end: date) -> str:
    return day_label(start) if start == end else f"{day_label(start)} – {day_label(end)}"


def readable_ink(colour: str) -> str:
    """Black-ish or white text, whichever contrasts more with a shift's colour."""
    try:
        red, green, blue = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    except (TypeError, ValueError, IndexError):
        return "#1b2430"

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    ink = 0.0144  # relative luminance of #1b2430
    on_white = 1.05 / (luminance + 0.05)
    on_ink = (luminance + 0.05) / (ink + 0.05)
    return "#ffffff" if on_white >= on_ink else "#1b2430"


def _check_version(obj: Any, submitted: str | int | None, what: str) -> None:
    """Refuse an action taken on a stale copy of ``obj`` (its version moved on)."""
    if submitted in (None, ""):
        return
    if str(submitted).isdigit() and int(submitted) == obj.version:
        return
    raise SelfServiceError(
        f"Someone else changed this {what} after you opened the page, so nothing was changed. "
        "The page now shows the latest version; check it and try again if still needed."
    )


# --- adapters to the roster side ----------------------------------------------------------

def _rosters():
    """The roster services (the only adapter to the solver); imported late to avoid cycles."""
    from portal.scheduling import services

    return services


def rules_for(ward: Ward) -> WardRules:
    return _rosters().ward_rules(ward)


def current_roster(period: RosterPeriod) -> Roster | None:
    return _rosters().current_published_roster(period)


def _check_changes(period: RosterPeriod, changes: list[tuple[int, date, int | None]]) -> list[str]:
    """The hard rules the published roster would break with ``changes``, in plain words."""
    services = _rosters()
    try:
        return list(services.check_roster_change(period, changes))
    except services.SchedulingError as exc:
        return list(exc.reasons)


def _publish(period: RosterPeriod, actor: User, changes: list[tuple[int, date, int | None]], note: str,
             base: Roster) -> Roster:
    """Publish a new version; on refusal raise SelfServiceError with the validator's reasons."""
    services = _rosters()
    try:
        # A savepoint: a refused publish leaves nothing half-written in this request.
        with db.session.begin_nested():
            return services.publish_changes(period, actor, changes, note, base_roster_id=base.id)
    except services.SchedulingError as exc:
        reasons = list(getattr(exc, "reasons", []) or [str(exc)])
        raise SelfServiceError("The roster's rules do not allow this change.", reasons) from exc


# --- people and wards ---------------------------------------------------------------------

def current_ward_ids(staff: StaffMember, today: date | None = None) -> set[int]:
    today = today or local_today()
    return {m.ward_id for m in staff.memberships if m.is_current(today)}


def current_wards(staff: StaffMember, today: date | None = None) -> list[Ward]:
    ids = current_ward_ids(staff, today)
    if not ids:
        return []
    return list(db.session.scalars(select(Ward).where(Ward.id.in_(ids)).order_by(Ward.name)))


def ward_managers(ward_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(RoleAssignment).where(RoleAssignment.role == Role.MANAGER,
                                                RoleAssignment.ward_id == ward_id, User.is_enabled)
    ).unique())


def _notify_managers(staff: StaffMember, kind: str, message: str, link: str = "") -> None:
    seen: set[int] = set()
    for ward_id in sorted(current_ward_ids(staff)):
        for manager in ward_managers(ward_id):
            if manager.id not in seen and (manager.staff is None or manager.staff.id != staff.id):
                seen.add(manager.id)
                notify(manager, kind, message, link)


def _notify_staff(staff: StaffMember, kind: str, message: str, link: str = "") -> None:
    if staff.user is not None:
        notify(staff.user, kind, message, link)


def ward_colleagues(ward: Ward, today: date | None = None) -> list[StaffMember]:
    today = today or local_today()
    people = db.session.scalars(
        select(StaffMember).join(WardMembership).where(WardMembership.ward_id == ward.id, StaffMember.is_active)
    ).unique()
    return sorted((p for p in people if any(m.ward_id == ward.id and m.is_current(today) for m in p.memberships)),
                  key=lambda p: p.display_name)


# --- periods and requests -----------------------------------------------------------------

def periods_for(staff: StaffMember, today: date | None = None) -> list[RosterPeriod]:
    """Periods of the person's wards that have not ended yet, soonest first."""
    today = today or local_today()
    ward_ids = current_ward_ids(staff, today)
    if not ward_ids:
        return []
    return list(db.session.scalars(
        select(RosterPeriod).where(RosterPeriod.ward_id.in_(ward_ids), RosterPeriod.end_date >= today)
        .order_by(RosterPeriod.start_date, RosterPeriod.ward_id)
    ))


def window_message(period: RosterPeriod, today: date | None = None) -> str | None:
    """Why requests cannot be made today, or None while the window is open."""
    today = today or local_today()
    span = day_span(period.start_date, period.end_date)
    if today < period.requests_open_on:
        return f"Requests for {span} open on {day_label(period.requests_open_on)}."
    if today > period.requests_close_on:
        return (f"Requests for {span} closed on {day_label(period.requests_close_on)}. "
                "If something important has come up, speak to your ward manager.")
    return None


def _require_window(period: RosterPeriod, today: date) -> None:
    message = window_message(period, today)
    if message:
        raise SelfServiceError(message)


def active_requests(period: RosterPeriod, staff: StaffMember) -> list[ShiftRequest]:
    return list(db.session.scalars(
        select(ShiftRequest).where(ShiftRequest.period_id == period.id, ShiftRequest.staff_id == staff.id,
                                   ShiftRequest.withdrawn_at.is_(None))
        .order_by(ShiftRequest.day, ShiftRequest.id)
    ))


def high_priority_used(period: RosterPeriod, staff: StaffMember) -> int:
    return sum(1 for r in active_requests(period, staff) if r.priority == Priority.HIGH)


def describe_request(request: ShiftRequest) -> str:
    shift = request.shift_type.name if request.shift_type else ""
    if request.kind == RequestKind.WORK_SHIFT:
        return f"Work {shift}"
    if request.kind == RequestKind.SHIFT_OFF:
        return f"No {shift}"
    return "Day off"


def add_request(actor: User, staff: StaffMember, period: RosterPeriod, *, day: date, kind: RequestKind,
                shift_type_id: int | None, priority: Priority, note: str = "",
                today: date | None = None) -> ShiftRequest:
    """Add a wish for one day while the period's request window is open."""
    today = today or local_today()
    if period.ward_id not in current_ward_ids(staff, today):
        raise SelfServiceError("You can only make requests for a ward you work on.")
    _require_window(period, today)
    if not period.start_date <= day <= period.end_date:
        raise SelfServiceError(
            f"Choose a day in this period ({day_span(period.start_date, period.end_date)}).", field="day")
    shift: ShiftType | None = None
    if kind == RequestKind.DAY_OFF:
        shift_type_id = None
    else:
        shift = db.session.get(ShiftType, shift_type_id) if shift_type_id else None
        if shift is None or shift.ward_id != period.ward_id or not shift.is_active:
            raise SelfServiceError("Choose which shift you mean.", field="shift_type_id")
        if kind == RequestKind.WORK_SHIFT:
            reason = _why_never_rostered(staff, day, shift)
            if reason:
                raise SelfServiceError(reason, field="shift_type_id")
    for other in active_requests(period, staff):
        if other.day != day:
            continue
        if other.kind == kind and other.shift_type_id == shift_type_id:
            raise SelfServiceError(f"You already asked for this on {day_label(day)}.", field="day")
        clash = (
            RequestKind.WORK_SHIFT in (kind, other.kind)
            and (RequestKind.DAY_OFF in (kind, other.kind) or other.kind == kind
                 or other.shift_type_id == shift_type_id)
        )
        if clash:
            raise SelfServiceError(
                f"This contradicts your request “{describe_request(other)}” on {day_label(day)}. "
                "Withdraw that one first if you have changed your mind.", field="day")
    if priority == Priority.HIGH:
        quota = rules_for(period.ward).high_priority_quota
        if quota <= 0:
            raise SelfServiceError("Your ward does not use high-priority requests; make this one normal priority.",
                                   field="priority")
        if high_priority_used(period, staff) >= quota:
            raise SelfServiceError(
                f"You have used all {quota} high-priority requests for this period. Make this one normal "
                "priority, or withdraw another high-priority request first.", field="priority")
    request = db.session.scalar(select(ShiftRequest).where(
        ShiftRequest.period_id == period.id, ShiftRequest.staff_id == staff.id, ShiftRequest.day == day,
        ShiftRequest.kind == kind,
        ShiftRequest.shift_type_id == shift_type_id if shift_type_id else ShiftRequest.shift_type_id.is_(None),
    ))
    if request is None:
        request = ShiftRequest(period_id=period.id, staff_id=staff.id, day=day, kind=kind,
                               shift_type_id=shift_type_id)
        db.session.add(request)
    # A withdrawn twin is brought back rather than duplicated (one row per wish).
    request.priority, request.note, request.withdrawn_at = priority, note.strip(), None
    request.created_at = utcnow()
    db.session.flush()
    record_audit(actor, "shift_request.added", request, day=day, kind=kind.value, priority=priority.value,
                 shift=shift.code if shift else None)
    return request


def _why_never_rostered(staff: StaffMember, day: date, shift: ShiftType) -> str | None:
    """Why the optimiser can never give ``staff`` this shift on ``day`` (a request for it could not be met)."""
    if shift.is_night:
        contract = staff.contract_on(day)
        if contract is not None and not contract.may_work_nights:
            return (f"Your contract does not include night shifts, so you cannot be rostered on a {shift.name} "
                    "shift. If that has changed, ask your manager to update your contract.")
    for item in availability_for(staff):
        if item.status == DecisionStatus.APPROVED and item.rules_out(day, shift):
            return (f"This clashes with your approved limit “{describe_availability(item)}”. "
                    "Cancel it on your Standing limits page first if it no longer applies.")
    leave = db.session.scalar(select(Leave).where(
        Leave.staff_id == staff.id, Leave.start_date <= day, Leave.end_date >= day,
        Leave.status.in_([DecisionStatus.PENDING, DecisionStatus.APPROVED])).limit(1))
    if leave is not None:
        if leave.status == DecisionStatus.APPROVED:
            return f"You are on approved leave on {day_label(day)}, so you cannot be rostered that day."
        return (f"You have asked for leave on {day_label(day)}. Cancel that leave request first if you "
                "would rather work that day.")
    return None


def withdraw_request(actor: User, request: ShiftRequest, today: date | None = None) -> None:
    today = today or local_today()
    if request.withdrawn_at is not None:
        raise SelfServiceError("That request was already withdrawn.")
    _require_window(request.period, today)
    request.withdrawn_at = utcnow()
    db.session.flush()
    record_audit(actor, "shift_request.withdrawn", request)


# --- recurring availability ---------------------------------------------------------------

WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
REASON_LABELS = {
    ReasonCategory.CARING: "Caring responsibilities",
    ReasonCategory.HEALTH: "Health",
    ReasonCategory.STUDY: "Study",
    ReasonCategory.RELIGION: "Religion or belief",
    ReasonCategory.SECOND_JOB: "Another job",
    ReasonCategory.OTHER: "Other",
}


def describe_availability(item: RecurringAvailability) -> str:
    if item.kind == AvailabilityKind.NO_NIGHTS:
        return "No nights"
    if item.kind == AvailabilityKind.NOT_WEEKDAY and item.weekday is not None:
        return f"Not on {WEEKDAYS[item.weekday]}"
    return f"No {item.shift_type.name} shifts" if item.shift_type else "Not a shift type"


def availability_for(staff: StaffMember) -> list[RecurringAvailability]:
    return list(db.session.scalars(
        select(RecurringAvailability).where(RecurringAvailability.staff_id == staff.id)
        .order_by(RecurringAvailability.valid_from.desc(), RecurringAvailability.id.desc())
    ))


def add_availability(actor: User, staff: StaffMember, *, kind: AvailabilityKind, weekday: int | None,
                     shift_type_id: int | None, reason: ReasonCategory, note: str, valid_from: date,
                     valid_to: date | None) -> RecurringAvailability:
    """Ask for a standing limit; the manager approves it before it binds the optimiser."""
    if kind == AvailabilityKind.NOT_WEEKDAY:
        if weekday is None or not 0 <= weekday <= 6:
            raise SelfServiceError("Choose the day of the week.", field="weekday")
        shift_type_id = None
    elif kind == AvailabilityKind.NOT_SHIFT:
        shift = db.session.get(ShiftType, shift_type_id) if shift_type_id else None
        if shift is None or shift.ward_id not in current_ward_ids(staff):
            raise SelfServiceError("Choose the shift you cannot work.", field="shift_type_id")
        weekday = None
    else:
        weekday, shift_type_id = None, None
    if valid_to is not None and valid_to < valid_from:
        raise SelfServiceError("The end date cannot be before the start date.", field="valid_to")
    for other in availability_for(staff):
        if (other.status in (DecisionStatus.PENDING, DecisionStatus.APPROVED) and other.kind == kind
                and other.weekday == weekday and other.shift_type_id == shift_type_id):
            raise SelfServiceError(f"You already have “{describe_availability(other)}” ({other.status.value}).",
                                   field="kind")
    item = RecurringAvailability(staff_id=staff.id, kind=kind, weekday=weekday, shift_type_id=shift_type_id,
                                 reason=reason, note=note.strip(), valid_from=valid_from, valid_to=valid_to,
                                 status=DecisionStatus.PENDING)
    db.session.add(item)
    db.session.flush()
    record_audit(actor, "availability.requested", item, kind=kind.value, weekday=weekday, reason=reason.value)
    _notify_managers(staff, "availability", f"{staff.display_name} asked for a standing limit: "
                     f"{describe_availability(item).lower()} ({REASON_LABELS[reason].lower()}).",
                     "/scheduling/decisions")
    return item


def cancel_availability(actor: User, item: RecurringAvailability) -> None:
    if item.status not in (DecisionStatus.PENDING, DecisionStatus.APPROVED):
        raise SelfServiceError("That limit is no longer active.")
    item.status = DecisionStatus.CANCELLED
    db.session.flush()
    record_audit(actor, "availability.cancelled", item)


def decide_availability(actor: User, item: RecurringAvailability, *, approve: bool) -> None:
    if item.status != DecisionStatus.PENDING:
        raise SelfServiceError(f"This was already {item.status.value} (after you opened the page); nothing was changed.")
    item.status = DecisionStatus.APPROVED if approve else DecisionStatus.DECLINED
    item.decided_by_id, item.decided_at = actor.id, utcnow()
    db.session.flush()
    record_audit(actor, f"availability.{item.status.value}", item)
    _notify_staff(item.staff, "request_decision",
                  f"Your standing limit “{describe_availability(item)}” was {item.status.value}.",
                  "/scheduling/my/availability")


# --- personal rules -----------------------------------------------------------------------

@dataclass(frozen=True)
class PersonalRuleSpec:
    kind: PersonalRuleKind
    ward_attribute: str
    label: str
    minimum: int


PERSONAL_RULES = (
    PersonalRuleSpec(PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS, "max_consecutive_nights", "nights in a row", 1),
    PersonalRuleSpec(PersonalRuleKind.MAX_CONSECUTIVE_DAYS, "max_consecutive_days", "working days in a row", 1),
    PersonalRuleSpec(PersonalRuleKind.MAX_WEEKENDS, "max_weekends_per_period", "weekends worked per period", 0),
)


def ward_limits(staff: StaffMember) -> dict[PersonalRuleKind, int]:
    """The strictest ward limit for each personal rule, over the person's current wards."""
    limits: dict[PersonalRuleKind, int] = {}
    for ward in current_wards(staff):
        rules = rules_for(ward)
        for spec in PERSONAL_RULES:
            value = getattr(rules, spec.ward_attribute)
            limits[spec.kind] = min(limits.get(spec.kind, value), value)
    return limits


def personal_rules(staff: StaffMember) -> dict[PersonalRuleKind, int]:
    rows = db.session.scalars(select(PersonalRule).where(PersonalRule.staff_id == staff.id))
    return {row.kind: row.value for row in rows}


def set_personal_rules(actor: User, staff: StaffMember, values: dict[PersonalRuleKind, int | None]) -> None:
    """Save the person's own limits; each must be inside the ward's (an empty value removes it)."""
    limits = ward_limits(staff)
    for spec in PERSONAL_RULES:
        value = values.get(spec.kind)
        if value is None:
            continue
        limit = limits.get(spec.kind)
        if value < spec.minimum:
            raise SelfServiceError(f"Choose at least {spec.minimum}.", field=spec.kind.value)
        if limit is not None and value > limit:
            raise SelfServiceError(f"Your ward allows at most {limit} {spec.label}; choose {limit} or fewer.",
                                   field=spec.kind.value)
    rows = {row.kind: row for row in db.session.scalars(select(PersonalRule).where(PersonalRule.staff_id == staff.id))}
    for spec in PERSONAL_RULES:
        value, row = values.get(spec.kind), rows.get(spec.kind)
        if value is None and row is not None:
            db.session.delete(row)
        elif value is not None and row is None:
            db.session.add(PersonalRule(staff_id=staff.id, kind=spec.kind, value=value))
        elif value is not None and row is not None:
            row.value = value
    db.session.flush()
    record_audit(actor, "personal_rules.saved", staff, **{k.value: v for k, v in values.items()})


# --- leave --------------------------------------------------------------------------------

NURSE_LEAVE_KINDS = (LeaveKind.ANNUAL, LeaveKind.STUDY, LeaveKind.OTHER)
LEAVE_LABELS = {LeaveKind.ANNUAL: "Annual leave", LeaveKind.STUDY: "Study leave",
                LeaveKind.SICKNESS: "Sickness", LeaveKind.OTHER: "Other leave"}


def describe_leave(leave: Leave) -> str:
    return f"{LEAVE_LABELS[leave.kind]} {day_span(leave.start_date, leave.end_date)}"


def leave_phrase(leave: Leave) -> str:
    """Mid-sentence form: "annual leave Tue 3 Dec – Fri 6 Dec"."""
    return f"{LEAVE_LABELS[leave.kind].lower()} {day_span(leave.start_date, leave.end_date)}"


def leave_for(staff: StaffMember) -> list[Leave]:
    return list(db.session.scalars(
        select(Leave).where(Leave.staff_id == staff.id).order_by(Leave.start_date.desc(), Leave.id.desc())
    ))


def request_leave(actor: User, staff: StaffMember, *, kind: LeaveKind, start_date: date, end_date: date,
                  note: str = "", today: date | None = None) -> Leave:
    """Ask for leave; refused when it overlaps the person's own pending or approved leave."""
    today = today or local_today()
    if kind not in NURSE_LEAVE_KINDS:
        raise SelfServiceError("Choose annual, study or other leave.", field="kind")
    if end_date < start_date:
        raise SelfServiceError("The last day cannot be before the first day.", field="end_date")
    if start_date < today:
        raise SelfServiceError("Leave cannot start in the past.", field="start_date")
    overlap = db.session.scalar(select(Leave).where(
        Leave.staff_id == staff.id, Leave.status.in_([DecisionStatus.PENDING, DecisionStatus.APPROVED]),
        Leave.start_date <= end_date, Leave.end_date >= start_date,
    ).order_by(Leave.start_date).limit(1))
    if overlap is not None:
        raise SelfServiceError(
            f"This overlaps your {leave_phrase(overlap)} ({overlap.status.value}). "
            "Change the dates, or cancel that leave first.", field="start_date")
    leave = Leave(staff_id=staff.id, kind=kind, start_date=start_date, end_date=end_date, note=note.strip(),
                  status=DecisionStatus.PENDING)
    db.session.add(leave)
    db.session.flush()
    record_audit(actor, "leave.requested", leave, kind=kind.value, start=start_date, end=end_date)
    conflicts = leave_conflicts(leave)
    overlap = (f" It overlaps {len(conflicts)} published shift{'s' if len(conflicts) != 1 else ''}."
               if conflicts else "")
    _notify_managers(staff, "leave", f"{staff.display_name} asked for {leave_phrase(leave)}.{overlap}",
                     f"/scheduling/leave/{leave.id}")
    return leave


def cancel_leave(actor: User, leave: Leave, version: str | int | None, today: date | None = None) -> None:
    today = today or local_today()
    _check_version(leave, version, "leave")
    if leave.status not in (DecisionStatus.PENDING, DecisionStatus.APPROVED) or leave.end_date < today:
        raise SelfServiceError("This leave can no longer be cancelled.")
    was = leave.status
    leave.status = DecisionStatus.CANCELLED
    db.session.flush()
    record_audit(actor, "leave.cancelled", leave, was=was.value)
    if was == DecisionStatus.APPROVED:
        _notify_managers(leave.staff, "leave", f"{leave.staff.display_name} cancelled their approved "
                         f"{leave_phrase(leave)}.", f"/scheduling/leave/{leave.id}")


def decide_leave(actor: User, leave: Leave, *, approve: bool, note: str = "",
                 version: str | int | None = None) -> None:
    """Approve or decline pending leave; a stale page or a decided request is refused."""
    if leave.status != DecisionStatus.PENDING:
        who = f" by {leave.decided_by.display_name}" if leave.decided_by else ""
        raise SelfServiceError(f"This leave was already {leave.status.value}{who}; nothing was changed.")
    _check_version(leave, version, "leave request")
    leave.status = DecisionStatus.APPROVED if approve else DecisionStatus.DECLINED
    leave.decided_by_id, leave.decided_at, leave.decision_note = actor.id, utcnow(), note.strip()
    db.session.flush()
    record_audit(actor, f"leave.{leave.status.value}", leave, note=leave.decision_note)
    message = f"Your {leave_phrase(leave)} was {leave.status.value}."
    if leave.decision_note:
        message += f" Note: {leave.decision_note}"
    _notify_staff(leave.staff, "request_decision", message, "/scheduling/my/leave")


@dataclass
class LeaveConflict:
    """A published shift the person would miss if the leave were taken."""

    day: date
    shift_type: ShiftType
    period: RosterPeriod
    roster_number: int

    @property
    def label(self) -> str:
        return f"{self.shift_type.name} on {day_label(self.day)}"


def leave_conflicts(leave: Leave) -> list[LeaveConflict]:
    """Shifts of the current published rosters that fall inside the leave."""
    period_ids = db.session.scalars(
        select(Roster.period_id).join(RosterAssignment).where(
            RosterAssignment.staff_id == leave.staff_id, Roster.kind == RosterKind.PUBLISHED,
            RosterAssignment.day >= leave.start_date, RosterAssignment.day <= leave.end_date)
        .distinct()
    ).all()
    conflicts: list[LeaveConflict] = []
    for period in db.session.scalars(select(RosterPeriod).where(RosterPeriod.id.in_(period_ids))):
        roster = current_roster(period)
        if roster is None:
            continue
        for a in db.session.scalars(select(RosterAssignment).where(
                RosterAssignment.roster_id == roster.id, RosterAssignment.staff_id == leave.staff_id,
                RosterAssignment.day >= leave.start_date, RosterAssignment.day <= leave.end_date)):
            conflicts.append(LeaveConflict(a.day, a.shift_type, period, roster.number or 0))
    return sorted(conflicts, key=lambda c: c.day)


# --- my roster and the ward roster ----------------------------------------------------------

@dataclass
class PublishedShift:
    day: date
    shift_type: ShiftType
    ward: Ward
    period: RosterPeriod
    roster: Roster
    colleagues: list[str] = field(default_factory=list)

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.day, self.shift_type.start_time)

    @property
    def ends_at(self) -> datetime:
        end_day = self.day + timedelta(days=1) if self.shift_type.crosses_midnight else self.day
        return datetime.combine(end_day, self.shift_type.end_time)


def _current_rosters(staff: StaffMember, start: date, end: date) -> list[Roster]:
    ward_ids = {m.ward_id for m in staff.memberships}
    if not ward_ids:
        return []
    periods = db.session.scalars(select(RosterPeriod).where(
        RosterPeriod.ward_id.in_(ward_ids), RosterPeriod.end_date >= start, RosterPeriod.start_date <= end)
        .order_by(RosterPeriod.start_date))
    return [r for r in (current_roster(p) for p in periods) if r is not None]


def published_shifts(staff: StaffMember, start: date, end: date, *, with_colleagues: bool = True) -> list[PublishedShift]:
    """The person's shifts in the current published rosters between two days, with who else is on."""
    shifts: list[PublishedShift] = []
    for roster in _current_rosters(staff, start, end):
        rows = db.session.scalars(select(RosterAssignment).where(
            RosterAssignment.roster_id == roster.id, RosterAssignment.day >= start, RosterAssignment.day <= end))
        by_slot: dict[tuple[date, int], list[RosterAssignment]] = defaultdict(list)
        mine: list[RosterAssignment] = []
        for row in rows:
            by_slot[(row.day, row.shift_type_id)].append(row)
            if row.staff_id == staff.id:
                mine.append(row)
        for row in mine:
            names = sorted(o.staff.display_name for o in by_slot[(row.day, row.shift_type_id)]
                           if o.staff_id != staff.id) if with_colleagues else []
            shifts.append(PublishedShift(row.day, row.shift_type, roster.period.ward, roster.period, roster, names))
    return sorted(shifts, key=lambda s: (s.day, s.shift_type.start_time))


def shift_on(staff_id: int, roster: Roster | None, day: date) -> RosterAssignment | None:
    if roster is None:
        return None
    return db.session.scalar(select(RosterAssignment).where(
        RosterAssignment.roster_id == roster.id, RosterAssignment.staff_id == staff_id, RosterAssignment.day == day))


@dataclass
class WardRosterGrid:
    period: RosterPeriod
    roster: Roster | None
    days: list[date]
    rows: list[tuple[StaffMember, list[ShiftType | None]]]


def ward_roster_periods(ward: Ward) -> list[RosterPeriod]:
    return list(db.session.scalars(select(RosterPeriod).where(RosterPeriod.ward_id == ward.id)
                                   .order_by(RosterPeriod.start_date)))


def default_period(periods: list[RosterPeriod], today: date | None = None) -> RosterPeriod | None:
    """The period covering today, else the next one, else the latest."""
    today = today or local_today()
    for period in periods:
        if period.start_date <= today <= period.end_date:
            return period
    upcoming = [p for p in periods if p.start_date > today]
    return upcoming[0] if upcoming else (periods[-1] if periods else None)


def ward_roster_grid(period: RosterPeriod) -> WardRosterGrid:
    roster = current_roster(period)
    days = [period.start_date + timedelta(days=i) for i in range(period.days)]
    cells: dict[int, dict[date, ShiftType]] = defaultdict(dict)
    people: dict[int, StaffMember] = {}
    if roster is not None:
        for row in roster.assignments:
            cells[row.staff_id][row.day] = row.shift_type
            people[row.staff_id] = row.staff
    for person in ward_colleagues(period.ward, period.start_date):
        people.setdefault(person.id, person)
    ordered = sorted(people.values(), key=lambda p: (-p.grade.rank, p.display_name))
    return WardRosterGrid(period, roster, days, [(p, [cells[p.id].get(d) for d in days]) for p in ordered])


# --- calendar subscription ----------------------------------------------------------------

def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def active_calendar_token(staff: StaffMember) -> CalendarToken | None:
    return db.session.scalar(select(CalendarToken).where(
        CalendarToken.staff_id == staff.id, CalendarToken.revoked_at.is_(None)).order_by(CalendarToken.id.desc()))


def create_calendar_token(actor: User, staff: StaffMember) -> str:
    """Make a new subscription secret (revoking any old one) and return it; only its hash is kept."""
    revoke_calendar_tokens(actor, staff, audit=False)
    secret = secrets.token_urlsafe(32)
    token = CalendarToken(staff_id=staff.id, token_hash=_hash_secret(secret))
    db.session.add(token)
    db.session.flush()
    record_audit(actor, "calendar_token.created", token)
    return secret


def revoke_calendar_tokens(actor: User, staff: StaffMember, *, audit: bool = True) -> int:
    tokens = db.session.scalars(select(CalendarToken).where(
        CalendarToken.staff_id == staff.id, CalendarToken.revoked_at.is_(None))).all()
    for token in tokens:
        token.revoked_at = utcnow()
    db.session.flush()
    if audit and tokens:
        record_audit(actor, "calendar_token.revoked", staff, count=len(tokens))
    return len(tokens)


def staff_for_calendar_secret(secret: str) -> StaffMember | None:
    if not secret or len(secret) > 200:
        return None
    token = db.session.scalar(select(CalendarToken).where(
        CalendarToken.token_hash == _hash_secret(secret), CalendarToken.revoked_at.is_(None)))
    if token is None or not token.staff.is_active:
        return None
    return token.staff


def calendar_shifts(staff: StaffMember, today: date | None = None) -> list[PublishedShift]:
    """What the feed holds: the last eight weeks and everything published ahead."""
    today = today or local_today()
    return published_shifts(staff, today - timedelta(weeks=8), today + timedelta(days=400))


# --- swaps --------------------------------------------------------------------------------

def swaps_for(staff: StaffMember) -> list[SwapRequest]:
    return list(db.session.scalars(
        select(SwapRequest).where((SwapRequest.requester_id == staff.id) | (SwapRequest.colleague_id == staff.id))
        .order_by(SwapRequest.created_at.desc(), SwapRequest.id.desc()).limit(50)
    ))


def describe_swap(swap: SwapRequest) -> str:
    give = f"{swap.give_shift_type.name} on {day_label(swap.give_day)}"
    if swap.take_day is None or swap.take_shift_type is None:
        return f"{swap.requester.display_name} gives {swap.colleague.display_name} their {give}"
    take = f"{swap.take_shift_type.name} on {day_label(swap.take_day)}"
    return (f"{swap.requester.display_name}’s {give} for "
            f"{swap.colleague.display_name}’s {take}")


def swap_changes(requester_id: int, colleague_id: int, give_day: date, give_shift_type_id: int,
                 take_day: date | None, take_shift_type_id: int | None) -> list[tuple[int, date, int | None]]:
    """The roster cells a swap changes: who works what afterwards (None: off)."""
    cells: dict[tuple[int, date], int | None] = {(requester_id, give_day): None}
    if take_day is not None:
        cells[(colleague_id, take_day)] = None
    cells[(colleague_id, give_day)] = give_shift_type_id
    if take_day is not None and take_shift_type_id is not None:
        cells[(requester_id, take_day)] = take_shift_type_id
    return [(staff_id, day, shift) for (staff_id, day), shift in cells.items()]


def _swap_shifts_still_hold(swap: SwapRequest, roster: Roster | None) -> str | None:
    """Why the shifts named in the swap no longer match the published roster, if they do not."""
    mine = shift_on(swap.requester_id, roster, swap.give_day)
    if mine is None or mine.shift_type_id != swap.give_shift_type_id:
        return (f"The roster changed since this swap was proposed: {swap.requester.display_name} no longer "
                f"works {swap.give_shift_type.name} on {day_label(swap.give_day)}.")
    if swap.take_day is not None:
        theirs = shift_on(swap.colleague_id, roster, swap.take_day)
        if theirs is None or theirs.shift_type_id != swap.take_shift_type_id:
            name = swap.take_shift_type.name if swap.take_shift_type else "that shift"
            return (f"The roster changed since this swap was proposed: {swap.colleague.display_name} no longer "
                    f"works {name} on {day_label(swap.take_day)}.")
    return None


def propose_swap(actor: User, requester: StaffMember, *, period: RosterPeriod, give_day: date,
                 colleague: StaffMember, take_day: date | None, message: str = "",
                 today: date | None = None) -> SwapRequest:
    """Offer a published shift to a colleague (optionally for one of theirs), if the rules allow it."""
    today = today or local_today()
    roster = current_roster(period)
    if roster is None:
        raise SelfServiceError("This period has no published roster yet.")
    if give_day <= today:
        raise SelfServiceError("Only shifts from tomorrow onwards can be swapped.", field="give")
    mine = shift_on(requester.id, roster, give_day)
    if mine is None:
        raise SelfServiceError(f"You have no shift on {day_label(give_day)} in the published roster "
                               "(it may have just changed).", field="give")
    if colleague.id == requester.id or period.ward_id not in current_ward_ids(colleague, today):
        raise SelfServiceError("Choose a colleague from the same ward.", field="colleague")
    theirs = None
    if take_day is not None:
        if not period.start_date <= take_day <= period.end_date:
            raise SelfServiceError(f"Choose a day in the same roster period "
                                   f"({day_span(period.start_date, period.end_date)}).", field="take_day")
        if take_day <= today:
            raise SelfServiceError("Only shifts from tomorrow onwards can be swapped.", field="take_day")
        theirs = shift_on(colleague.id, roster, take_day)
        if theirs is None:
            raise SelfServiceError(f"{colleague.display_name} has no shift on {day_label(take_day)}.",
                                   field="take_day")
    if take_day != give_day:
        busy = shift_on(colleague.id, roster, give_day)
        if busy is not None:
            raise SelfServiceError(f"{colleague.display_name} already works {busy.shift_type.name} on "
                                   f"{day_label(give_day)}. Pick that day as the shift you take to swap "
                                   "shifts on the same day.", field="colleague")
        if take_day is not None:
            clash = shift_on(requester.id, roster, take_day)
            if clash is not None:
                raise SelfServiceError(f"You already work {clash.shift_type.name} on {day_label(take_day)}.",
                                       field="take_day")
    open_swap = db.session.scalar(select(SwapRequest).where(
        SwapRequest.requester_id == requester.id, SwapRequest.give_day == give_day,
        SwapRequest.status.in_([SwapStatus.PROPOSED, SwapStatus.ACCEPTED])))
    if open_swap is not None:
        raise SelfServiceError(f"You already offered your shift on {day_label(give_day)} to "
                               f"{open_swap.colleague.display_name}. Cancel that offer first.", field="give")
    changes = swap_changes(requester.id, colleague.id, give_day, mine.shift_type_id, take_day,
                           theirs.shift_type_id if theirs else None)
    reasons = _check_changes(period, changes)
    if reasons:
        raise SelfServiceError("This swap would break the ward's rules, so it was not sent:", reasons)
    swap = SwapRequest(period_id=period.id, requester_id=requester.id, colleague_id=colleague.id,
                       give_day=give_day, give_shift_type_id=mine.shift_type_id, take_day=take_day,
                       take_shift_type_id=theirs.shift_type_id if theirs else None, message=message.strip(),
                       based_on_roster_id=roster.id, status=SwapStatus.PROPOSED)
    db.session.add(swap)
    db.session.flush()
    record_audit(actor, "swap.proposed", swap, colleague=colleague.id, give=give_day, take=take_day)
    _notify_staff(colleague, "swap", f"{requester.display_name} asks you to swap: {describe_swap(swap)}.",
                  "/scheduling/my/swaps")
    return swap


def _require_status(swap: SwapRequest, *statuses: SwapStatus) -> None:
    if swap.status not in statuses:
        raise SelfServiceError(f"This swap is already {swap.status.value} (it changed after you opened the page); "
                               "nothing was changed.")


def _refuse_swap(swap: SwapRequest, reasons: list[str], actor: User | None) -> None:
    swap.status, swap.outcome = SwapStatus.REFUSED, "\n".join(reasons)
    swap.decided_at, swap.decided_by_id = utcnow(), actor.id if actor else None
    db.session.flush()
    record_audit(actor, "swap.refused", swap, reasons=reasons)
    text = f"The swap ({describe_swap(swap)}) was refused: " + " ".join(reasons)
    for person in (swap.requester, swap.colleague):
        _notify_staff(person, "swap", text, "/scheduling/my/swaps")


def _apply_swap(actor: User, swap: SwapRequest) -> None:
    """Re-check against the roster as published now and publish the swap, or refuse it with reasons."""
    roster = current_roster(swap.period)
    stale = _swap_shifts_still_hold(swap, roster)
    if stale:
        _refuse_swap(swap, [stale], actor)
        return
    changes = swap_changes(swap.requester_id, swap.colleague_id, swap.give_day, swap.give_shift_type_id,
                           swap.take_day, swap.take_shift_type_id)
    try:
        new = _publish(swap.period, actor, changes, f"Swap: {describe_swap(swap)}", roster)  # type: ignore[arg-type]
    except SelfServiceError as exc:
        latest = current_roster(swap.period)
        if latest is not None and roster is not None and latest.id != roster.id:
            # Someone published at the same moment: not the swap's fault, so it is kept for a retry.
            raise SelfServiceError("The roster was published again just now, so the swap was not applied yet. "
                                   "Try again in a moment.") from exc
        _refuse_swap(swap, exc.reasons, actor)
        return
    swap.status, swap.applied_roster_id = SwapStatus.APPLIED, new.id
    swap.decided_at = utcnow()
    db.session.flush()
    record_audit(actor, "swap.applied", swap, roster=new.id)
    _notify_staff(swap.requester, "swap", f"Your swap is done and published: {describe_swap(swap)}.",
                  "/scheduling/my/roster")


def accept_swap(actor: User, swap: SwapRequest, version: str | int | None) -> SwapRequest:
    """The colleague agrees: apply now, or wait for the manager where the ward requires it."""
    _require_status(swap, SwapStatus.PROPOSED)
    _check_version(swap, version, "swap")
    roster = current_roster(swap.period)
    stale = _swap_shifts_still_hold(swap, roster)
    reasons = [stale] if stale else _check_changes(swap.period, swap_changes(
        swap.requester_id, swap.colleague_id, swap.give_day, swap.give_shift_type_id, swap.take_day,
        swap.take_shift_type_id))
    if reasons:
        _refuse_swap(swap, reasons, actor)
        return swap
    record_audit(actor, "swap.accepted", swap)
    if rules_for(swap.period.ward).swaps_need_approval:
        swap.status = SwapStatus.ACCEPTED
        db.session.flush()
        _notify_staff(swap.requester, "swap", f"{swap.colleague.display_name} accepted your swap; it now "
                      "waits for the ward manager's approval.", "/scheduling/my/swaps")
        for manager in ward_managers(swap.period.ward_id):
            notify(manager, "swap", f"A swap waits for your approval: {describe_swap(swap)}.",
                   "/scheduling/decisions")
    else:
        _apply_swap(actor, swap)
    return swap


def decline_swap(actor: User, swap: SwapRequest, version: str | int | None) -> None:
    _require_status(swap, SwapStatus.PROPOSED)
    _check_version(swap, version, "swap")
    swap.status, swap.decided_at = SwapStatus.DECLINED, utcnow()
    db.session.flush()
    record_audit(actor, "swap.declined", swap)
    _notify_staff(swap.requester, "swap", f"{swap.colleague.display_name} declined your swap "
                  f"({describe_swap(swap)}).", "/scheduling/my/swaps")


def cancel_swap(actor: User, swap: SwapRequest, version: str | int | None) -> None:
    _require_status(swap, SwapStatus.PROPOSED, SwapStatus.ACCEPTED)
    _check_version(swap, version, "swap")
    swap.status, swap.decided_at = SwapStatus.CANCELLED, utcnow()
    db.session.flush()
    record_audit(actor, "swap.cancelled", swap)
    _notify_staff(swap.colleague, "swap", f"{swap.requester.display_name} withdrew the swap "
                  f"({describe_swap(swap)}).", "/scheduling/my/swaps")


def approve_swap(actor: User, swap: SwapRequest, version: str | int | None) -> SwapRequest:
    _require_status(swap, SwapStatus.ACCEPTED)
    _check_version(swap, version, "swap")
    swap.decided_by_id = actor.id
    _apply_swap(actor, swap)
    if swap.status == SwapStatus.APPLIED:
        _notify_staff(swap.colleague, "swap", f"The manager approved the swap: {describe_swap(swap)}.",
                      "/scheduling/my/roster")
    return swap


def refuse_swap(actor: User, swap: SwapRequest, version: str | int | None, note: str = "") -> None:
    _require_status(swap, SwapStatus.ACCEPTED)
    _check_version(swap, version, "swap")
    _refuse_swap(swap, [f"The ward manager did not approve it.{(' ' + note.strip()) if note.strip() else ''}"], actor)


def swaps_waiting_for(ward_ids: Iterable[int]) -> list[SwapRequest]:
    ids = list(ward_ids)
    if not ids:
        return []
    return list(db.session.scalars(select(SwapRequest).join(RosterPeriod).where(
        RosterPeriod.ward_id.in_(ids), SwapRequest.status == SwapStatus.ACCEPTED).order_by(SwapRequest.give_day)))


# --- open shifts --------------------------------------------------------------------------

def open_shifts_for_wards(ward_ids: Iterable[int], today: date | None = None, *,
                          include_closed: bool = False) -> list[OpenShift]:
    today = today or local_today()
    ids = list(ward_ids)
    if not ids:
        return []
    stmt = select(OpenShift).join(RosterPeriod).where(RosterPeriod.ward_id.in_(ids), OpenShift.day >= today)
    if not include_closed:
        stmt = stmt.where(OpenShift.status == OpenShiftStatus.OPEN)
    return list(db.session.scalars(stmt.order_by(OpenShift.day, OpenShift.id)))


def period_covering(ward: Ward, day: date) -> RosterPeriod | None:
    return db.session.scalar(select(RosterPeriod).where(
        RosterPeriod.ward_id == ward.id, RosterPeriod.start_date <= day, RosterPeriod.end_date >= day))


def post_open_shift(actor: User, ward: Ward, *, day: date, shift_type_id: int,
                    skill_id: int | None, note: str = "", today: date | None = None) -> OpenShift:
    """Post a shift that needs filling on a published roster of the ward."""
    today = today or local_today()
    period = period_covering(ward, day)
    if period is None:
        raise SelfServiceError(f"No roster period of {ward.name} covers {day_label(day)}.", field="day")
    if day < today:
        raise SelfServiceError("That day has passed.", field="day")
    if current_roster(period) is None:
        raise SelfServiceError("Publish the roster before posting open shifts.")
    shift = db.session.get(ShiftType, shift_type_id)
    if shift is None or shift.ward_id != period.ward_id:
        raise SelfServiceError("Choose a shift of this ward.", field="shift_type_id")
    if skill_id is not None and db.session.get(Skill, skill_id) is None:
        raise SelfServiceError("Choose a skill from the list.", field="skill_id")
    item = OpenShift(period_id=period.id, day=day, shift_type_id=shift.id, skill_id=skill_id, note=note.strip(),
                     posted_by_id=actor.id, status=OpenShiftStatus.OPEN)
    db.session.add(item)
    db.session.flush()
    record_audit(actor, "open_shift.posted", item, day=day, shift=shift.code)
    for person in ward_colleagues(period.ward, today):
        if person.user is not None and person.user.id != actor.id:
            notify(person.user, "open_shift", f"Open shift on {period.ward.name}: {shift.name} on {day_label(day)}.",
                   "/scheduling/my/open-shifts")
    return item


def contract_minutes(staff: StaffMember, start: date, end: date) -> int:
    total = 0.0
    day = start
    while day <= end:
        contract = staff.contract_on(day)
        total += (contract.minutes_per_week / 7) if contract else 0
        day += timedelta(days=1)
    return round(total)


def worked_minutes(staff: StaffMember, roster: Roster | None) -> int:
    if roster is None:
        return 0
    return sum(a.shift_type.paid_minutes for a in roster.assignments if a.staff_id == staff.id)


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".rstrip("0").rstrip(".") + " h"


def open_shift_eligibility(item: OpenShift, staff: StaffMember, today: date | None = None) -> list[str]:
    """Why this person cannot take the open shift (empty: they can)."""
    today = today or local_today()
    period = item.period
    if period.ward_id not in current_ward_ids(staff, today):
        return [f"You are not on the staff of {period.ward.name}."]
    reasons: list[str] = []
    if item.skill_id is not None and all(s.id != item.skill_id for s in staff.skills):
        skill = db.session.get(Skill, item.skill_id)
        reasons.append(f"It needs {skill.name if skill else 'a skill'}, which is not on your record.")
    roster = current_roster(period)
    busy = shift_on(staff.id, roster, item.day)
    if busy is not None:
        reasons.append(f"You already work {busy.shift_type.name} on {day_label(item.day)}.")
        return reasons
    tolerance = rules_for(period.ward).contract_tolerance_minutes
    allowed = contract_minutes(staff, period.start_date, period.end_date) + tolerance
    after = worked_minutes(staff, roster) + item.shift_type.paid_minutes
    if after > allowed:
        reasons.append(f"It would take you to {_hours(after)} in this period, more than your contract "
                       f"plus the ward's allowance ({_hours(allowed)}).")
    if not reasons:
        reasons.extend(_check_changes(period, [(staff.id, item.day, item.shift_type_id)]))
    return reasons


def active_claims(item: OpenShift) -> list[OpenShiftClaim]:
    return [c for c in item.claims if c.withdrawn_at is None]


def has_claimed(item: OpenShift, staff: StaffMember) -> bool:
    return any(c.staff_id == staff.id for c in active_claims(item))


def claim_open_shift(actor: User, staff: StaffMember, item: OpenShift, today: date | None = None) -> OpenShiftClaim:
    if item.status != OpenShiftStatus.OPEN:
        raise SelfServiceError(f"This shift is no longer open (it was {item.status.value}).")
    if has_claimed(item, staff):
        raise SelfServiceError("You have already offered to take this shift.")
    reasons = open_shift_eligibility(item, staff, today)
    if reasons:
        raise SelfServiceError("You cannot take this shift:", reasons)
    claim = next((c for c in item.claims if c.staff_id == staff.id), None)
    if claim is None:
        claim = OpenShiftClaim(staff_id=staff.id)
        item.claims.append(claim)
    claim.withdrawn_at, claim.claimed_at = None, utcnow()
    db.session.flush()
    record_audit(actor, "open_shift.claimed", item, staff=staff.id)
    for manager in ward_managers(item.period.ward_id):
        notify(manager, "open_shift", f"{staff.display_name} offered to take the open {item.shift_type.name} "
               f"on {day_label(item.day)}.", f"/scheduling/wards/{item.period.ward_id}/open-shifts")
    return claim


def withdraw_claim(actor: User, staff: StaffMember, item: OpenShift) -> None:
    claim = next((c for c in active_claims(item) if c.staff_id == staff.id), None)
    if claim is None or item.status != OpenShiftStatus.OPEN:
        raise SelfServiceError("There is no offer of yours to withdraw on this shift.")
    claim.withdrawn_at = utcnow()
    db.session.flush()
    record_audit(actor, "open_shift.claim_withdrawn", item, staff=staff.id)


def confirm_open_shift(actor: User, item: OpenShift, staff_id: int, version: str | int | None,
                       today: date | None = None) -> Roster:
    """Give the shift to one claimant and publish the change."""
    if item.status != OpenShiftStatus.OPEN:
        raise SelfServiceError(f"This shift is already {item.status.value}; nothing was changed.")
    _check_version(item, version, "open shift")
    claim = next((c for c in active_claims(item) if c.staff_id == staff_id), None)
    if claim is None:
        raise SelfServiceError("That person has withdrawn their offer.")
    reasons = open_shift_eligibility(item, claim.staff, today)
    if reasons:
        raise SelfServiceError(f"{claim.staff.display_name} can no longer take this shift:", reasons)
    roster = current_roster(item.period)
    new = _publish(item.period, actor, [(staff_id, item.day, item.shift_type_id)],
                   f"Open shift: {item.shift_type.name} on {day_label(item.day)} to {claim.staff.display_name}",
                   roster)  # type: ignore[arg-type]
    item.status, item.filled_by_id = OpenShiftStatus.FILLED, staff_id
    db.session.flush()
    record_audit(actor, "open_shift.filled", item, staff=staff_id, roster=new.id)
    _notify_staff(claim.staff, "open_shift", f"The open {item.shift_type.name} on {day_label(item.day)} is yours; "
                  "it is in the published roster.", "/scheduling/my/roster")
    for other in active_claims(item):
        if other.staff_id != staff_id:
            _notify_staff(other.staff, "open_shift", f"The open {item.shift_type.name} on {day_label(item.day)} "
                          "went to someone else. Thank you for offering.", "/scheduling/my/open-shifts")
    return new


def cancel_open_shift(actor: User, item: OpenShift, version: str | int | None) -> None:
    if item.status != OpenShiftStatus.OPEN:
        raise SelfServiceError(f"This shift is already {item.status.value}; nothing was changed.")
    _check_version(item, version, "open shift")
    item.status = OpenShiftStatus.CANCELLED
    db.session.flush()
    record_audit(actor, "open_shift.cancelled", item)
    for claim in active_claims(item):
        _notify_staff(claim.staff, "open_shift", f"The open {item.shift_type.name} on {day_label(item.day)} "
                      "is no longer needed.", "/scheduling/my/open-shifts")


# --- what managers have to decide -----------------------------------------------------------

@dataclass
class WardDecisions:
    ward: Ward
    leave: list[tuple[Leave, list[LeaveConflict]]]
    approved_leave_conflicts: list[tuple[Leave, list[LeaveConflict]]]
    availability: list[RecurringAvailability]
    swaps: list[SwapRequest]
    open_shifts: list[OpenShift]

    @property
    def count(self) -> int:
        return len(self.leave) + len(self.availability) + len(self.swaps) + sum(
            1 for o in self.open_shifts if active_claims(o))


def _ward_staff_ids(ward: Ward) -> list[int]:
    return [p.id for p in ward_colleagues(ward)]


def ward_decisions(ward: Ward, today: date | None = None) -> WardDecisions:
    today = today or local_today()
    staff_ids = _ward_staff_ids(ward)
    pending = db.session.scalars(select(Leave).where(
        Leave.staff_id.in_(staff_ids), Leave.status == DecisionStatus.PENDING).order_by(Leave.start_date)).all()
    approved = db.session.scalars(select(Leave).where(
        Leave.staff_id.in_(staff_ids), Leave.status == DecisionStatus.APPROVED, Leave.end_date >= today)
        .order_by(Leave.start_date)).all()
    flagged = [(leave, c) for leave in approved if (c := leave_conflicts(leave))]
    availability = db.session.scalars(select(RecurringAvailability).where(
        RecurringAvailability.staff_id.in_(staff_ids), RecurringAvailability.status == DecisionStatus.PENDING)
        .order_by(RecurringAvailability.id)).all()
    return WardDecisions(ward, [(leave, leave_conflicts(leave)) for leave in pending], flagged, list(availability),
                         swaps_waiting_for([ward.id]), open_shifts_for_wards([ward.id], today))


# --- e-mail for notifications ----------------------------------------------------------------
# Every Notification committed while MAIL_SERVER is configured is also e-mailed, from the job
# worker so that no request waits on a mail server. Without MAIL_SERVER nothing is attempted.

_MAIL_KEY = "self_service_mail"


@event.listens_for(Session, "after_flush")
def _collect_notifications(session: Session, flush_context: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, Notification)]
    if new:
        session.info.setdefault(_MAIL_KEY, []).extend(new)


@event.listens_for(Session, "after_commit")
def _mail_notifications(session: Session) -> None:
    items = session.info.pop(_MAIL_KEY, [])
    if not items or not has_app_context() or not current_app.config.get("MAIL_SERVER"):
        return
    for item in items:
        if item.id is not None:
            enqueue(send_notification_email, item.id)


@event.listens_for(Session, "after_rollback")
def _forget_notifications(session: Session) -> None:
    session.info.pop(_MAIL_KEY, None)


@job
def send_notification_email(notification_id: int) -> bool:
    """Send one notification by e-mail; returns whether a message went out."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return False
    item = db.session.get(Notification, notification_id)
    user = db.session.get(User, item.user_id) if item is not None else None
    if item is None or user is None or not user.is_enabled:
        return False
    message = EmailMessage()
    message["Subject"] = f"Ward Portal: {item.message[:70]}"
    message["From"] = config.get("MAIL_SENDER", "ward-portal@localhost")
    message["To"] = user.email
    body = item.message
    if item.link:
        body += f"\n\n{config.get('BASE_URL', '').rstrip('/')}{item.link}"
    message.set_content(body + "\n\nThis message was sent by the ward portal.")
    with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 25)), timeout=30) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        smtp.send_message(message)
    return True
