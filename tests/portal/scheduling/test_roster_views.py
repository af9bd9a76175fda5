"""Manager pages of the roster side, through the HTTP client (jobs run inline: JOBS_IMMEDIATE)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.scheduling import services
from portal.scheduling.models import (
    CoverRequirement,
    DayType,
    DecisionStatus,
    Leave,
    LeaveKind,
    OptimiserRun,
    Priority,
    RequestKind,
    RosterKind,
    RosterPeriod,
    RunStatus,
    ShiftRequest,
    WardRules,
)
from tests.conftest import csrf_token_from
from tests.portal.scheduling.roster_helpers import build_roster_ward, publish_solved, solved_cells


@pytest.fixture
def setup(users, org, ward):
    return build_roster_ward(org, ward)


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_rules_page_saves_and_refuses_a_stale_form(setup, login_as, post):
    client = login_as("manager")
    url = f"/scheduling/wards/{setup.ward.id}/rules"
    html = _page(client, url)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
    data = {
        "min_rest_hours": 12, "max_consecutive_days": 5, "min_consecutive_days": 1, "max_consecutive_nights": 3,
        "min_days_off_after_nights": 2, "min_consecutive_days_off": 1, "max_weekends_per_period": 2,
        "complete_weekends": "y", "forbidden_sequences": "N E, N L", "contract_tolerance_minutes": 450,
        "high_priority_quota": 2, "optimiser_time_limit_s": 30, "version": version,
        **{f"weights-w_{k}": v for k, v in services.DEFAULT_WEIGHTS.items()},
    }
    data["weights-w_request_high"] = 500
    response = post(url, data)
    assert response.status_code == 302
    rules = db.session.scalar(select(WardRules).where(WardRules.ward_id == setup.ward.id))
    db.session.refresh(rules)
    assert rules.min_rest_hours == 12 and rules.forbidden_sequences == [["N", "E"], ["N", "L"]]
    assert rules.weights == {"request_high": 500}
    # The same form again (old version): refused, nothing lost.
    data["min_rest_hours"] = 10
    response = post(url, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Someone else changed this" in html
    assert 'value="N E, N L"' in html
    db.session.refresh(rules)
    assert rules.min_rest_hours == 12
    data["version"] = str(rules.version)
    data["forbidden_sequences"] = "N Q"
    html = post(url, data).get_data(as_text=True)
    assert "Unknown shift code Q" in html


def test_cover_page_adds_rows_for_a_grade_and_refuses_ideal_below_minimum(setup, login_as, post, org):
    client = login_as("manager")
    url = f"/scheduling/wards/{setup.ward.id}/cover"
    grades = {g.code: g for g in db.session.scalars(select(services.Grade).where(services.Grade.organisation_id == org.id))}
    response = post(url, {"shift_type_id": setup.shifts["N"].id, "day_type": "weekend", "kind": "grade",
                          "grade_id": grades["CN"].id, "skill_id": 0, "minimum": 1, "ideal": 1})
    assert response.status_code == 302
    row = db.session.scalar(select(CoverRequirement).where(CoverRequirement.grade_id == grades["CN"].id))
    assert row.day_type == DayType.WEEKEND and row.minimum == 1
    html = post(url, {"shift_type_id": setup.shifts["N"].id, "day_type": "weekday", "kind": "total",
                      "grade_id": 0, "skill_id": 0, "minimum": 3, "ideal": 2}).get_data(as_text=True)
    assert "The ideal cannot be below the minimum." in html
    assert "Charge nurse or senior" in _page(client, url)
    html = post(url, {"shift_type_id": setup.shifts["N"].id, "day_type": "weekday", "kind": "grade",
                      "grade_id": 0, "skill_id": 0, "minimum": 1, "ideal": 1}).get_data(as_text=True)
    assert "Choose the grade this row counts." in html


def test_period_page_refuses_overlaps_and_a_window_after_the_start(setup, login_as, post):
    client = login_as("manager")
    url = f"/scheduling/wards/{setup.ward.id}/periods"
    start = setup.period.start_date + timedelta(days=7)
    html = post(url, {"start_date": start.isoformat(), "days": 28, "requests_open_on": (start - timedelta(days=30)).isoformat(),
                      "requests_close_on": (start - timedelta(days=10)).isoformat()}).get_data(as_text=True)
    assert "It overlaps the period" in html
    start = setup.period.end_date + timedelta(days=1)
    html = post(url, {"start_date": start.isoformat(), "days": 28, "requests_open_on": start.isoformat(),
                      "requests_close_on": (start + timedelta(days=1)).isoformat()}).get_data(as_text=True)
    assert "Requests must close on or before the first day" in html
    response = post(url, {"start_date": start.isoformat(), "days": 28,
                          "requests_open_on": (start - timedelta(days=30)).isoformat(),
                          "requests_close_on": (start - timedelta(days=7)).isoformat()})
    assert response.status_code == 302
    assert db.session.scalar(select(RosterPeriod).where(RosterPeriod.start_date == start)).days == 28


def test_optimise_review_edit_publish_and_export(setup, login_as, post, users):
    """The whole manager flow: optimise (inline job) → review → edit refused/accepted → publish → exports."""
    nurse = setup.staff[2]
    day = setup.period.start_date + timedelta(days=2)
    db.session.add(ShiftRequest(period_id=setup.period.id, staff_id=nurse.id, day=day, kind=RequestKind.DAY_OFF,
                                priority=Priority.HIGH))
    db.session.add(Leave(staff_id=setup.staff[3].id, kind=LeaveKind.ANNUAL, start_date=day, end_date=day,
                         status=DecisionStatus.APPROVED))
    db.session.flush()
    client = login_as("manager")
    period_url = f"/scheduling/periods/{setup.period.id}"
    response = post(f"{period_url}/optimise", {"time_limit_s": 2}, page=period_url)
    assert response.status_code == 302 and "/scheduling/runs/" in response.headers["Location"]
    run = db.session.scalar(select(OptimiserRun).where(OptimiserRun.period_id == setup.period.id))
    db.session.refresh(run)
    assert run.status == RunStatus.FINISHED and run.active_period_id is None
    assert run.progress and run.objective is not None and run.time_limit_s == 2
    assert "not proven optimal" in run.message or "proven to be the best" in run.message
    progress = _page(client, response.headers["Location"])
    assert "Score over time" in progress and "Review the draft" in progress
    assert client.get(f"/scheduling/runs/{run.id}/status").get_json()["status"] == "finished"

    draft = services.draft_roster(setup.period)
    cells = services.roster_cells(draft)
    assert (setup.staff[3].id, day) not in cells  # approved leave is hard
    html = _page(client, f"{period_url}/draft")
    assert "Shifts" in html and "Score by rule" in html and "E cover" in html.replace("Early cover", "E cover")
    assert nurse.display_name in html

    # Removing someone's shift breaks their contract hours or the cover: refused with reasons, nothing lost.
    worked = next(d for s, d in sorted(cells) if s == nurse.id)
    cell_url = f"{period_url}/draft/cell?staff_id={nurse.id}&day={worked.isoformat()}"
    html = post(cell_url, {"shift_type_id": 0, "version": draft.version, "submit": "Save"}).get_data(as_text=True)
    assert "This change would break" in html
    assert services.roster_cells(draft) == cells
    check = post(f"{period_url}/draft/check?staff_id={nurse.id}&day={worked.isoformat()}",
                 {"shift_type_id": 0}, page=cell_url).get_json()
    assert check["ok"] is False and check["reasons"]
    # Locking the shift it already has is fine.
    response = post(cell_url, {"shift_type_id": cells[(nurse.id, worked)], "is_locked": "y", "version": draft.version,
                               "submit": "Save"})
    assert response.status_code == 302
    assert services.locked_cells(draft) == {(nurse.id, worked): cells[(nurse.id, worked)]}

    db.session.refresh(draft)
    response = post(f"{period_url}/publish", {"version": draft.version, "note": "First"}, page=f"{period_url}/draft")
    assert response.status_code == 302
    published = services.current_published_roster(setup.period)
    assert published.number == 1 and published.kind == RosterKind.PUBLISHED
    assert services.roster_cells(published) == cells
    html = _page(client, f"/scheduling/rosters/{published.id}")
    assert "Roster version 1" in html and "Current version" in html

    exported = client.get(f"/scheduling/rosters/{published.id}/roster.csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0] == ["staff", "employee_number", "date", "shift", "start", "end"]
    assert len(rows) == len(cells) + 1
    ics = client.get(f"/scheduling/rosters/{published.id}/roster.ics").get_data(as_text=True)
    assert ics.startswith("BEGIN:VCALENDAR") and "TZID=Europe/London" in ics
    assert ics.count("BEGIN:VEVENT") == len(cells)
    printable = _page(client, f"/scheduling/rosters/{published.id}/print")
    assert "size: A4 landscape" in printable

    # Re-optimising keeps the locked cell.
    response = post(f"{period_url}/optimise", {"time_limit_s": 1}, page=period_url)
    assert services.locked_cells(services.draft_roster(setup.period)) == {(nurse.id, worked): cells[(nurse.id, worked)]}


def test_a_second_run_for_the_same_period_is_refused(setup, login_as, post, users):
    run = services.start_optimisation(setup.period, users["manager"], time_limit_s=5)
    db.session.flush()
    client = login_as("manager")
    period_url = f"/scheduling/periods/{setup.period.id}"
    response = post(f"{period_url}/optimise", {"time_limit_s": 2}, page=period_url, follow_redirects=True)
    assert "already running for this period" in response.get_data(as_text=True)
    assert db.session.scalars(select(OptimiserRun)).all() == [run]
    # Stopping a queued run cancels it and frees the period.
    response = post(f"/scheduling/runs/{run.id}/stop", {}, page=f"/scheduling/runs/{run.id}")
    db.session.refresh(run)
    assert run.status == RunStatus.CANCELLED and run.active_period_id is None


def test_an_impossible_cover_is_explained_not_just_infeasible(setup, login_as, post):
    for row in db.session.scalars(select(CoverRequirement).where(CoverRequirement.shift_type_id == setup.shifts["N"].id)):
        row.minimum, row.ideal = 20, 20
    db.session.flush()
    login_as("manager")
    period_url = f"/scheduling/periods/{setup.period.id}"
    response = post(f"{period_url}/optimise", {"time_limit_s": 2}, page=period_url, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Why no roster is possible" in html
    assert "Night on" in html and "needs at least 20 staff" in html


def test_conflicting_rules_are_named_when_no_roster_exists(setup, login_as, post):
    """Enough people exist for each shift, but the working rules make the cover impossible."""
    rules = services.ward_rules(setup.ward)
    rules.max_consecutive_days = 1
    rules.min_consecutive_days_off = 3
    db.session.flush()
    login_as("manager")
    period_url = f"/scheduling/periods/{setup.period.id}"
    html = post(f"{period_url}/optimise", {"time_limit_s": 5}, page=period_url,
                follow_redirects=True).get_data(as_text=True)
    run = db.session.scalar(select(OptimiserRun).where(OptimiserRun.period_id == setup.period.id))
    db.session.refresh(run)
    assert run.status == RunStatus.FAILED and run.solver_status == "infeasible", run.message
    assert "Why no roster is possible" in html
    assert run.explanations and "cannot all be met" in run.explanations[0]["message"]


def test_sick_call_repairs_with_few_changes_then_publishes(setup, login_as, post, users):
    manager = users["manager"]
    first = publish_solved(setup, manager, time_limit_s=3)
    before = services.roster_cells(first)
    nurse = setup.staff[4]
    absent = sorted(d for s, d in before if s == nurse.id)[2]
    db.session.flush()
    client = login_as("manager")
    url = f"/scheduling/periods/{setup.period.id}/sick-call"
    response = post(url, {"staff_id": nurse.id, "start_date": absent.isoformat(), "end_date": absent.isoformat(),
                          "time_limit_s": 3, "base_roster_id": first.id, "note": "D&V"})
    assert response.status_code == 302, response.get_data(as_text=True)
    leave = db.session.scalar(select(Leave).where(Leave.staff_id == nurse.id, Leave.kind == LeaveKind.SICKNESS))
    assert leave.status == DecisionStatus.APPROVED and leave.start_date == absent
    run = db.session.scalar(select(OptimiserRun).where(OptimiserRun.purpose == "repair"))
    db.session.refresh(run)
    assert run.status == RunStatus.FINISHED, run.message
    draft = services.draft_roster(setup.period)
    after = services.roster_cells(draft)
    assert (nurse.id, absent) not in after
    # Every day before the absence is kept as published.
    assert {k: v for k, v in after.items() if k[1] < absent} == {k: v for k, v in before.items() if k[1] < absent}
    changed = [k for k in set(before) | set(after) if before.get(k) != after.get(k)]
    assert 1 <= len(changed) <= 12, len(changed)
    html = _page(client, f"/scheduling/periods/{setup.period.id}/draft")
    assert "Changes from published version 1" in html
    db.session.refresh(draft)
    response = post(f"/scheduling/periods/{setup.period.id}/publish", {"version": draft.version},
                    page=f"/scheduling/periods/{setup.period.id}/draft")
    assert response.status_code == 302
    second = services.current_published_roster(setup.period)
    assert second.number == 2 and second.based_on_id == first.id
    diff = _page(client, f"/scheduling/rosters/{second.id}/diff")
    assert nurse.display_name in diff


def test_a_stale_publish_form_gets_a_clear_message(setup, login_as, post, users):
    cells = solved_cells(setup, time_limit_s=2)
    draft = services.write_draft(setup.period, cells, run=None, based_on=None)
    old_version = draft.version
    services.publish_draft(setup.period, users["manager"], version=draft.version)
    db.session.flush()
    login_as("manager")
    response = post(f"/scheduling/periods/{setup.period.id}/publish", {"version": old_version},
                    page=f"/scheduling/periods/{setup.period.id}/draft", follow_redirects=True)
    assert "Someone else changed this" in response.get_data(as_text=True)
    assert services.current_published_roster(setup.period).number == 1
