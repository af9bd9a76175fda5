"""A realistic demo hospital: two wards, mixed grades, skills and part-time contracts.

Feature packages extend it: each ``portal/<feature>/demo.py`` that defines
``add_demo_data(hospital: DemoHospital)`` is called after the base data exists.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from sqlalchemy import select

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

DEMO_DOMAIN = "demo.example"
DEMO_LOGINS = (
    ("nurse", f"nurse@{DEMO_DOMAIN}", "nurse-demo-2026"),
    ("manager", f"manager@{DEMO_DOMAIN}", "manager-demo-2026"),
    ("admin", f"admin@{DEMO_DOMAIN}", "admin-demo-2026"),
)
FEATURES = ("scheduling", "recognition", "training", "wellbeing")

FIRST_NAMES = (
    "Amara", "Grace", "Oliver", "Priya", "Tomasz", "Chloe", "Daniel", "Aisha", "Megan", "Joseph",
    "Fatima", "Liam", "Sophie", "Kwame", "Hannah", "Rhys", "Niamh", "Mohammed", "Ellie", "Connor",
    "Zara", "Ben", "Lucy", "Samuel", "Maria", "Ewan", "Jessica", "Arjun", "Katie", "Nathan",
    "Olivia", "Marcus", "Isla", "Adebayo", "Rebecca", "Callum", "Leah", "Harry", "Ana", "Dylan",
    "Bethany", "Farah", "Gareth", "Imogen", "Jack", "Kirsty", "Luca", "Mei", "Noah", "Poppy",
    "Ruth", "Stefan", "Tanya", "Umar", "Vanessa", "Wendy", "Yusuf", "Abigail", "Bogdan", "Carys",
)
SURNAMES = (
    "Okafor", "Whitfield", "Bennett", "Sharma", "Nowak", "Hughes", "Evans", "Rahman", "Price", "Mensah",
    "Ali", "Murphy", "Clarke", "Asante", "Lewis", "Morgan", "Kelly", "Hussain", "Walsh", "Byrne",
    "Khan", "Foster", "Reid", "Turner", "Santos", "Fraser", "Cooper", "Patel", "Doyle", "Harrison",
    "Ward", "Campbell", "Stewart", "Adeyemi", "Hall", "Graham", "Watson", "Green", "Silva", "Jones",
    "Marsh", "Iqbal", "Pritchard", "Lloyd", "Barker", "Ross", "Bianchi", "Chen", "Baker", "Robinson",
)


@dataclass
class DemoHospital:
    organisation: Organisation
    wards: list[Ward]
    grades: dict[str, Grade]
    skills: dict[str, Skill]
    staff_by_ward: dict[int, list[StaffMember]] = field(default_factory=dict)
    nurse: StaffMember | None = None
    manager: StaffMember | None = None
    admin: User | None = None
    today: date = field(default_factory=date.today)
    rng: random.Random = field(default_factory=lambda: random.Random(2026))


def has_demo() -> bool:
    return db.session.scalar(select(User).where(User.email == DEMO_LOGINS[0][1])) is not None


def build_demo(today: date | None = None) -> DemoHospital:
    """Create the demo hospital in the current session and flush it."""
    org = db.session.scalar(select(Organisation).limit(1))
    if org is None:
        org = Organisation(name="Demo Hospital NHS Trust", timezone="Europe/London")
        db.session.add(org)
    org.name = "Demo Hospital NHS Trust"
    db.session.flush()
    grades = {
        code: Grade(organisation_id=org.id, code=code, name=name, rank=rank, is_registered=registered)
        for code, name, rank, registered in (
            ("CN", "Charge nurse / senior RN (Band 6)", 30, True),
            ("RN", "Registered nurse (Band 5)", 20, True),
            ("NA", "Nursing associate (Band 4)", 15, True),
            ("HCA", "Healthcare assistant (Band 3)", 10, False),
        )
    }
    skills = {
        code: Skill(organisation_id=org.id, code=code, name=name)
        for code, name in (
            ("IV", "IV medicines"),
            ("TRACH", "Tracheostomy care"),
            ("NIV", "Non-invasive ventilation"),
            ("ASSESSOR", "Practice assessor"),
            ("PHLEB", "Phlebotomy"),
        )
    }
    db.session.add_all([*grades.values(), *skills.values()])
    wards = [
        Ward(organisation_id=org.id, name="Ward 7 – Acute Medicine", code="W7",
             description="32-bed acute medical ward with a 4-bed respiratory bay."),
        Ward(organisation_id=org.id, name="Ward 12 – General Surgery", code="W12",
             description="24-bed surgical ward, elective and emergency admissions."),
    ]
    db.session.add_all(wards)
    db.session.flush()
    for ward in wards:
        db.session.add_all(_shift_types(ward))
    today = today or date.today()
    hospital = DemoHospital(org, wards, grades, skills, today=today)
    names = _unique_names(hospital.rng, 45 + 30)
    _add_staff(hospital, wards[0], names[:45])
    _add_staff(hospital, wards[1], names[45:])
    _add_demo_accounts(hospital)
    db.session.flush()
    for feature in FEATURES:
        try:
            module = importlib.import_module(f"portal.{feature}.demo")
        except ModuleNotFoundError as exc:
            if exc.name in (f"portal.{feature}", f"portal.{feature}.demo"):
                continue
            raise
        module.add_demo_data(hospital)
        db.session.flush()
    return hospital


def _shift_types(ward: Ward) -> list[ShiftType]:
    return [
        ShiftType(ward_id=ward.id, code="E", name="Early", start_time=time(7, 0), end_time=time(15, 0),
                  paid_minutes=450, colour="#2f7d4f"),
        ShiftType(ward_id=ward.id, code="L", name="Late", start_time=time(13, 30), end_time=time(21, 30),
                  paid_minutes=450, colour="#3b5ba9"),
        ShiftType(ward_id=ward.id, code="LD", name="Long day", start_time=time(7, 30), end_time=time(20, 0),
                  paid_minutes=705, colour="#8a4f9e"),
        ShiftType(ward_id=ward.id, code="N", name="Night", start_time=time(20, 0), end_time=time(7, 30),
                  paid_minutes=660, colour="#1f2937", is_night=True),
    ]


def _unique_names(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        if name not in seen and not name.startswith(("Amara Okafor", "Grace Whitfield")):
            seen.add(name)
            names.append(name)
    return names


def _add_staff(hospital: DemoHospital, ward: Ward, names: list[str]) -> None:
    rng = hospital.rng
    size = len(names)
    # Grade mix of a typical ward: about 15% charge nurses, 50% RNs, 5% NAs, 30% HCAs.
    grade_plan = (["CN"] * round(size * 0.15) + ["NA"] * max(1, round(size * 0.05))
                  + ["HCA"] * round(size * 0.3))
    grade_plan += ["RN"] * (size - len(grade_plan))
    rng.shuffle(grade_plan)
    staff_list: list[StaffMember] = []
    start = hospital.today - timedelta(days=rng.randint(400, 2000))
    for index, (name, grade_code) in enumerate(zip(names, grade_plan, strict=True)):
        number = f"{ward.code}{index + 1:03d}"
        email = f"{name.lower().replace(' ', '.')}.{number.lower()}@{DEMO_DOMAIN}"
        user = User(email=email, password_hash=None)
        user.roles.append(RoleAssignment(role=Role.NURSE))
        staff = StaffMember(organisation_id=hospital.organisation.id, employee_number=number, full_name=name,
                            grade=hospital.grades[grade_code], user=user)
        staff.skills = _skills_for(rng, grade_code, hospital.skills)
        hours = rng.choices([37.5, 30, 22.5, 15], weights=[70, 15, 10, 5])[0]
        staff.contracts.append(Contract(minutes_per_week=int(hours * 60), start_date=start,
                                        may_work_nights=rng.random() > 0.12))
        staff.memberships.append(WardMembership(ward=ward, start_date=start))
        db.session.add(staff)
        staff_list.append(staff)
    hospital.staff_by_ward[ward.id] = staff_list


def _skills_for(rng: random.Random, grade: str, skills: dict[str, Skill]) -> list[Skill]:
    chosen: list[Skill] = []
    if grade in ("CN", "RN"):
        if grade == "CN" or rng.random() < 0.7:
            chosen.append(skills["IV"])
        if rng.random() < 0.25:
            chosen.append(skills["TRACH"])
        if rng.random() < 0.3:
            chosen.append(skills["NIV"])
        if grade == "CN" or rng.random() < 0.2:
            chosen.append(skills["ASSESSOR"])
    elif rng.random() < 0.5:
        chosen.append(skills["PHLEB"])
    return chosen


def _add_demo_accounts(hospital: DemoHospital) -> None:
    ward = hospital.wards[0]
    staff = hospital.staff_by_ward[ward.id]
    nurse = next(s for s in staff if s.grade.code == "RN")
    nurse.full_name, nurse.known_as = "Amara Okafor", ""
    nurse.user.email = DEMO_LOGINS[0][1]
    nurse.user.password_hash = hash_password(DEMO_LOGINS[0][2])
    nurse.skills = [hospital.skills["IV"], hospital.skills["NIV"]]
    nurse.contracts[-1].minutes_per_week = 2250
    nurse.contracts[-1].may_work_nights = True
    manager = next(s for s in staff if s.grade.code == "CN")
    manager.full_name, manager.known_as = "Grace Whitfield", ""
    manager.user.email = DEMO_LOGINS[1][1]
    manager.user.password_hash = hash_password(DEMO_LOGINS[1][2])
    manager.user.roles.append(RoleAssignment(role=Role.MANAGER, ward=ward))
    admin = User(email=DEMO_LOGINS[2][1], password_hash=hash_password(DEMO_LOGINS[2][2]))
    admin.roles.append(RoleAssignment(role=Role.ADMIN))
    db.session.add(admin)
    hospital.nurse, hospital.manager, hospital.admin = nurse, manager, admin
