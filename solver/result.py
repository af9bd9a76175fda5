"""Output types shared by the solver and the validator."""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field

from solver.domain import Roster

# Names of the soft rules (the keys of every objective breakdown).
COVER_UNDER = "cover_under"
COVER_OVER = "cover_over"
SHIFT_ON_REQUEST = "shift_on_request"
SHIFT_OFF_REQUEST = "shift_off_request"
COMPLETE_WEEKENDS = "complete_weekends"
FAIRNESS = "fairness"
PERSONAL_RULE = "personal_rule"
MINIMAL_CHANGE = "minimal_change"


class Status(enum.Enum):
    """Outcome of a solve.  UNKNOWN means the time ran out before any roster was found."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"
    MODEL_INVALID = "model_invalid"

    TIMEOUT = "unknown"  # alias: no roster within the time limit

    @property
    def has_roster(self) -> bool:
        """Whether a roster comes with this status."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class PenaltyItem:
    """One paid soft-rule cost: ``cost`` = weight x amount, with who and when."""

    rule: str
    cost: int
    staff_id: str | None = None
    day: int | None = None
    label: str = ""


def breakdown_by_rule(items: tuple[PenaltyItem, ...]) -> dict[str, int]:
    """Sum penalty costs by rule name (only non-zero rules)."""
    totals: dict[str, int] = defaultdict(int)
    for item in items:
        if item.cost:
            totals[item.rule] += item.cost
    return dict(totals)


def breakdown_by_staff(items: tuple[PenaltyItem, ...]) -> dict[str | None, int]:
    """Sum penalty costs by staff id (``None`` = ward-level terms such as cover)."""
    totals: dict[str | None, int] = defaultdict(int)
    for item in items:
        if item.cost:
            totals[item.staff_id] += item.cost
    return dict(totals)


@dataclass(frozen=True)
class Progress:
    """One improving roster found during the search."""

    elapsed_s: float
    objective: int
    bound: float


@dataclass(frozen=True)
class Explanation:
    """A sentence for a manager, with what it is about and the rules involved."""

    message: str
    staff_id: str | None = None
    day: int | None = None
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    """What :func:`solver.solve` returns.

    ``objective`` and ``bound`` are ``None`` without a roster.  ``penalties`` lists every
    non-zero soft cost; use :meth:`by_rule` and :meth:`by_staff` for breakdowns.
    ``explanations`` covers unmet requests or, when infeasible, the conflicting rules.
    """

    status: Status
    roster: Roster | None
    objective: int | None
    bound: float | None
    penalties: tuple[PenaltyItem, ...] = ()
    explanations: tuple[Explanation, ...] = ()
    progress: tuple[Progress, ...] = ()
    build_s: float = 0.0
    first_solution_s: float | None = None
    best_solution_s: float | None = None
    wall_s: float = 0.0
    stats: dict = field(default_factory=dict)

    def by_rule(self) -> dict[str, int]:
        """Objective broken down by rule name."""
        return breakdown_by_rule(self.penalties)

    def by_staff(self) -> dict[str | None, int]:
        """Objective broken down by staff id (``None`` for ward-level terms)."""
        return breakdown_by_staff(self.penalties)
