"""Shared models: the organisation, its wards, people, accounts, roles and shift types.

Feature packages keep their own models in their own ``models.py`` and refer to these.
History is never deleted: people, wards and shift types are deactivated instead.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timezone
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(db.TypeDecorator):  # type: ignore[name-defined]
    """A timestamp stored as UTC and always read back as an aware datetime (SQLite drops zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def text_enum(cls: type[enum.Enum], length: int = 20) -> Enum:
    """Store an enum by its values in a plain string column (no database enum type to migrate)."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Role(enum.StrEnum):
    NURSE = "nurse"
    MANAGER = "manager"
    ADMIN = "admin"


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")

    wards: Mapped[list[Ward]] = relationship(back_populates="organisation", order_by="Ward.name")


class Ward(db.Model):
    __tablename__ = "ward"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Incremented on every edit so that concurrent edits are detected, not lost.
    version: Mapped[int] = mapped_column(Integer, default=1)

    organisation: Mapped[Organisation] = relationship(back_populates="wards")
    shift_types: Mapped[list[ShiftType]] = relationship(
        back_populates="ward", order_by="ShiftType.start_time"
    )
    memberships: Mapped[list[WardMembership]] = relationship(back_populates="ward")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Ward {self.code}>"


class Grade(db.Model):
    """A staff grade such as registered nurse, charge nurse or healthcare assistant."""

    __tablename__ = "grade"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    # Higher ranks may stand in for lower ones in cover rules (a charge nurse counts as an RN).
    rank: Mapped[int] = mapped_column(Integer, default=0)
    is_registered: Mapped[bool] = mapped_column(Boolean, default=True)


class Skill(db.Model):
    __tablename__ = "skill"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(120))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


staff_skill = Table(
    "staff_skill",
    db.metadata,
    Column("staff_id", ForeignKey("staff_member.id"), primary_key=True),
    Column("skill_id", ForeignKey("skill.id"), primary_key=True),
)


class User(UserMixin, db.Model):
    """A sign-in account. Staff members have one; an administrator may have no staff record."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the session identity: bumping it signs the user out everywhere.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[StaffMember | None] = relationship(back_populates="user", uselist=False)
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled and (self.staff is None or self.staff.is_active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def display_name(self) -> str:
        return self.staff.display_name if self.staff else self.email

    @property
    def is_admin(self) -> bool:
        return any(r.role == Role.ADMIN for r in self.roles)

    @property
    def managed_ward_ids(self) -> set[int]:
        return {r.ward_id for r in self.roles if r.role == Role.MANAGER and r.ward_id is not None}

    @property
    def member_ward_ids(self) -> set[int]:
        if self.staff is None:
            return set()
        from portal.timeutil import local_today

        today = local_today()
        return {m.ward_id for m in self.staff.memberships if m.is_current(today)}


class RoleAssignment(db.Model):
    """Grants a role: nurse (implicit for staff), manager of one ward, or administrator."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "ward_id"),
        CheckConstraint("(role = 'manager') = (ward_id IS NOT NULL)", name="manager_has_ward"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[Role] = mapped_column(text_enum(Role))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")
    ward: Mapped[Ward | None] = relationship()


class StaffMember(db.Model):
    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("organisation_id", "employee_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), unique=True)
    employee_number: Mapped[str] = mapped_column(String(30))
    full_name: Mapped[str] = mapped_column(String(200))
    known_as: Mapped[str] = mapped_column(String(80), default="")
    grade_id: Mapped[int] = mapped_column(ForeignKey("grade.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    user: Mapped[User | None] = relationship(back_populates="staff")
    grade: Mapped[Grade] = relationship()
    skills: Mapped[list[Skill]] = relationship(secondary=staff_skill, order_by="Skill.code")
    memberships: Mapped[list[WardMembership]] = relationship(
        back_populates="staff", cascade="all, delete-orphan"
    )
    contracts: Mapped[list[Contract]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="Contract.start_date"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        if self.known_as:
            surname = self.full_name.split()[-1] if self.full_name.split() else ""
            return f"{self.known_as} {surname}".strip()
        return self.full_name

    def contract_on(self, day: date) -> Contract | None:
        """Return the contract in force on a day, if any."""
        for contract in reversed(self.contracts):
            if contract.start_date <= day and (contract.end_date is None or day <= contract.end_date):
                return contract
        return None

    def __repr__(self) -> str:
        return f"<StaffMember {self.employee_number}>"


class Contract(db.Model):
    __tablename__ = "contract"
    __table_args__ = (
        CheckConstraint("minutes_per_week >= 0 AND minutes_per_week <= 4800", name="minutes_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    minutes_per_week: Mapped[int] = mapped_column(Integer)
    may_work_nights: Mapped[bool] = mapped_column(Boolean, default=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    staff: Mapped[StaffMember] = relationship(back_populates="contracts")

    @property
    def hours_per_week(self) -> float:
        return self.minutes_per_week / 60


class WardMembership(db.Model):
    __tablename__ = "ward_membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    staff: Mapped[StaffMember] = relationship(back_populates="memberships")
    ward: Mapped[Ward] = relationship(back_populates="memberships")

    def is_current(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class ShiftType(db.Model):
    __tablename__ = "shift_type"
    __table_args__ = (
        UniqueConstraint("ward_id", "code"),
        CheckConstraint("paid_minutes >= 0 AND paid_minutes <= 1440", name="paid_minutes_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(60))
    colour: Mapped[str] = mapped_column(String(7), default="#3b6ea5")
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    paid_minutes: Mapped[int] = mapped_column(Integer)
    is_night: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    ward: Mapped[Ward] = relationship(back_populates="shift_types")

    __mapper_args__ = {"version_id_col": version}

    @property
    def crosses_midnight(self) -> bool:
        return self.end_time <= self.start_time

    @property
    def length_minutes(self) -> int:
        start = self.start_time.hour * 60 + self.start_time.minute
        end = self.end_time.hour * 60 + self.end_time.minute
        return (end - start) % 1440 or 1440


class TokenPurpose(enum.StrEnum):
    INVITE = "invite"
    RESET = "reset"


class OneTimeToken(db.Model):
    """An invitation or password-reset link. Only a hash of the secret is stored."""

    __tablename__ = "one_time_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(text_enum(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AuditEvent(db.Model):
    """Who did what, when. Written by services; never updated or deleted."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


class Notification(db.Model):
    """A message in a person's in-portal inbox."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(300), default="")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
