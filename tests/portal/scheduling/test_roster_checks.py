"""Checking roster changes: contract hours judged against the allowed band, and every violation in plain words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Grade
from portal.scheduling import services
from portal.scheduling.models import (
    AvailabilityKind,
    CoverRequirement,
    DayType,
    DecisionStatus,
    Leave,
    LeaveKind,
    ReasonCategory,
    RecurringAvailability,
    RequirementKind,
    RosterPeriod,
)
from tests import factories
from tests.portal.scheduling.roster_helpers import MONDAY, put_roster


def _day(offset: int):
    return MONDAY + timedelta(days=offset)


@pytest.fixture
def team(org, ward):
    """Olive (30 h a week), Uma and Ida (37 h 30 min), one week, no cover rows, a 1-hour tolerance."""
    people = {name.split()[0].lower(): factories.create_staff(org, ward, name, minutes_per_week=minutes)
              for name, minutes in (("Olive Over", 1800), ("Uma Under", 2250), ("Ida Inside", 2250))}
    rules = services.ward_rules(ward)
    rules.contract_tolerance_minutes = 60  # bands: Olive 29 h to 31 h, the others 36 h 30 min to 38 h 30 min
    rules.max_consecutive_days = 7
    period = RosterPeriod(ward_id=ward.id, start_date=MONDAY, end_date=_day(6),
                          requests_open_on=MONDAY - timedelta(days=30), requests_close_on=MONDAY - timedelta(days=7))
    db.session.add(period)
    db.session.flush()
    shifts = {s.code: s.id for s in ward.shift_types}
    return people, period, shifts


def _publish_earlies(period, plan: dict, shifts: dict):
    """Publish a roster of Early shifts: ``{staff: [day offsets]}``."""
    return put_roster(period, {(person.id, _day(d)): shifts["E"] for person, days in plan.items() for d in days})


@pytest.fixture
def roster(team):
    people, period, shifts = team
    # Olive works 6 Earlies (45 h, over her band), Uma 3 (22 h 30 min, under), Ida 5 (37 h 30 min, inside).
    return _publish_earlies(period, {people["olive"]: [0, 1, 2, 4, 5, 6], people["uma"]: [0, 1, 2],
                                     people["ida"]: [0, 1, 2, 4, 5]}, shifts)


def test_a_give_away_that_brings_both_nurses_towards_their_band_is_allowed(team, roster):
    """Olive stays over (37 h 30 min) and Uma under (30 h), but both are closer to their band."""
    people, period, shifts = team
    change = [(people["olive"].id, _day(6), None), (people["uma"].id, _day(6), shifts["E"])]
    assert services.check_roster_change(period, change) == []


def test_an_open_shift_claim_by_a_nurse_under_contract_is_allowed(team, roster):
    people, period, shifts = team
    assert services.check_roster_change(period, [(people["uma"].id, _day(3), shifts["E"])]) == []


def test_a_claim_taking_a_nurse_further_over_contract_is_refused_in_hours_and_minutes(team, roster):
    people, period, shifts = team
    reasons = services.check_roster_change(period, [(people["olive"].id, _day(3), shifts["E"])])
    assert reasons == ["Olive Over would work 52 h 30 min; their contract allows at most 31 h "
                       "this period (with tolerance)."]


def test_a_claim_taking_a_nurse_from_inside_to_outside_the_band_is_refused(team, roster):
    people, period, shifts = team
    reasons = services.check_roster_change(period, [(people["ida"].id, _day(3), shifts["E"])])
    assert reasons == ["Ida Inside would work 45 h; their contract allows at most 38 h 30 min "
                       "this period (with tolerance)."]


def test_giving_away_a_shift_when_already_under_contract_is_refused_for_the_giver_only(team, roster):
    people, period, shifts = team
    change = [(people["uma"].id, _day(0), None), (people["olive"].id, _day(3), shifts["E"])]
    reasons = services.check_roster_change(period, change)
    assert "Uma Under would work 15 h; their contract needs at least 36 h 30 min this period " \
           "(with tolerance)." in reasons
    assert any(r.startswith("Olive Over would work 52 h 30 min") for r in reasons)  # further over: refused too
    # Olive giving a shift to Uma moves both towards their band: no contract reason at all.
    swap = [(people["olive"].id, _day(5), None), (people["uma"].id, _day(5), shifts["E"])]
    assert services.check_roster_change(period, swap) == []


def test_a_nurse_outside_the_band_may_change_to_a_shift_of_the_same_length(team, roster):
    people, period, shifts = team
    assert services.check_roster_change(period, [(people["uma"].id, _day(2), shifts["L"])]) == []


def test_a_roster_published_for_part_of_the_period_still_lets_nurses_take_shifts(org, ward):
    """Everyone is far under contract while only the first week is rostered: moving towards it is fine."""
    people = [factories.create_staff(org, ward, name) for name in ("Pat Part", "Quinn Part")]
    services.ward_rules(ward).contract_tolerance_minutes = 60
    period = RosterPeriod(ward_id=ward.id, start_date=MONDAY, end_date=_day(13),
                          requests_open_on=MONDAY - timedelta(days=30), requests_close_on=MONDAY - timedelta(days=7))
    db.session.add(period)
    db.session.flush()
    shifts = {s.code: s.id for s in ward.shift_types}
    _publish_earlies(period, {people[0]: [0, 1, 2], people[1]: [0, 1, 3]}, shifts)
    assert services.check_roster_change(period, [(people[0].id, _day(9), shifts["E"])]) == []
    # A night is longer than an early: still towards the band.
    assert services.check_roster_change(period, [(people[1].id, _day(9), shifts["N"])]) == []
    # Giving a shift away takes the giver further under: refused for the giver, not for the taker.
    reasons = services.check_roster_change(period, [(people[0].id, _day(2), None), (people[1].id, _day(2), shifts["E"])])
    assert reasons == ["Pat Part would work 15 h; their contract needs at least 74 h this period (with tolerance)."]


# --- every kind of violation the validator reports, in a manager's words ---------------------

@pytest.fixture
def loose(org, ward):
    """Two nurses and a fortnight with contract hours out of the way, so each case breaks one rule."""
    sam = factories.create_staff(org, ward, "Sam Patel")
    kim = factories.create_staff(org, ward, "Kim Lee")
    rules = services.ward_rules(ward)
    rules.contract_tolerance_minutes = 100_000
    rules.max_consecutive_days = 5
    rules.max_consecutive_nights = 2
    rules.min_days_off_after_nights = 2
    rules.max_weekends_per_period = 1
    rules.forbidden_sequences = [["E", "N"]]
    period = RosterPeriod(ward_id=ward.id, start_date=MONDAY, end_date=_day(13),
                          requests_open_on=MONDAY - timedelta(days=30), requests_close_on=MONDAY - timedelta(days=7))
    db.session.add(period)
    db.session.flush()
    return sam, kim, period, {s.code: s.id for s in ward.shift_types}


def _reasons(period, plan: dict, shifts: dict, **build) -> list[str]:
    cells = {(person.id, _day(d)): shifts[code] for person, days in plan.items() for d, code in days.items()}
    built = services.build_problem(services.load_snapshot(period), **build)
    return services.roster_violations(built, cells)


def test_wording_of_work_on_leave_and_on_an_unavailable_shift(loose):
    sam, kim, period, shifts = loose
    db.session.add(Leave(staff_id=sam.id, kind=LeaveKind.ANNUAL, start_date=_day(1), end_date=_day(1),
                         status=DecisionStatus.APPROVED))
    db.session.add(RecurringAvailability(staff_id=kim.id, kind=AvailabilityKind.NO_NIGHTS,
                                         reason=ReasonCategory.CARING, valid_from=MONDAY,
                                         status=DecisionStatus.APPROVED))
    db.session.flush()
    reasons = _reasons(period, {sam: {1: "E"}, kim: {8: "N"}}, shifts)
    assert "Sam Patel would work Early on Tue 5 Mar but is on leave or not available that day." in reasons
    assert ("Kim Lee would work Night on Tue 12 Mar but cannot work Night shifts that day "
            "(approved availability).") in reasons


def test_wording_of_nights_for_a_contract_without_nights(loose):
    sam, kim, period, shifts = loose
    sam.contracts[0].may_work_nights = False
    db.session.flush()
    reasons = _reasons(period, {sam: {2: "N"}}, shifts)
    assert "Sam Patel would work 1 Night shift but may not work Night shifts (contract or availability)." in reasons


def test_wording_of_minimum_rest_and_forbidden_sequences(loose):
    sam, kim, period, shifts = loose
    reasons = _reasons(period, {sam: {0: "L", 1: "E"}, kim: {2: "E", 3: "N"}}, shifts)
    assert ("Sam Patel would not get the minimum rest of 11 hours between Late on Mon 4 Mar and Early on "
            "Tue 5 Mar.") in reasons
    assert ("Kim Lee would work Early on Wed 6 Mar then Night on Thu 7 Mar, a sequence the ward's rules "
            "do not allow.") in reasons


def test_wording_of_runs_of_days_and_nights(loose):
    sam, kim, period, shifts = loose
    reasons = _reasons(period, {sam: {d: "E" for d in range(6)}, kim: {0: "N", 1: "N", 2: "N", 5: "E"}}, shifts)
    assert "Sam Patel would work 6 days in a row up to Sat 9 Mar; at most 5 allowed." in reasons
    assert "Kim Lee would work 3 Night shifts in a row up to Wed 6 Mar; at most 2 allowed." in reasons
    reasons = _reasons(period, {kim: {0: "N", 2: "E"}}, shifts)
    assert "Kim Lee would work Early on Wed 6 Mar, before the 2 days off needed after a run of nights." in reasons


def test_wording_of_minimum_runs_of_working_days_and_days_off(loose, ward):
    sam, kim, period, shifts = loose
    rules = services.ward_rules(ward)
    rules.min_consecutive_days = 2
    rules.min_consecutive_days_off = 2
    reasons = _reasons(period, {sam: {0: "E", 1: "E", 3: "E", 4: "E", 8: "E", 9: "E"}}, shifts)
    assert "Sam Patel would have only 1 day off in a row from Wed 6 Mar; at least 2 needed." in reasons
    reasons = _reasons(period, {kim: {0: "E", 1: "E", 4: "E", 8: "E", 9: "E"}}, shifts)
    assert "Kim Lee would have only 1 working day in a row from Fri 8 Mar; at least 2 needed." in reasons


def test_wording_of_weekends_and_locked_cells(loose):
    sam, kim, period, shifts = loose
    reasons = _reasons(period, {sam: {5: "E", 12: "E"}}, shifts, locked={(kim.id, _day(3)): shifts["L"]})
    assert "Sam Patel would work 2 weekends this period; at most 1 allowed." in reasons
    assert "Kim Lee must work Late on Thu 7 Mar (locked)." in reasons


def test_wording_of_cover_minimums_for_everyone_and_for_a_grade(loose, org, ward):
    sam, kim, period, shifts = loose
    charge = db.session.scalar(select(Grade).where(Grade.organisation_id == org.id, Grade.code == "CN"))
    factories.create_staff(org, ward, "Cleo Charge", grade_code="CN")
    for kind, grade_id in ((RequirementKind.TOTAL, None), (RequirementKind.GRADE, charge.id)):
        db.session.add(CoverRequirement(ward_id=ward.id, shift_type_id=shifts["E"], day_type=DayType.WEEKDAY,
                                        kind=kind, grade_id=grade_id, minimum=1 if grade_id else 2,
                                        ideal=1 if grade_id else 2))
    db.session.flush()
    plan = {person: {d: "E" for d in range(14) if (MONDAY + timedelta(days=d)).weekday() < 5}
            for person in (sam, kim)}
    reasons = _reasons(period, plan, shifts)
    assert "Only 0 CN-grade or senior staff on Early, Mon 4 Mar; at least 1 needed." in reasons
    assert not any("(day " in r or "minutes" in r for r in reasons), reasons
    del plan[kim][0]
    reasons = _reasons(period, plan, shifts)
    assert "Only 1 staff on Early, Mon 4 Mar; at least 2 needed." in reasons


def test_explanations_give_hours_and_minutes(loose):
    _sam, _kim, period, _shifts = loose
    mapping = services.problem_for_period(period).mapping
    assert mapping.plain("Sam: at least 8550 paid minutes") == "Sam: at least 142 h 30 min paid"
    assert services.duration_text(1590) == "26 h 30 min"
    assert services.duration_text(480) == "8 h" and services.duration_text(45) == "45 min"
