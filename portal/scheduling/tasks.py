"""Background jobs of the roster side: the optimiser run.

The job runs in the worker (its own process, its own app context and session). The solver
searches in a helper thread that never touches the database; this thread polls about once a
second, commits the progress to the ``OptimiserRun`` row (so the progress page, served by the
web process, sees it) and reads ``stop_requested`` to stop the search early.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

import solver
from portal.extensions import db
from portal.jobs import job
from portal.models import utcnow
from portal.scheduling import services
from portal.scheduling.models import OptimiserRun, Roster, RunStatus
from portal.services import notify

POLL_SECONDS = 1.0


@job
def run_optimiser(run_id: int) -> None:
    """Optimise (or repair) the period of run ``run_id`` and write the draft roster."""
    run = db.session.get(OptimiserRun, run_id)
    if run is None or run.status != RunStatus.QUEUED:
        return
    if run.stop_requested:
        _finish(run, RunStatus.CANCELLED, "Stopped before it started.")
        db.session.commit()
        return
    run.status = RunStatus.RUNNING
    run.started_at = utcnow()
    db.session.commit()
    try:
        _optimise(run)
    except Exception as exc:  # keep the row truthful whatever went wrong, and free the period
        db.session.rollback()
        run = db.session.get(OptimiserRun, run_id)
        current_app.logger.exception("Optimiser run %s failed", run_id)
        reasons = exc.reasons if isinstance(exc, services.SchedulingError) else [
            "The optimiser failed unexpectedly. The error has been logged; please try again."]
        run.explanations = [{"message": reason, "staff_id": None, "day": None, "rules": []} for reason in reasons]
        _finish(run, RunStatus.FAILED, reasons[0])
    db.session.commit()


def _optimise(run: OptimiserRun) -> None:
    period = run.period
    snapshot = services.load_snapshot(period)
    reference_cells = None
    frozen: dict = {}
    locked: dict = {}
    based_on = services.current_published_roster(period)
    if run.purpose == "repair" and run.reference_roster_id:
        reference = db.session.get(Roster, run.reference_roster_id)
        reference_cells = services.roster_cells(reference)
        based_on = reference
        if run.frozen_before is not None:
            for person in snapshot.staff:
                day = period.start_date
                while day < run.frozen_before:
                    frozen[(person.id, day)] = reference_cells.get((person.id, day))
                    day += timedelta(days=1)
    else:
        locked = services.locked_cells(services.draft_roster(period))
    built = services.build_problem(snapshot, locked=locked, reference=reference_cells, frozen=frozen)
    if built.impossible_cover:
        run.solver_status = "infeasible"
        run.explanations = [{"message": m, "staff_id": None, "day": None, "rules": ["Cover minimum"]}
                            for m in built.impossible_cover]
        _finish(run, RunStatus.FAILED, "No roster can meet the minimum cover: not enough people can work "
                                       "some shifts. See why below.")
        return
    warm = None
    if reference_cells is not None:
        warm = built.mapping.to_solver(reference_cells)
    options = solver.SolveOptions(
        time_limit_s=float(run.time_limit_s),
        workers=int(current_app.config.get("SCHEDULING_SOLVER_WORKERS", 2)),
        seed=int(current_app.config.get("SCHEDULING_SOLVER_SEED", 0)),
        warm_start=warm,
        explain=True,
        max_explained=40,
    )
    outcome: dict[str, Any] = {}
    progress: list[list[float]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def on_solution(item: solver.Progress) -> None:
        with lock:
            # Scores are sums of costs, never below 0: an early negative bound only says "nothing known".
            progress.append([round(item.elapsed_s, 2), item.objective, max(0, round(float(item.bound)))])

    def search() -> None:
        try:
            outcome["result"] = solver.solve(built.problem, options, on_solution=on_solution, stop_event=stop)
        except BaseException as exc:  # re-raised in the job's thread
            outcome["error"] = exc

    thread = threading.Thread(target=search, name=f"optimiser-run-{run.id}", daemon=True)
    thread.start()
    written = 0
    while thread.is_alive():
        thread.join(POLL_SECONDS)
        with lock:
            snapshot_progress = list(progress)
        if len(snapshot_progress) != written:
            run.progress = snapshot_progress
            written = len(snapshot_progress)
        db.session.commit()  # publishes the progress
        # Read the stop flag in its own short transaction: a read transaction left open would
        # make the next progress write fail on SQLite (WAL) once the web process has committed.
        if db.session.scalar(select(OptimiserRun.stop_requested).where(OptimiserRun.id == run.id)):
            stop.set()
        db.session.commit()
    if "error" in outcome:
        raise outcome["error"]
    result: solver.Result = outcome["result"]
    run.progress = list(progress)
    run.solver_status = result.status.value
    run.explanations = services.explanation_rows(built.mapping, result.explanations)
    if result.roster is None:
        if result.status is solver.Status.INFEASIBLE:
            _finish(run, RunStatus.FAILED, "No roster can satisfy the hard rules. These rules, leave and cover "
                                           "needs conflict:")
        elif stop.is_set():
            _finish(run, RunStatus.CANCELLED, "Stopped before any roster was found.")
        else:
            _finish(run, RunStatus.FAILED, f"No roster was found within the time limit of {run.time_limit_s} s. "
                                           "Give the optimiser longer, or relax a rule.")
        return
    cells = built.mapping.from_solver(result.roster)
    services.write_draft(period, cells, run=run, based_on=based_on, actor=run.requested_by)
    run.objective = int(result.objective)
    run.bound = int(result.bound) if result.bound is not None else None
    run.breakdown = services.breakdown_rows(result.penalties, built.mapping)
    if result.status is solver.Status.OPTIMAL:
        message = "Finished: this roster is proven to be the best possible under the ward's rules."
    else:
        gap = _gap(result.objective, result.bound)
        reason = "you stopped it" if stop.is_set() else "the time limit was reached"
        bound_text = (f" No roster can score below {max(0, int(result.bound))}; this one may be up to {gap:.1f}% "
                      "above the best possible." if gap is not None else "")
        message = (f"Finished because {reason}: the best roster found is in the draft. It is not proven "
                   f"optimal.{bound_text}")
    _finish(run, RunStatus.FINISHED, message)
    if run.requested_by is not None:
        label = "Sick-call repair" if run.purpose == "repair" else "Optimisation"
        notify(run.requested_by, "optimiser_finished",
               f"{label} of {period.ward.name} {period.start_date:%-d %b} finished: the draft is ready to review.",
               services._link("scheduling.review_draft", period_id=period.id))


def _gap(objective: int | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    if objective == 0:
        return 0.0
    return max(0.0, (objective - bound) * 100 / abs(objective))


def _finish(run: OptimiserRun, status: RunStatus, message: str) -> None:
    run.status = status
    run.message = message
    run.active_period_id = None
    run.finished_at = utcnow()
    db.session.flush()
