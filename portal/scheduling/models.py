"""Scheduling models: periods, ward rules and cover, requests, leave, rosters, swaps, open shifts.

A roster period belongs to a ward. Nurses add requests while its request window is open;
the manager optimises into the period's one working draft, edits it and publishes it as an
immutable numbered version. Later changes (swaps, open shifts, sick calls) publish new
versions; nothing published is ever edited in place.

Additive changes by the roster side (for the other scheduling engineer):
- OptimiserRun.purpose ("optimise" or "repair"), OptimiserRun.reference_roster_id and
  OptimiserRun.frozen_before: a sick-call repair re-optimises from ``frozen_before`` with minimal
  change to the reference (published) roster, and writes the result into the draft.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models import ShiftType, StaffMember, User, UTCDateTime, Ward, text_enum, utcnow


class DayType(enum.StrEnum):
    WEEKDAY = "weekday"
    WEEKEND = "weekend"
    BANK_HOLIDAY = "bank_holiday"


class RequirementKind(enum.StrEnum):
    """What a cover row counts: everyone, staff of a grade or higher, or staff with a skill."""

    TOTAL = "total"
    GRADE = "grade"
    SKILL = "skill"


class WardRules(db.Model):
    """The ward's working rules and optimiser settings (one row per ward)."""

    __tablename__ = "ward_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), unique=True)
    min_rest_hours: Mapped[int] = mapped_column(Integer, default=11)
    max_consecutive_days: Mapped[int] = mapped_column(Integer, default=5)
    min_consecutive_days: Mapped[int] = mapped_column(Integer, default=1)
    max_consecutive_nights: Mapped[int] = mapped_column(Integer, default=4)
    min_days_off_after_nights: Mapped[int] = mapped_column(Integer, default=2)
    min_consecutive_days_off: Mapped[int] = mapped_column(Integer, default=1)
    max_weekends_per_period: Mapped[int] = mapped_column(Integer, default=2)
    complete_weekends: Mapped[bool] = mapped_column(Boolean, default=True)
    # Pairs of shift codes that may not follow each other on consecutive days, e.g. [["N", "E"]].
    forbidden_sequences: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    # Worked minutes may fall short of, or exceed, the contract by this much over a period.
    contract_tolerance_minutes: Mapped[int] = mapped_column(Integer, default=450)
    high_priority_quota: Mapped[int] = mapped_column(Integer, default=3)
    swaps_need_approval: Mapped[bool] = mapped_column(Boolean, default=True)
    optimiser_time_limit_s: Mapped[int] = mapped_column(Integer, default=60)
    # Weights of the soft rules, by name; missing names use the solver's defaults.
    weights: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)

    ward: Mapped[Ward] = relationship()

    __mapper_args__ = {"version_id_col": version}


class CoverRequirement(db.Model):
    """Head count wanted on a shift type and day type, for everyone, a grade or a skill."""

    __tablename__ = "cover_requirement"
    __table_args__ = (
        CheckConstraint("minimum >= 0 AND ideal >= minimum", name="ideal_at_least_minimum"),
        UniqueConstraint("ward_id", "shift_type_id", "day_type", "kind", "grade_id", "skill_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    shift_type_id: Mapped[int] = mapped_column(ForeignKey("shift_type.id"))
    day_type: Mapped[DayType] = mapped_column(text_enum(DayType, 24))
    kind: Mapped[RequirementKind] = mapped_column(text_enum(RequirementKind, 24), default=RequirementKind.TOTAL)
    grade_id: Mapped[int | None] = mapped_column(ForeignKey("grade.id"))
    skill_id: Mapped[int | None] = mapped_column(ForeignKey("skill.id"))
    minimum: Mapped[int] = mapped_column(Integer)
    ideal: Mapped[int] = mapped_column(Integer)

    shift_type: Mapped[ShiftType] = relationship()


class BankHoliday(db.Model):
    __tablename__ = "bank_holiday"
    __table_args__ = (UniqueConstraint("organisation_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(80))


class RosterPeriod(db.Model):
    """A span of days (usually four weeks) rostered together for one ward."""

    __tablename__ = "roster_period"
    __table_args__ = (
        UniqueConstraint("ward_id", "start_date"),
        CheckConstraint("end_date >= start_date", name="ends_after_start"),
        CheckConstraint("requests_close_on <= start_date", name="requests_close_before_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    requests_open_on: Mapped[date] = mapped_column(Date)
    requests_close_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    ward: Mapped[Ward] = relationship()
    rosters: Mapped[list[Roster]] = relationship(back_populates="period", order_by="Roster.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def accepts_requests_on(self, day: date) -> bool:
        return self.requests_open_on <= day <= self.requests_close_on


class RequestKind(enum.StrEnum):
    WORK_SHIFT = "work_shift"  # I would like to work this shift on this day
    DAY_OFF = "day_off"  # I would like no shift on this day
    SHIFT_OFF = "shift_off"  # I would rather not work this shift on this day


class Priority(enum.StrEnum):
    NORMAL = "normal"
    HIGH = "high"


class ShiftRequest(db.Model):
    """A nurse's wish for one day of a period. The optimiser weighs it; it is not approved."""

    __tablename__ = "shift_request"
    __table_args__ = (
        UniqueConstraint("period_id", "staff_id", "day", "kind", "shift_type_id"),
        Index("ix_shift_request_period_staff", "period_id", "staff_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("roster_period.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[RequestKind] = mapped_column(text_enum(RequestKind, 24))
    shift_type_id: Mapped[int | None] = mapped_column(ForeignKey("shift_type.id"))
    priority: Mapped[Priority] = mapped_column(text_enum(Priority, 24), default=Priority.NORMAL)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    period: Mapped[RosterPeriod] = relationship()
    staff: Mapped[StaffMember] = relationship()
    shift_type: Mapped[ShiftType | None] = relationship()


class AvailabilityKind(enum.StrEnum):
    NO_NIGHTS = "no_nights"
    NOT_WEEKDAY = "not_weekday"  # never on this day of the week
    NOT_SHIFT = "not_shift"  # never this shift type


class ReasonCategory(enum.StrEnum):
    CARING = "caring"
    HEALTH = "health"
    STUDY = "study"
    RELIGION = "religion"
    SECOND_JOB = "second_job"
    OTHER = "other"


class DecisionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class RecurringAvailability(db.Model):
    """A standing limit such as "no nights" or "not Tuesdays". Approved ones are hard rules."""

    __tablename__ = "recurring_availability"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    kind: Mapped[AvailabilityKind] = mapped_column(text_enum(AvailabilityKind, 24))
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday
    shift_type_id: Mapped[int | None] = mapped_column(ForeignKey("shift_type.id"))
    reason: Mapped[ReasonCategory] = mapped_column(text_enum(ReasonCategory, 24))
    note: Mapped[str] = mapped_column(String(300), default="")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[DecisionStatus] = mapped_column(text_enum(DecisionStatus, 24), default=DecisionStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[StaffMember] = relationship()
    shift_type: Mapped[ShiftType | None] = relationship()

    def rules_out(self, day: date, shift: ShiftType) -> bool:
        """Whether this limit, where in force on ``day``, forbids ``shift`` that day (whatever its status)."""
        if day < self.valid_from or (self.valid_to is not None and day > self.valid_to):
            return False
        if self.kind == AvailabilityKind.NO_NIGHTS:
            return bool(shift.is_night)
        if self.kind == AvailabilityKind.NOT_WEEKDAY:
            return self.weekday == day.weekday()
        return self.shift_type_id == shift.id


class PersonalRuleKind(enum.StrEnum):
    MAX_CONSECUTIVE_NIGHTS = "max_consecutive_nights"
    MAX_CONSECUTIVE_DAYS = "max_consecutive_days"
    MAX_WEEKENDS = "max_weekends"


class PersonalRule(db.Model):
    """A nurse's own softer limit inside the ward's rules, e.g. at most 3 nights in a row."""

    __tablename__ = "personal_rule"
    __table_args__ = (UniqueConstraint("staff_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    kind: Mapped[PersonalRuleKind] = mapped_column(text_enum(PersonalRuleKind, 24))
    value: Mapped[int] = mapped_column(Integer)

    staff: Mapped[StaffMember] = relationship()


class LeaveKind(enum.StrEnum):
    ANNUAL = "annual"
    STUDY = "study"
    SICKNESS = "sickness"  # recorded by a manager on a sick call
    OTHER = "other"


class Leave(db.Model):
    """Time away. Approved leave (and recorded sickness) is a hard rule for the optimiser."""

    __tablename__ = "leave"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    kind: Mapped[LeaveKind] = mapped_column(text_enum(LeaveKind, 24))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[DecisionStatus] = mapped_column(text_enum(DecisionStatus, 24), default=DecisionStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    staff: Mapped[StaffMember] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def covers(self, day: date) -> bool:
        return self.start_date <= day <= self.end_date


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OptimiserRun(db.Model):
    """One background optimisation of a period, with its progress and outcome."""

    __tablename__ = "optimiser_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("roster_period.id"), index=True)
    # Equal to period_id while queued or running, NULL afterwards: the unique constraint
    # lets the database refuse a second run of the same period.
    active_period_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[RunStatus] = mapped_column(text_enum(RunStatus, 24), default=RunStatus.QUEUED)
    time_limit_s: Mapped[int] = mapped_column(Integer)
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # [[seconds, objective, bound], ...] for each improving roster found.
    progress: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    solver_status: Mapped[str] = mapped_column(String(24), default="")
    objective: Mapped[int | None] = mapped_column(Integer)
    bound: Mapped[int | None] = mapped_column(Integer)
    # The score by rule and by person, and the explanations, as the solver gave them.
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    explanations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    # "optimise" (a fresh draft) or "repair" (sick call: minimal change to reference_roster_id,
    # every day before frozen_before kept as published).
    purpose: Mapped[str] = mapped_column(String(16), default="optimise")
    # A plain id (no foreign key): roster already refers to optimiser_run; a cycle complicates DDL.
    reference_roster_id: Mapped[int | None] = mapped_column(Integer)
    frozen_before: Mapped[date | None] = mapped_column(Date)

    period: Mapped[RosterPeriod] = relationship()
    requested_by: Mapped[User | None] = relationship()


class RosterKind(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Roster(db.Model):
    """A period's working draft or one of its published, immutable, numbered versions."""

    __tablename__ = "roster"
    __table_args__ = (
        UniqueConstraint("period_id", "number"),
        CheckConstraint("(kind = 'published') = (number IS NOT NULL)", name="published_has_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("roster_period.id"), index=True)
    kind: Mapped[RosterKind] = mapped_column(text_enum(RosterKind, 24))
    # Equal to period_id for the draft, NULL for published versions: one draft per period.
    draft_period_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    number: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    source_run_id: Mapped[int | None] = mapped_column(ForeignKey("optimiser_run.id"))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("roster.id"))
    note: Mapped[str] = mapped_column(String(300), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    period: Mapped[RosterPeriod] = relationship(back_populates="rosters")
    created_by: Mapped[User | None] = relationship()
    assignments: Mapped[list[RosterAssignment]] = relationship(
        back_populates="roster", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class RosterAssignment(db.Model):
    """One person working one shift on one day of a roster."""

    __tablename__ = "roster_assignment"
    __table_args__ = (
        UniqueConstraint("roster_id", "staff_id", "day"),
        Index("ix_roster_assignment_staff_day", "staff_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("roster.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    day: Mapped[date] = mapped_column(Date)
    shift_type_id: Mapped[int] = mapped_column(ForeignKey("shift_type.id"))
    # Locked cells of a draft are kept by re-optimisation.
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)

    roster: Mapped[Roster] = relationship(back_populates="assignments")
    staff: Mapped[StaffMember] = relationship()
    shift_type: Mapped[ShiftType] = relationship()


class SwapStatus(enum.StrEnum):
    PROPOSED = "proposed"  # waiting for the colleague
    ACCEPTED = "accepted"  # colleague agreed; waiting for the manager where required
    APPLIED = "applied"  # published as a new roster version
    DECLINED = "declined"  # the colleague said no
    REFUSED = "refused"  # the manager said no, or the rules did
    CANCELLED = "cancelled"


class SwapRequest(db.Model):
    """A proposal to exchange (or give away) published shifts between two nurses."""

    __tablename__ = "swap_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("roster_period.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    colleague_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    # The requester's shift the colleague would take.
    give_day: Mapped[date] = mapped_column(Date)
    give_shift_type_id: Mapped[int] = mapped_column(ForeignKey("shift_type.id"))
    # The colleague's shift the requester would take in return (none: a give-away).
    take_day: Mapped[date | None] = mapped_column(Date)
    take_shift_type_id: Mapped[int | None] = mapped_column(ForeignKey("shift_type.id"))
    message: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[SwapStatus] = mapped_column(text_enum(SwapStatus, 24), default=SwapStatus.PROPOSED)
    # Why the rules or the manager refused it, in plain words.
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    based_on_roster_id: Mapped[int] = mapped_column(ForeignKey("roster.id"))
    applied_roster_id: Mapped[int | None] = mapped_column(ForeignKey("roster.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    period: Mapped[RosterPeriod] = relationship()
    requester: Mapped[StaffMember] = relationship(foreign_keys=[requester_id])
    colleague: Mapped[StaffMember] = relationship(foreign_keys=[colleague_id])
    give_shift_type: Mapped[ShiftType] = relationship(foreign_keys=[give_shift_type_id])
    take_shift_type: Mapped[ShiftType | None] = relationship(foreign_keys=[take_shift_type_id])

    __mapper_args__ = {"version_id_col": version}


class OpenShiftStatus(enum.StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"


class OpenShift(db.Model):
    """A shift the manager needs filled; eligible nurses claim it, the manager confirms one."""

    __tablename__ = "open_shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("roster_period.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    shift_type_id: Mapped[int] = mapped_column(ForeignKey("shift_type.id"))
    skill_id: Mapped[int | None] = mapped_column(ForeignKey("skill.id"))
    note: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[OpenShiftStatus] = mapped_column(text_enum(OpenShiftStatus, 24), default=OpenShiftStatus.OPEN)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    period: Mapped[RosterPeriod] = relationship()
    shift_type: Mapped[ShiftType] = relationship()
    claims: Mapped[list[OpenShiftClaim]] = relationship(back_populates="open_shift", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class OpenShiftClaim(db.Model):
    __tablename__ = "open_shift_claim"
    __table_args__ = (UniqueConstraint("open_shift_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    open_shift_id: Mapped[int] = mapped_column(ForeignKey("open_shift.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    open_shift: Mapped[OpenShift] = relationship(back_populates="claims")
    staff: Mapped[StaffMember] = relationship()


class CalendarToken(db.Model):
    """A secret, revocable token in a nurse's calendar subscription address (hash stored)."""

    __tablename__ = "calendar_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[StaffMember] = relationship()


class FairnessLedger(db.Model):
    """What each nurse carried out of a published period, so fairness spans periods."""

    __tablename__ = "fairness_ledger"
    __table_args__ = (UniqueConstraint("period_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("roster_period.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    worked_minutes: Mapped[int] = mapped_column(Integer, default=0)
    contract_minutes: Mapped[int] = mapped_column(Integer, default=0)
    nights: Mapped[int] = mapped_column(Integer, default=0)
    weekends: Mapped[int] = mapped_column(Integer, default=0)
    unpopular_shifts: Mapped[int] = mapped_column(Integer, default=0)
    requests_made: Mapped[int] = mapped_column(Integer, default=0)
    requests_granted: Mapped[int] = mapped_column(Integer, default=0)
