"""Administration services. They validate, change rows, audit and flush; views commit."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select

from portal.accounts.services import issue_token
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
    TokenPurpose,
    User,
    Ward,
    WardMembership,
)
from portal.services import record_audit


class AdminError(Exception):
    """A refusal with a message fit to show the administrator."""


def organisation() -> Organisation:
    org = db.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    if org is None:
        raise AdminError("No organisation exists yet. Run 'portal init' or 'portal demo'.")
    return org


def check_version(obj: Any, submitted: str | int | None) -> None:
    """Refuse an edit made on a stale copy of the object."""
    if submitted in (None, ""):
        return
    if int(submitted) != obj.version:
        raise AdminError(
            "Someone else changed this record after you opened it. Your changes were not saved; "
            "the form now shows the latest version."
        )


# --- wards -----------------------------------------------------------------------------

def save_ward(actor: User, ward: Ward | None, *, name: str, code: str, description: str, is_active: bool) -> Ward:
    org = organisation()
    clash = db.session.scalar(
        select(Ward).where(Ward.organisation_id == org.id, func.lower(Ward.code) == code.lower())
    )
    if clash is not None and clash is not ward:
        raise AdminError(f"Another ward already uses the code {code}.")
    created = ward is None
    if ward is None:
        ward = Ward(organisation_id=org.id, name=name, code=code)
        db.session.add(ward)
    ward.name, ward.code, ward.description, ward.is_active = name.strip(), code.strip(), description, is_active
    db.session.flush()
    record_audit(actor, "ward.created" if created else "ward.updated", ward, name=ward.name, active=is_active)
    return ward


# --- skills and grades -----------------------------------------------------------------

def add_skill(actor: User, code: str, name: str) -> Skill:
    org = organisation()
    if db.session.scalar(select(Skill).where(Skill.organisation_id == org.id, func.lower(Skill.code) == code.lower())):
        raise AdminError(f"A skill with the code {code} already exists.")
    skill = Skill(organisation_id=org.id, code=code.strip(), name=name.strip())
    db.session.add(skill)
    db.session.flush()
    record_audit(actor, "skill.created", skill, code=skill.code)
    return skill


def set_skill_active(actor: User, skill: Skill, active: bool) -> None:
    skill.is_active = active
    db.session.flush()
    record_audit(actor, "skill.activated" if active else "skill.deactivated", skill)


def grades() -> list[Grade]:
    return list(db.session.scalars(select(Grade).order_by(Grade.rank.desc(), Grade.name)))


# --- shift types -----------------------------------------------------------------------

def save_shift_type(actor: User, ward: Ward, shift: ShiftType | None, **values: Any) -> ShiftType:
    code = values["code"].strip().upper()
    clash = db.session.scalar(select(ShiftType).where(ShiftType.ward_id == ward.id, ShiftType.code == code))
    if clash is not None and clash is not shift:
        raise AdminError(f"{ward.name} already has a shift type with the code {code}.")
    created = shift is None
    if shift is None:
        shift = ShiftType(ward_id=ward.id)
        db.session.add(shift)
    shift.code = code
    for key in ("name", "start_time", "end_time", "paid_minutes", "colour", "is_night", "is_active"):
        setattr(shift, key, values[key])
    if shift.paid_minutes > shift.length_minutes:
        raise AdminError("Paid minutes cannot exceed the length of the shift.")
    db.session.flush()
    record_audit(actor, "shift_type.created" if created else "shift_type.updated", shift, ward=ward.code, code=code)
    return shift


# --- staff -----------------------------------------------------------------------------

@dataclass
class StaffValues:
    full_name: str
    known_as: str
    email: str
    employee_number: str
    grade_id: int
    ward_id: int
    skill_ids: list[int]
    minutes_per_week: int
    may_work_nights: bool
    contract_start: date
    contract_end: date | None = None
    is_active: bool = True


def _check_unique_staff(org: Organisation, values: StaffValues, staff: StaffMember | None) -> None:
    other = db.session.scalar(
        select(StaffMember).where(
            StaffMember.organisation_id == org.id, StaffMember.employee_number == values.employee_number
        )
    )
    if other is not None and other is not staff:
        raise AdminError(f"Employee number {values.employee_number} already belongs to {other.full_name}.")
    user = db.session.scalar(select(User).where(func.lower(User.email) == values.email.lower()))
    if user is not None and (staff is None or user is not staff.user):
        raise AdminError(f"The e-mail address {values.email} is already in use.")


def save_staff(actor: User, staff: StaffMember | None, values: StaffValues) -> StaffMember:
    """Create or update a staff member, their account, ward, skills and contract."""
    org = organisation()
    _check_unique_staff(org, values, staff)
    grade = db.session.get(Grade, values.grade_id)
    ward = db.session.get(Ward, values.ward_id)
    if grade is None or ward is None:
        raise AdminError("Choose a grade and a ward from the lists.")
    skills = list(db.session.scalars(select(Skill).where(Skill.id.in_(values.skill_ids)))) if values.skill_ids else []
    created = staff is None
    if staff is None:
        user = User(email=values.email.strip().lower(), is_enabled=True)
        db.session.add(user)
        db.session.flush()
        user.roles.append(RoleAssignment(role=Role.NURSE))
        staff = StaffMember(organisation_id=org.id, user_id=user.id, grade_id=grade.id, employee_number="", full_name="")
        db.session.add(staff)
        staff.user = user
    elif staff.user is not None:
        staff.user.email = values.email.strip().lower()
    staff.full_name = values.full_name.strip()
    staff.known_as = values.known_as.strip()
    staff.employee_number = values.employee_number.strip()
    staff.grade_id = grade.id
    staff.skills = skills
    staff.is_active = values.is_active
    _set_ward(staff, ward, values.contract_start)
    _set_contract(staff, values)
    db.session.flush()
    record_audit(actor, "staff.created" if created else "staff.updated", staff,
                 employee_number=staff.employee_number, ward=ward.code, active=staff.is_active)
    return staff


def _set_ward(staff: StaffMember, ward: Ward, start: date) -> None:
    current = [m for m in staff.memberships if m.end_date is None]
    if any(m.ward_id == ward.id for m in current):
        return
    today = date.today()
    for membership in current:
        # Keep the history: close the old membership rather than deleting it.
        membership.end_date = max(membership.start_date, today - timedelta(days=1))
    staff.memberships.append(WardMembership(ward_id=ward.id, start_date=min(start, today)))


def _set_contract(staff: StaffMember, values: StaffValues) -> None:
    latest = staff.contracts[-1] if staff.contracts else None
    if latest is not None and latest.start_date == values.contract_start:
        latest.minutes_per_week = values.minutes_per_week
        latest.may_work_nights = values.may_work_nights
        latest.end_date = values.contract_end
        return
    if latest is not None and latest.end_date is None:
        if values.contract_start <= latest.start_date:
            raise AdminError("A new contract must start after the current one.")
        latest.end_date = values.contract_start - timedelta(days=1)
    staff.contracts.append(
        Contract(
            minutes_per_week=values.minutes_per_week,
            may_work_nights=values.may_work_nights,
            start_date=values.contract_start,
            end_date=values.contract_end,
        )
    )


def set_staff_active(actor: User, staff: StaffMember, active: bool) -> None:
    """Deactivate or reactivate: history (rosters, recognitions) is kept either way."""
    staff.is_active = active
    if staff.user is not None and not active:
        staff.user.session_version += 1  # sign them out everywhere
    db.session.flush()
    record_audit(actor, "staff.reactivated" if active else "staff.deactivated", staff)


def grant_role(actor: User, user: User, role: Role, ward: Ward | None) -> RoleAssignment:
    if role == Role.MANAGER and ward is None:
        raise AdminError("Choose the ward this person will manage.")
    if role != Role.MANAGER:
        ward = None
    for existing in user.roles:
        if existing.role == role and existing.ward_id == (ward.id if ward else None):
            raise AdminError("This person already has that role.")
    assignment = RoleAssignment(role=role, ward_id=ward.id if ward else None)
    user.roles.append(assignment)
    db.session.flush()
    record_audit(actor, "role.granted", user, role=role.value, ward=ward.code if ward else None)
    return assignment


def revoke_role(actor: User, assignment: RoleAssignment) -> None:
    if assignment.role == Role.ADMIN and assignment.user_id == actor.id:
        raise AdminError("You cannot remove your own administrator role.")
    if assignment.role == Role.NURSE:
        raise AdminError("The staff role comes with the staff record; deactivate the person instead.")
    user = assignment.user
    record_audit(actor, "role.revoked", user, role=assignment.role.value,
                 ward=assignment.ward.code if assignment.ward else None)
    user.roles.remove(assignment)
    user.session_version += 1
    db.session.flush()


def create_link(actor: User, user: User, purpose: TokenPurpose, lifetime_hours: int) -> str:
    """Issue an invitation or reset link secret for the administrator to pass on."""
    if purpose == TokenPurpose.RESET and user.password_hash is None:
        purpose = TokenPurpose.INVITE
    return issue_token(user, purpose, actor=actor, lifetime=timedelta(hours=lifetime_hours))


# --- staff CSV import ------------------------------------------------------------------

IMPORT_COLUMNS = (
    "employee_number", "full_name", "known_as", "email", "grade", "ward",
    "skills", "hours_per_week", "may_work_nights", "contract_start",
)
REQUIRED_COLUMNS = ("employee_number", "full_name", "email", "grade", "ward", "hours_per_week", "contract_start")
MAX_IMPORT_ROWS = 5000
TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0", ""}


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportPreview:
    rows: list[StaffValues] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)


def parse_staff_csv(data: bytes) -> ImportPreview:
    """Check every row of a staff CSV; nothing is written."""
    preview = ImportPreview()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        preview.errors.append(RowError(0, f"The file is not UTF-8 text (byte {exc.start + 1}). Save it as 'CSV UTF-8' and try again."))
        return preview
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        preview.errors.append(RowError(1, "Missing column(s): " + ", ".join(missing) + ". Expected: " + ", ".join(IMPORT_COLUMNS) + "."))
        return preview
    reader.fieldnames = header
    org = organisation()
    grades_by_code = {g.code.lower(): g for g in db.session.scalars(select(Grade).where(Grade.organisation_id == org.id))}
    wards_by_code = {w.code.lower(): w for w in db.session.scalars(select(Ward).where(Ward.organisation_id == org.id))}
    skills_by_code = {s.code.lower(): s for s in db.session.scalars(select(Skill).where(Skill.organisation_id == org.id))}
    existing_numbers = set(db.session.scalars(select(StaffMember.employee_number).where(StaffMember.organisation_id == org.id)))
    existing_emails = {e.lower() for e in db.session.scalars(select(User.email))}
    seen_numbers: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for index, raw in enumerate(reader, start=2):
        if index - 1 > MAX_IMPORT_ROWS:
            preview.errors.append(RowError(index, f"Too many rows: at most {MAX_IMPORT_ROWS} per file."))
            break
        if None in raw:
            preview.errors.append(RowError(index, "This row has more fields than the header."))
            continue
        row = {k: (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        problems: list[str] = []
        for column in REQUIRED_COLUMNS:
            if not row.get(column):
                problems.append(f"{column} is empty")
        number, email = row.get("employee_number", ""), row.get("email", "").lower()
        if number in existing_numbers:
            problems.append(f"employee number {number} already exists")
        elif number and number in seen_numbers:
            problems.append(f"employee number {number} repeats line {seen_numbers[number]}")
        if email and ("@" not in email or "." not in email.split("@")[-1]):
            problems.append(f"'{email}' is not an e-mail address")
        elif email in existing_emails:
            problems.append(f"e-mail {email} is already in use")
        elif email and email in seen_emails:
            problems.append(f"e-mail {email} repeats line {seen_emails[email]}")
        grade = grades_by_code.get(row.get("grade", "").lower())
        if row.get("grade") and grade is None:
            problems.append(f"unknown grade '{row['grade']}' (known: {', '.join(sorted(g.code for g in grades_by_code.values()))})")
        ward = wards_by_code.get(row.get("ward", "").lower())
        if row.get("ward") and ward is None:
            problems.append(f"unknown ward '{row['ward']}' (known: {', '.join(sorted(w.code for w in wards_by_code.values()))})")
        skill_ids: list[int] = []
        for code in filter(None, (s.strip() for s in row.get("skills", "").replace(",", ";").split(";"))):
            skill = skills_by_code.get(code.lower())
            if skill is None:
                problems.append(f"unknown skill '{code}'")
            else:
                skill_ids.append(skill.id)
        minutes = 0
        try:
            hours = Decimal(row.get("hours_per_week", "") or "x")
            if not 0 <= hours <= 80:
                raise InvalidOperation
            minutes = int(hours * 60)
        except InvalidOperation:
            if row.get("hours_per_week"):
                problems.append(f"hours_per_week '{row['hours_per_week']}' is not a number from 0 to 80")
        nights_word = row.get("may_work_nights", "yes").lower()
        if nights_word not in TRUE_WORDS | FALSE_WORDS:
            problems.append(f"may_work_nights '{row['may_work_nights']}' should be yes or no")
        start: date | None = None
        if row.get("contract_start"):
            try:
                start = date.fromisoformat(row["contract_start"])
            except ValueError:
                problems.append(f"contract_start '{row['contract_start']}' is not a date like 2026-04-01")
        if problems:
            message = "; ".join(problems)
            preview.errors.append(RowError(index, message[0].upper() + message[1:] + "."))
            continue
        seen_numbers[number] = index
        seen_emails[email] = index
        assert grade is not None and ward is not None and start is not None
        preview.rows.append(
            StaffValues(
                full_name=row["full_name"], known_as=row.get("known_as", ""), email=email,
                employee_number=number, grade_id=grade.id, ward_id=ward.id, skill_ids=skill_ids,
                minutes_per_week=minutes, may_work_nights=nights_word in TRUE_WORDS, contract_start=start,
            )
        )
    if not preview.rows and not preview.errors:
        preview.errors.append(RowError(2, "The file has a header but no staff rows."))
    return preview


def import_staff(actor: User, data: bytes) -> list[StaffMember]:
    """Import every row or none: any error raises before anything is flushed."""
    preview = parse_staff_csv(data)
    if not preview.is_valid:
        raise AdminError("The file has errors; nothing was imported.")
    created = [save_staff(actor, None, values) for values in preview.rows]
    record_audit(actor, "staff.imported", organisation(), rows=len(created))
    return created
