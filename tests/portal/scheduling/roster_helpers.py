"""Builders for roster-side tests: a small ward with rules, cover, a period and a published roster."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.extensions import db
from sqlalchemy import select

from portal.models import Grade, ShiftType, StaffMember, Ward, WardMembership
from portal.scheduling import services
from portal.scheduling.models import (
    CoverRequirement,
    DayType,
    RequirementKind,
    Roster,
    RosterAssignment,
    RosterKind,
    RosterPeriod,
)
from tests import factories

MONDAY = date(2030, 3, 4)  # far from "today", so no request window or past-day logic interferes


@dataclass
class RosterWard:
    ward: Ward
    period: RosterPeriod
    staff: list[StaffMember]
    shifts: dict[str, ShiftType]
    extra: dict = field(default_factory=dict)


def build_roster_ward(org, ward: Ward, *, staff_count: int = 8, days: int = 14, start: date = MONDAY,
                      charge_nurse_cover: bool = False) -> RosterWard:
    """A ward with E/L/N, a simple rule set, cover of 2/2/1 and a two-week period."""
    people = [
        factories.create_staff(org, ward, f"Nurse {chr(65 + i)} Test",
                               grade_code="CN" if i < 2 else "RN", start=date(2024, 1, 1))
        for i in range(staff_count)
    ]
    shifts = {s.code: s for s in ward.shift_types}
    rules = services.ward_rules(ward)
    rules.max_weekends_per_period = 2
    rules.complete_weekends = False
    rules.optimiser_time_limit_s = 5
    for code, minimum in (("E", 2), ("L", 2), ("N", 1)):
        for day_type in DayType:
            db.session.add(CoverRequirement(ward_id=ward.id, shift_type_id=shifts[code].id, day_type=day_type,
                                            kind=RequirementKind.TOTAL, minimum=minimum, ideal=minimum))
    if charge_nurse_cover:
        cn = db.session.query(Grade).filter_by(organisation_id=org.id, code="CN").one()
        for day_type in DayType:
            db.session.add(CoverRequirement(ward_id=ward.id, shift_type_id=shifts["N"].id, day_type=day_type,
                                            kind=RequirementKind.GRADE, grade_id=cn.id, minimum=0, ideal=1))
    period = RosterPeriod(ward_id=ward.id, start_date=start, end_date=start + timedelta(days=days - 1),
                          requests_open_on=start - timedelta(days=30), requests_close_on=start - timedelta(days=7))
    db.session.add(period)
    db.session.flush()
    # Everyone on the ward is rostered, including the accounts of the ``users`` fixture.
    members = db.session.scalars(select(StaffMember).join(WardMembership).where(WardMembership.ward_id == ward.id)
                                 .order_by(StaffMember.id)).all()
    return RosterWard(ward, period, [*people, *(m for m in members if m not in people)], shifts)


def solved_cells(setup: RosterWard, time_limit_s: float = 5.0) -> dict:
    """Solve the period directly (no job) and return its cells."""
    import solver

    built = services.problem_for_period(setup.period)
    result = solver.solve(built.problem, solver.SolveOptions(time_limit_s=time_limit_s, workers=2, seed=1,
                                                             explain=False))
    assert result.roster is not None, result.status
    return built.mapping.from_solver(result.roster)


def publish_solved(setup: RosterWard, actor, time_limit_s: float = 5.0) -> Roster:
    """Write a solved draft and publish it as version 1."""
    cells = solved_cells(setup, time_limit_s)
    draft = services.write_draft(setup.period, cells, run=None, based_on=None, actor=actor)
    return services.publish_draft(setup.period, actor, version=draft.version, note="first")


def put_roster(period: RosterPeriod, cells: dict, kind: RosterKind = RosterKind.PUBLISHED, number: int = 1) -> Roster:
    roster = Roster(period_id=period.id, kind=kind, number=number if kind == RosterKind.PUBLISHED else None,
                    draft_period_id=period.id if kind == RosterKind.DRAFT else None)
    db.session.add(roster)
    db.session.flush()
    db.session.add_all(RosterAssignment(roster_id=roster.id, staff_id=s, day=d, shift_type_id=t)
                       for (s, d), t in cells.items())
    db.session.flush()
    return roster
