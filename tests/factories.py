"""Factories: create_* functions that add rows to the current session and flush."""

from __future__ import annotations

import itertools
from datetime import date, time
from functools import lru_cache

from portal.accounts.services import hash_password
from portal.extensions import db
from portal.models import (
    Contract,
    Grade,
    Organisation,
    Role,
    RoleAssignment,
    ShiftType,
    Skill,
    StaffMember,
    User,
    Ward,
    WardMembership,
)

PASSWORD = "correct-horse-battery"
_numbers = itertools.count(1)


def password_hash() -> str:
    return _cached_hash(PASSWORD)


@lru_cache(maxsize=4)
def _cached_hash(password: str) -> str:
    return hash_password(password)


def create_organisation(name: str = "Test Hospital") -> Organisation:
    org = Organisation(name=name, timezone="Europe/London")
    db.session.add(org)
    db.session.flush()
    for code, label, rank, registered in (
        ("CN", "Charge nurse", 30, True),
        ("RN", "Registered nurse", 20, True),
        ("HCA", "Healthcare assistant", 10, False),
    ):
        db.session.add(Grade(organisation_id=org.id, code=code, name=label, rank=rank, is_registered=registered))
    db.session.add(Skill(organisation_id=org.id, code="IV", name="IV medicines"))
    db.session.flush()
    return org


def grade(org: Organisation, code: str) -> Grade:
    return db.session.query(Grade).filter_by(organisation_id=org.id, code=code).one()


def create_ward(org: Organisation, name: str, code: str, with_shifts: bool = True) -> Ward:
    ward = Ward(organisation_id=org.id, name=name, code=code)
    db.session.add(ward)
    db.session.flush()
    if with_shifts:
        for code_, label, start, end, paid, night in (
            ("E", "Early", time(7), time(15), 450, False),
            ("L", "Late", time(13, 30), time(21, 30), 450, False),
            ("N", "Night", time(20), time(7, 30), 660, True),
        ):
            db.session.add(ShiftType(ward_id=ward.id, code=code_, name=label, start_time=start, end_time=end,
                                     paid_minutes=paid, is_night=night))
        db.session.flush()
    return ward


def create_staff(
    org: Organisation,
    ward: Ward,
    full_name: str,
    *,
    email: str | None = None,
    grade_code: str = "RN",
    manages: list[Ward] | None = None,
    minutes_per_week: int = 2250,
    password: bool = True,
    start: date = date(2024, 1, 1),
) -> StaffMember:
    number = next(_numbers)
    user = User(email=email or f"staff{number}@example.test", password_hash=password_hash() if password else None)
    user.roles.append(RoleAssignment(role=Role.NURSE))
    for managed in manages or []:
        user.roles.append(RoleAssignment(role=Role.MANAGER, ward_id=managed.id))
    staff = StaffMember(organisation_id=org.id, employee_number=f"E{number:05d}", full_name=full_name,
                        grade=grade(org, grade_code), user=user)
    staff.contracts.append(Contract(minutes_per_week=minutes_per_week, start_date=start))
    staff.memberships.append(WardMembership(ward_id=ward.id, start_date=start))
    db.session.add(staff)
    db.session.flush()
    return staff


def create_admin(email: str) -> User:
    user = User(email=email, password_hash=password_hash())
    user.roles.append(RoleAssignment(role=Role.ADMIN))
    db.session.add(user)
    db.session.flush()
    return user


def create_skill(org: Organisation, code: str, name: str) -> Skill:
    skill = Skill(organisation_id=org.id, code=code, name=name)
    db.session.add(skill)
    db.session.flush()
    return skill
