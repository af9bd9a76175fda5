"""The roster services: the adapter round trip and the interface the self-service side calls."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

import solver
from portal.extensions import db
from portal.models import AuditEvent, Grade, Notification
from portal.scheduling import services
from portal.scheduling.models import (
    AvailabilityKind,
    CoverRequirement,
    DayType,
    DecisionStatus,
    FairnessLedger,
    Leave,
    LeaveKind,
    Priority,
    ReasonCategory,
    RecurringAvailability,
    RequestKind,
    RequirementKind,
    Roster,
    RosterKind,
    ShiftRequest,
    WardRules,
)
from tests import factories
from tests.portal.scheduling.roster_helpers import build_roster_ward, publish_solved, put_roster, solved_cells


@pytest.fixture
def setup(users, org, ward):
    return build_roster_ward(org, ward)


def test_ward_rules_are_created_once_with_defaults(ward):
    rules = services.ward_rules(ward)
    assert rules.id is not None and rules.min_rest_hours == 11
    assert services.ward_rules(ward) is rules
    assert db.session.scalars(select(WardRules).where(WardRules.ward_id == ward.id)).all() == [rules]


def test_current_published_roster_is_the_highest_number(setup):
    assert services.current_published_roster(setup.period) is None
    put_roster(setup.period, {}, number=1)
    second = put_roster(setup.period, {}, number=2)
    put_roster(setup.period, {}, kind=RosterKind.DRAFT)
    assert services.current_published_roster(setup.period) is second


def test_adapter_round_trip_rows_problem_roster_rows(setup):
    """Rows → problem → solver roster → rows gives back the same cells, and the solver's roster is valid."""
    cells = solved_cells(setup, time_limit_s=3)
    built = services.problem_for_period(setup.period)
    assert {p.id for p in built.problem.staff} == {str(s.id) for s in setup.staff}
    assert built.problem.horizon.num_days == 14
    assert built.problem.rules.min_rest_hours == 11
    # Late (13:30-21:30) then Early (07:00) is 9.5 h of rest: a forbidden pair from real shift times.
    assert (("L", "E"), "minimum rest") in built.problem.forbidden_sequences
    roster = built.mapping.to_solver(cells)
    assert built.mapping.from_solver(roster) == cells
    assert solver.validate(built.problem, roster).is_valid
    draft = services.write_draft(setup.period, cells, run=None, based_on=None)
    assert services.roster_cells(draft) == cells


def test_grade_cover_counts_senior_registered_staff_only(users, org, ward):
    setup = build_roster_ward(org, ward, charge_nurse_cover=True)
    hca = factories.create_staff(org, ward, "Hana Assistant", grade_code="HCA")
    rn = db.session.scalar(select(Grade).where(Grade.organisation_id == org.id, Grade.code == "RN"))
    for day_type in DayType:
        db.session.add(CoverRequirement(ward_id=ward.id, shift_type_id=setup.shifts["E"].id, day_type=day_type,
                                        kind=RequirementKind.GRADE, grade_id=rn.id, minimum=1, ideal=1))
    db.session.flush()
    built = services.problem_for_period(setup.period)
    by_id = {p.id: p for p in built.problem.staff}
    charge = by_id[str(setup.staff[0].id)]
    assert {"grade:CN", "grade:RN"} <= charge.skills  # a charge nurse counts as an RN
    assert "grade:RN" in by_id[str(setup.staff[5].id)].skills
    assert "grade:CN" not in by_id[str(setup.staff[5].id)].skills
    assert not {"grade:RN", "grade:CN"} & by_id[str(hca.id)].skills  # an HCA never counts as an RN


def test_leave_availability_and_requests_reach_the_problem(setup, users):
    nurse, other = setup.staff[3], setup.staff[4]
    start = setup.period.start_date
    db.session.add(Leave(staff_id=nurse.id, kind=LeaveKind.ANNUAL, start_date=start, end_date=start + timedelta(days=4),
                         status=DecisionStatus.APPROVED))
    db.session.add(Leave(staff_id=other.id, kind=LeaveKind.ANNUAL, start_date=start, end_date=start,
                         status=DecisionStatus.PENDING))
    db.session.add(RecurringAvailability(staff_id=other.id, kind=AvailabilityKind.NO_NIGHTS, reason=ReasonCategory.CARING,
                                         valid_from=date(2020, 1, 1), status=DecisionStatus.APPROVED))
    third = setup.staff[5]
    db.session.add(RecurringAvailability(staff_id=third.id, kind=AvailabilityKind.NOT_WEEKDAY, weekday=start.weekday(),
                                         reason=ReasonCategory.STUDY, valid_from=start + timedelta(days=1),
                                         status=DecisionStatus.APPROVED))
    db.session.add(RecurringAvailability(staff_id=third.id, kind=AvailabilityKind.NOT_SHIFT,
                                         shift_type_id=setup.shifts["L"].id, reason=ReasonCategory.OTHER,
                                         valid_from=date(2020, 1, 1), valid_to=start + timedelta(days=2),
                                         status=DecisionStatus.APPROVED))
    db.session.add(RecurringAvailability(staff_id=third.id, kind=AvailabilityKind.NO_NIGHTS, reason=ReasonCategory.OTHER,
                                         valid_from=date(2020, 1, 1), status=DecisionStatus.PENDING))
    for day in range(5):
        db.session.add(ShiftRequest(period_id=setup.period.id, staff_id=other.id, day=start + timedelta(days=day),
                                    kind=RequestKind.DAY_OFF, priority=Priority.HIGH))
    db.session.flush()
    built = services.problem_for_period(setup.period)
    person = built.problem.staff_by_id[str(nurse.id)]
    assert person.unavailable_days == frozenset(range(5))  # approved leave is hard
    # A week of leave lowers the contracted minutes by a full week (5 weekdays), not 5/7 of one.
    assert person.max_minutes == 2250 + 450
    colleague = built.problem.staff_by_id[str(other.id)]
    assert 0 not in colleague.unavailable_days  # pending leave is not
    assert all((d, "N") in colleague.unavailable_shifts for d in range(14))
    limited = built.problem.staff_by_id[str(third.id)]
    assert limited.unavailable_days == frozenset({7})  # that weekday, from a week on (not day 0: not yet in force)
    assert limited.unavailable_shifts == frozenset({(0, "L"), (1, "L"), (2, "L")})  # until it ends; pending: nothing
    requests = [r for r in built.problem.requests if r.staff_id == str(other.id)]
    assert len(requests) == 5 and all(r.kind is solver.RequestKind.OFF for r in requests)
    # Only the quota (3) of high-priority requests counts as high.
    assert sorted(r.weight for r in requests) == [100, 100, 300, 300, 300]


def test_check_roster_change_returns_plain_reasons(setup, users):
    publish_solved(setup, users["manager"], time_limit_s=2)
    period, nurse = setup.period, setup.staff[2]
    start = period.start_date
    reasons = services.check_roster_change(period, [
        (nurse.id, start + timedelta(days=1), setup.shifts["L"].id),
        (nurse.id, start + timedelta(days=2), setup.shifts["E"].id),
    ])
    assert any("minimum rest" in r for r in reasons), reasons
    assert not any("(day " in r for r in reasons)
    assert services.check_roster_change(period, []) == []
    with pytest.raises(services.SchedulingError) as error:
        services.check_roster_change(period, [(nurse.id, start - timedelta(days=1), None)])
    assert "outside this roster period" in error.value.reasons[0]


def test_check_roster_change_refuses_work_on_approved_leave(setup, users):
    current = publish_solved(setup, users["manager"], time_limit_s=2)
    nurse = setup.staff[1]
    day = setup.period.start_date + timedelta(days=3)
    off_day = next(day + timedelta(days=i) for i in range(7)
                   if (nurse.id, day + timedelta(days=i)) not in services.roster_cells(current))
    db.session.add(Leave(staff_id=nurse.id, kind=LeaveKind.STUDY, start_date=off_day, end_date=off_day,
                         status=DecisionStatus.APPROVED))
    db.session.flush()
    reasons = services.check_roster_change(setup.period, [(nurse.id, off_day, setup.shifts["E"].id)])
    assert any("on leave" in r for r in reasons), reasons


def test_publish_changes_makes_a_new_version_notifies_and_audits(setup, users):
    manager = users["manager"]
    first = publish_solved(setup, manager, time_limit_s=2)
    cells = services.roster_cells(first)
    # Swap two people's shifts on one day where one works and the other is off: a valid give-away is rare,
    # so search for a change the validator accepts.
    change = _find_valid_swap(setup, cells)
    before_notes = db.session.scalar(select(db.func.count(Notification.id)))
    new = services.publish_changes(setup.period, manager, change, "Swap agreed", base_roster_id=first.id)
    assert new.number == 2 and new.based_on_id == first.id and new.kind == RosterKind.PUBLISHED
    assert services.current_published_roster(setup.period) is new
    after = services.roster_cells(new)
    for staff_id, day, shift_id in change:
        assert after.get((staff_id, day)) == shift_id
    assert services.roster_cells(first) == cells  # the old version is untouched
    notes = db.session.scalar(select(db.func.count(Notification.id)))
    assert notes - before_notes == 2
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scheduling.roster_published",
                                                       AuditEvent.object_id == str(new.id)))
    assert event.actor_id == manager.id and event.detail["number"] == 2
    lines = services.diff_rosters(first, new)
    assert {(line.staff.id, line.day) for line in lines} == {(s, d) for s, d, _ in change}


def test_publish_changes_refuses_a_stale_base_and_a_broken_rule(setup, users):
    manager = users["manager"]
    first = publish_solved(setup, manager, time_limit_s=2)
    change = _find_valid_swap(setup, services.roster_cells(first))
    services.publish_changes(setup.period, manager, change, "first change", base_roster_id=first.id)
    with pytest.raises(services.SchedulingError) as error:
        services.publish_changes(setup.period, manager, [], "late", base_roster_id=first.id)
    assert "changed after you opened" in error.value.reasons[0]
    nurse = setup.staff[0]
    start = setup.period.start_date
    with pytest.raises(services.SchedulingError) as error:
        services.publish_changes(setup.period, manager, [(nurse.id, start + timedelta(days=d), setup.shifts["N"].id)
                                                         for d in range(7)], "too many nights")
    assert error.value.reasons and all(isinstance(r, str) for r in error.value.reasons)
    assert services.current_published_roster(setup.period).number == 2


def test_publish_draft_numbers_versions_and_writes_the_ledger(setup, users):
    manager = users["manager"]
    first = publish_solved(setup, manager, time_limit_s=2)
    assert first.number == 1
    draft = services.draft_roster(setup.period)
    assert draft.based_on_id == first.id
    ledger = db.session.scalars(select(FairnessLedger).where(FairnessLedger.period_id == setup.period.id)).all()
    assert len(ledger) == len(setup.staff)
    night_id = setup.shifts["N"].id
    assert sum(row.nights for row in ledger) == sum(1 for t in services.roster_cells(first).values() if t == night_id)
    notified = db.session.scalars(select(Notification).where(Notification.kind == "roster_published")).all()
    assert len(notified) == len(setup.staff)
    with pytest.raises(services.SchedulingError):  # the version the manager reviewed is stale now
        services.publish_draft(setup.period, manager, version=draft.version - 1)
    second = services.publish_draft(setup.period, manager, version=draft.version)
    assert second.number == 2 and services.diff_rosters(first, second) == []


def test_publish_draft_refuses_a_draft_that_breaks_rules(setup, users):
    cells = solved_cells(setup, time_limit_s=2)
    nurse = setup.staff[0]
    broken = {k: v for k, v in cells.items() if k[0] != nurse.id}
    draft = services.write_draft(setup.period, broken, run=None, based_on=None)
    with pytest.raises(services.SchedulingError) as error:
        services.publish_draft(setup.period, users["manager"], version=draft.version)
    assert any("contract needs at least" in r or "needed" in r for r in error.value.reasons), error.value.reasons
    assert services.current_published_roster(setup.period) is None


def test_publish_draft_refuses_when_a_newer_version_exists(setup, users):
    manager = users["manager"]
    first = publish_solved(setup, manager, time_limit_s=2)
    change = _find_valid_swap(setup, services.roster_cells(first))
    services.publish_changes(setup.period, manager, change, "swap")
    draft = services.draft_roster(setup.period)
    with pytest.raises(services.SchedulingError) as error:
        services.publish_draft(setup.period, manager, version=draft.version)
    assert "would undo" in error.value.reasons[0]
    draft = services.reset_draft(setup.period, manager, version=draft.version)
    third = services.publish_draft(setup.period, manager, version=draft.version)
    assert third.number == 3


def test_edit_draft_refuses_broken_rules_and_keeps_locks(setup, users):
    manager = users["manager"]
    cells = solved_cells(setup, time_limit_s=2)
    draft = services.write_draft(setup.period, cells, run=None, based_on=None)
    nurse = setup.staff[0]
    worked = sorted(d for s, d in cells if s == nurse.id)
    with pytest.raises(services.SchedulingError) as error:
        services.edit_draft(setup.period, manager, staff_id=nurse.id, day=worked[0], shift_type_id=None,
                            is_locked=False, version=draft.version)
    assert error.value.reasons
    assert services.roster_cells(draft) == cells  # nothing lost
    same = cells[(nurse.id, worked[0])]
    services.edit_draft(setup.period, manager, staff_id=nurse.id, day=worked[0], shift_type_id=same,
                        is_locked=True, version=draft.version)
    assert services.locked_cells(draft) == {(nurse.id, worked[0]): same}
    with pytest.raises(services.SchedulingError):
        services.edit_draft(setup.period, manager, staff_id=nurse.id, day=worked[0], shift_type_id=same,
                            is_locked=True, version=draft.version - 1)


def test_explanations_and_breakdown_rows_are_plain(setup):
    built = services.problem_for_period(setup.period)
    rows = services.explanation_rows(built.mapping, [
        solver.Explanation("x asked for Mon 04 Mar (day 0)", str(setup.staff[0].id), 0, ("shift_off_request",))])
    assert rows[0]["message"] == "X asked for Mon 04 Mar"
    assert rows[0]["staff_id"] == setup.staff[0].id and rows[0]["day"] == setup.period.start_date.isoformat()
    assert rows[0]["rules"] == ["Days or shifts off not given"]


def _find_valid_swap(setup, cells):
    """Two nurses exchange their shifts on one day (a change the validator accepts)."""
    period = setup.period
    for offset in range(period.days):
        day = period.start_date + timedelta(days=offset)
        working = [(s, t) for (s, d), t in cells.items() if d == day]
        for (a, ta) in working:
            for (b, tb) in working:
                if a < b and ta != tb:
                    change = [(a, day, tb), (b, day, ta)]
                    if not services.check_roster_change(period, change):
                        return change
    raise AssertionError("no valid swap in the roster")


def test_personal_limits_reach_the_problem_as_soft_personal_rules(setup):
    """A nurse's own limits on days in a row, nights in a row and weekends reach the solver."""
    from portal.scheduling.models import PersonalRule, PersonalRuleKind

    nurse = setup.staff[3]
    for kind, value in ((PersonalRuleKind.MAX_CONSECUTIVE_DAYS, 3), (PersonalRuleKind.MAX_WEEKENDS, 1),
                        (PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS, 2)):
        db.session.add(PersonalRule(staff_id=nurse.id, kind=kind, value=value))
    db.session.flush()
    person = services.problem_for_period(setup.period).problem.staff_by_id[str(nurse.id)]
    assert {(r.kind, r.limit, r.weight) for r in person.personal_rules} == {
        (solver.PersonalRuleKind.MAX_CONSECUTIVE_DAYS, 3, services.DEFAULT_WEIGHTS["personal_rule"]),
        (solver.PersonalRuleKind.MAX_WEEKENDS, 1, services.DEFAULT_WEIGHTS["personal_rule"]),
        (solver.PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS, 2, services.DEFAULT_WEIGHTS["personal_rule"]),
    }
