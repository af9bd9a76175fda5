"""Soft rules: each costs what docs/solver.md says, in the solver and in the validator."""

from __future__ import annotations

from solver import (
    Assignment, CoverRequirement, Fairness, PersonalRule, PersonalRuleKind, Request, RequestKind,
    Roster, Rules, Status, validate,
)
from solver.result import (
    COMPLETE_WEEKENDS, COVER_OVER, COVER_UNDER, FAIRNESS, MINIMAL_CHANGE, PERSONAL_RULE,
    SHIFT_OFF_REQUEST, SHIFT_ON_REQUEST,
)
from tests.solver.helpers import NIGHT, person, solve_checked, ward


def test_cover_ideal_under_and_over():
    cover = (CoverRequirement(0, "E", ideal=3, under_weight=10, over_weight=1),
             CoverRequirement(1, "E", ideal=0, over_weight=4))
    problem = ward(staff=2, cover=cover, locked=(Assignment("n0", 1, "E"),))
    result = solve_checked(problem)
    assert result.by_rule() == {COVER_UNDER: 10, COVER_OVER: 4}
    assert result.by_staff() == {None: 14}


def test_shift_on_request_refused_by_rule_is_explained():
    problem = ward(staff=(person("n0", max_shifts={"E": 1}),),
                   requests=(Request("n0", 0, "E", 2), Request("n0", 1, "E", 5)))
    result = solve_checked(problem)
    assert result.by_rule() == {SHIFT_ON_REQUEST: 2}
    assert result.by_staff() == {"n0": 2}
    [explanation] = result.explanations
    assert explanation.day == 0 and "max_shifts" in explanation.rules
    assert "at most 1 allowed" in explanation.message


def test_shift_off_request_refused_for_cover_is_explained():
    problem = ward(staff=1, cover=(CoverRequirement(2, "L", ideal=1, under_weight=50),),
                   requests=(Request("n0", 2, None, 3, RequestKind.OFF),))
    result = solve_checked(problem)
    assert result.by_rule() == {SHIFT_OFF_REQUEST: 3}
    [explanation] = result.explanations
    assert COVER_UNDER in explanation.rules and "short on L" in explanation.message


def test_complete_weekends():
    problem = ward(staff=1, rules=Rules(complete_weekends_weight=7),
                   locked=(Assignment("n0", 5, "E"),))
    result = solve_checked(problem)
    assert result.objective == 0 and result.roster.shift_of("n0", 6) is not None
    split = ward(staff=(person("n0", unavailable_days={6}),), rules=Rules(complete_weekends_weight=7),
                 locked=(Assignment("n0", 5, "E"),))
    assert solve_checked(split).by_rule() == {COMPLETE_WEEKENDS: 7}


def test_fairness_spreads_nights_relative_to_contract():
    cover = tuple(CoverRequirement(d, "N", minimum=1) for d in range(6))
    staff = (person("n0", max_shifts={"E": 0, "L": 0}), person("n1", max_shifts={"E": 0, "L": 0}, fte_percent=50))
    problem = ward(staff=staff, cover=cover, fairness=Fairness(nights_weight=1),
                   rules=Rules(max_consecutive_shifts={"N": 7}))
    result = solve_checked(problem)
    nights = {p: sum(1 for d in range(7) if result.roster.shift_of(p, d) == "N") for p in ("n0", "n1")}
    assert nights["n0"] == 2 * nights["n1"]  # n1 works half time
    assert result.objective == 0


def test_fairness_ledger_carries_over():
    cover = tuple(CoverRequirement(d, "N", minimum=1) for d in range(4))
    staff = (person("n0", max_shifts={"E": 0, "L": 0}, fairness_ledger={"nights": 2}),
             person("n1", max_shifts={"E": 0, "L": 0}))
    problem = ward(staff=staff, cover=cover, fairness=Fairness(nights_weight=1),
                   rules=Rules(max_consecutive_shifts={"N": 7}))
    result = solve_checked(problem)
    nights = {p: sum(1 for d in range(7) if result.roster.shift_of(p, d) == "N") for p in ("n0", "n1")}
    assert nights["n1"] == nights["n0"] + 2  # n0 already did 2 more nights last period
    assert result.objective == 0
    capped = (staff[0], person("n1", max_shifts={"E": 0, "L": 0, "N": 4}))
    unfair = ward(staff=capped, cover=cover, fairness=Fairness(nights_weight=1),
                  locked=tuple(Assignment("n0", d, "N") for d in range(4)),
                  rules=Rules(max_consecutive_shifts={"N": 7}))
    result = solve_checked(unfair)
    assert result.by_rule() == {FAIRNESS: 200}  # loads 4 + 2 and at most 4: two nights apart


def test_fairness_tie_break_keeps_people_off_the_extremes():
    # n0 is held at 3 + 1 nights (the top), n1 at 0 (the bottom): the spread is 400
    # whatever n2-n4 work, as long as each stays within 0-4 nights.  Below the objective
    # the tie-break keeps them off both extremes; without it nothing does.
    nights_only = {"E": 0, "L": 0}
    staff = (person("n0", max_shifts={**nights_only, "N": 1}, fairness_ledger={"nights": 3}),
             person("n1", unavailable_days=set(range(1, 7))),
             *(person(f"n{i}", max_shifts={**nights_only, "N": 4}) for i in (2, 3, 4)))
    problem = ward(staff=staff, fairness=Fairness(nights_weight=1),
                   locked=(Assignment("n0", 0, "N"), Assignment("n1", 0, "E")),
                   rules=Rules(max_consecutive_shifts={"N": 7}))
    result = solve_checked(problem)
    assert result.status is Status.OPTIMAL and result.bound == result.objective == 400
    nights = {p: sum(1 for d in range(7) if result.roster.shift_of(p, d) == "N") for p in ("n2", "n3", "n4")}
    assert all(1 <= n <= 3 for n in nights.values()), nights
    plain = solve_checked(problem, fairness_tie_break=False)
    assert plain.status is Status.OPTIMAL and plain.objective == 400


def test_personal_rules():
    rules = (PersonalRule(PersonalRuleKind.MAX_SHIFTS, 2, 5, "N"),
             PersonalRule(PersonalRuleKind.MAX_CONSECUTIVE_DAYS, 2, 3))
    staff = (person("n0", personal_rules=rules),)
    locked = tuple(Assignment("n0", d, "N") for d in range(4))
    result = solve_checked(ward(staff=staff, locked=locked, rules=Rules(max_consecutive_shifts={"N": 7})))
    # 4 nights: 2 over the limit of 2 (2 x 5); 3-day windows all worked: days 0-2, 1-3 (2 x 3).
    assert result.by_rule() == {PERSONAL_RULE: 16}


def test_personal_nights_in_a_row():
    rules = (PersonalRule(PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS, 2, 7),)
    staff = (person("n0", personal_rules=rules),)
    locked = tuple(Assignment("n0", d, "N") for d in (0, 1, 2, 3, 5, 6))
    result = solve_checked(ward(staff=staff, locked=locked, rules=Rules(max_consecutive_shifts={"N": 7})))
    # Nights 0-3 hold two 3-night windows (0-2, 1-3); 5-6 are only two in a row.
    assert result.by_rule() == {PERSONAL_RULE: 14}


def test_personal_nights_in_a_row_steer_the_roster():
    rules = (PersonalRule(PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS, 1, 5),)
    staff = (person("n0", personal_rules=rules), person("n1"))
    cover = tuple(CoverRequirement(d, "N", ideal=1, under_weight=20) for d in range(4))
    # n0 asks for nights on days 0 and 1; n1 can take one of them at no cost.
    requests = (Request("n0", 0, "N", 1), Request("n0", 1, "N", 1))
    result = solve_checked(ward(staff=staff, cover=cover, requests=requests))
    assert result.by_rule() == {SHIFT_ON_REQUEST: 1}
    nights = [a.day for a in result.roster if a.staff_id == "n0" and a.shift == "N"]
    assert all(b - a > 1 for a, b in zip(sorted(nights), sorted(nights)[1:]))


def test_minimal_change_after_sick_call():
    cover = tuple(CoverRequirement(d, "E", minimum=1) for d in range(7))
    reference = Roster.of([("n0", d, "E") for d in range(4)] + [("n1", d, "E") for d in range(4, 7)])
    staff = (person("n0", unavailable_days={2}), person("n1"), person("n2"))
    problem = ward(staff=staff, cover=cover, reference=reference, change_weight=10)
    result = solve_checked(problem)
    # n0 is off sick on day 2: one person-day changes for n0 and one for whoever covers.
    assert result.by_rule() == {MINIMAL_CHANGE: 20}
    assert validate(problem, result.roster).by_rule() == {MINIMAL_CHANGE: 20}


def test_night_shift_detected_from_times():
    assert NIGHT.is_night and NIGHT.paid_minutes == 600


def test_validator_names_people_days_and_rules():
    problem = ward(staff=(person("n0", max_consecutive_days=2, unavailable_days={3}),),
                   cover=(CoverRequirement(4, "N", minimum=1),))
    roster = Roster.of([("n0", 0, "E"), ("n0", 1, "E"), ("n0", 2, "E"), ("n0", 3, "E"), ("n0", 0, "L")])
    check = validate(problem, roster)
    rules = {v.rule for v in check.violations}
    assert rules == {"one_shift_per_day", "max_consecutive_days", "unavailable", "cover_minimum"}
    assert any("on leave" in v.message and v.day == 3 for v in check.violations)
    assert not check.is_valid


def test_status_alias():
    assert Status.TIMEOUT is Status.UNKNOWN
