"""Explanations: conflicting rules of an infeasible ward, reasons for refused requests."""

from __future__ import annotations

from solver import Assignment, CoverRequirement, Rules, Status, explain_infeasible
from tests.solver.helpers import person, solve_checked, ward


def short_staffed_ward():
    """Two nurses, nights every day, Ana on leave for 4 days, Ben at most 3 in a row."""
    staff = (person("ana", name="Ana", max_consecutive_days=3, unavailable_days={1, 2, 3, 4}),
             person("ben", name="Ben", max_consecutive_days=3))
    cover = tuple(CoverRequirement(d, "N", skill="RN", minimum=1) for d in range(7))
    extra = (person("cy", name="Cy", skills=frozenset({"HCA"})),)
    return ward(staff=staff + extra, cover=cover, rules=Rules(max_consecutive_shifts={"N": 7}))


def test_infeasible_ward_names_the_conflicting_rules():
    problem = short_staffed_ward()
    result = solve_checked(problem)
    assert result.status is Status.INFEASIBLE and result.roster is None
    summary, *details = result.explanations
    text = summary.message
    assert "cannot all be met together" in text
    assert "Ana is on leave on Wed 05 Mar (day 2)" in text
    assert "Ben: at most 3 consecutive working days" in text
    assert "consecutive working days" in text
    assert "cover: at least 1 RN on N" in text
    assert "Cy" not in text  # the healthcare assistant is not part of the conflict
    assert len(details) == len(summary.rules) == 9  # 4 leave days, Ben's limit, 4 nights


def test_explain_infeasible_directly_and_feasible_gives_nothing():
    assert explain_infeasible(short_staffed_ward())
    assert explain_infeasible(ward()) == ()


def test_small_conflict_with_locks():
    problem = ward(staff=(person("n0", name="Dee", max_shifts={"N": 1}),),
                   locked=(Assignment("n0", 0, "N"), Assignment("n0", 4, "N")))
    [summary, *details] = explain_infeasible(problem)
    assert set(summary.rules) == {"Dee: at most 1 N shifts", "Dee is fixed to N on Mon 03 Mar (day 0)",
                                  "Dee is fixed to N on Fri 07 Mar (day 4)"}
