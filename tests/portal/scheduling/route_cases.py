"""Route cases for the roster side of scheduling (manager pages). Builders are prefixed ``roster_``."""

from __future__ import annotations

from datetime import date, timedelta

from portal.extensions import db
from portal.scheduling.models import (
    CoverRequirement,
    DayType,
    OptimiserRun,
    RequirementKind,
    Roster,
    RosterAssignment,
    RosterKind,
    RosterPeriod,
    RunStatus,
)
from tests.permissions import ANY_MANAGER, MANAGER_OF_WARD, RouteCase

START = date(2031, 1, 6)


def _period(c) -> RosterPeriod:
    period = RosterPeriod(ward_id=c.ward.id, start_date=START, end_date=START + timedelta(days=13),
                          requests_open_on=START - timedelta(days=30), requests_close_on=START - timedelta(days=7))
    db.session.add(period)
    db.session.flush()
    return period


def _roster(c, kind: RosterKind) -> Roster:
    period = c.roster_period
    roster = Roster(period_id=period.id, kind=kind, number=1 if kind == RosterKind.PUBLISHED else None,
                    draft_period_id=period.id if kind == RosterKind.DRAFT else None)
    db.session.add(roster)
    db.session.flush()
    db.session.add(RosterAssignment(roster_id=roster.id, staff_id=c.users["nurse"].staff.id, day=START,
                                    shift_type_id=c.ward.shift_types[0].id))
    db.session.flush()
    return roster


def _run(c) -> OptimiserRun:
    run = OptimiserRun(period_id=c.roster_period.id, status=RunStatus.FINISHED, time_limit_s=5, progress=[[0.1, 10, 5]],
                       breakdown={}, explanations=[])
    db.session.add(run)
    db.session.flush()
    return run


def _cover(c) -> CoverRequirement:
    row = CoverRequirement(ward_id=c.ward.id, shift_type_id=c.ward.shift_types[0].id, day_type=DayType.WEEKDAY,
                           kind=RequirementKind.TOTAL, minimum=0, ideal=1)
    db.session.add(row)
    db.session.flush()
    return row


BUILDERS = {
    "roster_period": _period,
    "roster_published": lambda c: _roster(c, RosterKind.PUBLISHED),
    "roster_draft": lambda c: _roster(c, RosterKind.DRAFT),
    "roster_run": _run,
    "roster_cover": _cover,
}


def _cell(c) -> str:
    c.roster_draft  # noqa: B018  (built for its side effect)
    return f"/scheduling/periods/{c.roster_period.id}/draft/cell?staff_id={c.users['nurse'].staff.id}&day={START.isoformat()}"


def _check(c) -> str:
    c.roster_draft  # noqa: B018
    return f"/scheduling/periods/{c.roster_period.id}/draft/check?staff_id={c.users['nurse'].staff.id}&day={START.isoformat()}"


def _draft(c) -> str:
    c.roster_draft  # noqa: B018
    return f"/scheduling/periods/{c.roster_period.id}/draft"


CASES = [
    RouteCase("scheduling.rosters", "GET", lambda c: "/scheduling/rosters", ANY_MANAGER),
    RouteCase("scheduling.edit_rules", "GET", lambda c: f"/scheduling/wards/{c.ward.id}/rules", MANAGER_OF_WARD),
    RouteCase("scheduling.edit_rules", "POST", lambda c: f"/scheduling/wards/{c.ward.id}/rules", MANAGER_OF_WARD),
    RouteCase("scheduling.cover", "GET", lambda c: f"/scheduling/wards/{c.ward.id}/cover", MANAGER_OF_WARD),
    RouteCase("scheduling.cover", "POST", lambda c: f"/scheduling/wards/{c.ward.id}/cover", MANAGER_OF_WARD),
    RouteCase("scheduling.remove_cover", "POST", lambda c: f"/scheduling/cover/{c.roster_cover.id}/remove",
              MANAGER_OF_WARD),
    RouteCase("scheduling.copy_cover", "POST", lambda c: f"/scheduling/wards/{c.ward.id}/cover/copy", MANAGER_OF_WARD),
    RouteCase("scheduling.periods", "GET", lambda c: f"/scheduling/wards/{c.ward.id}/periods", MANAGER_OF_WARD),
    RouteCase("scheduling.periods", "POST", lambda c: f"/scheduling/wards/{c.ward.id}/periods", MANAGER_OF_WARD),
    RouteCase("scheduling.period", "GET", lambda c: f"/scheduling/periods/{c.roster_period.id}", MANAGER_OF_WARD),
    RouteCase("scheduling.period", "POST", lambda c: f"/scheduling/periods/{c.roster_period.id}", MANAGER_OF_WARD),
    RouteCase("scheduling.start_optimiser", "POST", lambda c: f"/scheduling/periods/{c.roster_period.id}/optimise",
              MANAGER_OF_WARD),
    RouteCase("scheduling.run_progress", "GET", lambda c: f"/scheduling/runs/{c.roster_run.id}", MANAGER_OF_WARD),
    RouteCase("scheduling.run_status", "GET", lambda c: f"/scheduling/runs/{c.roster_run.id}/status", MANAGER_OF_WARD),
    RouteCase("scheduling.stop_run", "POST", lambda c: f"/scheduling/runs/{c.roster_run.id}/stop", MANAGER_OF_WARD),
    RouteCase("scheduling.review_draft", "GET", _draft, MANAGER_OF_WARD),
    RouteCase("scheduling.edit_cell", "GET", _cell, MANAGER_OF_WARD),
    RouteCase("scheduling.edit_cell", "POST", _cell, MANAGER_OF_WARD),
    RouteCase("scheduling.check_cell", "POST", _check, MANAGER_OF_WARD),
    RouteCase("scheduling.publish_roster", "POST", lambda c: f"/scheduling/periods/{c.roster_period.id}/publish",
              MANAGER_OF_WARD),
    RouteCase("scheduling.reset_draft", "POST", lambda c: f"/scheduling/periods/{c.roster_period.id}/draft/reset",
              MANAGER_OF_WARD),
    RouteCase("scheduling.roster_version", "GET", lambda c: f"/scheduling/rosters/{c.roster_published.id}",
              MANAGER_OF_WARD),
    RouteCase("scheduling.roster_diff", "GET", lambda c: f"/scheduling/rosters/{c.roster_published.id}/diff",
              MANAGER_OF_WARD),
    RouteCase("scheduling.sick_call", "GET", lambda c: f"/scheduling/periods/{c.roster_published.period_id}/sick-call",
              MANAGER_OF_WARD),
    RouteCase("scheduling.sick_call", "POST", lambda c: f"/scheduling/periods/{c.roster_published.period_id}/sick-call",
              MANAGER_OF_WARD),
    RouteCase("scheduling.export_csv", "GET", lambda c: f"/scheduling/rosters/{c.roster_published.id}/roster.csv",
              MANAGER_OF_WARD),
    RouteCase("scheduling.export_ics", "GET", lambda c: f"/scheduling/rosters/{c.roster_published.id}/roster.ics",
              MANAGER_OF_WARD),
    RouteCase("scheduling.print_roster", "GET", lambda c: f"/scheduling/rosters/{c.roster_published.id}/print",
              MANAGER_OF_WARD),
]
