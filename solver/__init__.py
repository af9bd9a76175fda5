"""CP-SAT nurse-rostering engine: domain, model, solve, explain and validate.

Imports only the standard library and OR-Tools.  Typical use::

    from solver import Problem, SolveOptions, solve, validate
    result = solve(problem, SolveOptions(time_limit_s=30, workers=2))
    check = validate(problem, result.roster)
"""

from solver.domain import (
    OFF,
    Assignment,
    CoverRequirement,
    DayType,
    Fairness,
    History,
    Horizon,
    PersonalRule,
    PersonalRuleKind,
    Problem,
    ProblemError,
    Request,
    RequestKind,
    Roster,
    Rules,
    ShiftType,
    StaffMember,
)
from solver.explain import explain_infeasible
from solver.result import Explanation, PenaltyItem, Progress, Result, Status
from solver.solve import SolveOptions, solve
from solver.validate import Validation, Violation, validate

__all__ = [
    "OFF", "Assignment", "CoverRequirement", "DayType", "Explanation", "Fairness", "History",
    "Horizon", "PenaltyItem", "PersonalRule", "PersonalRuleKind", "Problem", "ProblemError",
    "Progress", "Request", "RequestKind", "Result", "Roster", "Rules", "ShiftType",
    "SolveOptions", "StaffMember", "Status", "Validation", "Violation", "explain_infeasible",
    "solve", "validate",
]
