"""Benchmark the optimiser on the demo's 45-staff ward: 28 days, 4 shift types, grade mix, requests, leave.

Builds the demo hospital in a throw-away SQLite database, takes Ward 7's next period (requests,
approved leave, cover with RN / charge-nurse / HCA mix, rules with 11 h rest and forbidden
sequences, fairness carried over from the published periods before it), builds the problem
through ``portal.scheduling.services`` (the same adapter the optimiser job uses) and solves it
with the given time limit and workers. Prints the time to the first valid roster, the final
objective, bound and gap, and checks the roster with the independent validator.

    PYTHONPATH=. .venv/bin/python bench/scheduling_ward.py                 # 60 s, 2 workers
    PYTHONPATH=. .venv/bin/python bench/scheduling_ward.py --time-limit 20 --seeds 0 1 2
    PYTHONPATH=. .venv/bin/python bench/scheduling_ward.py --no-tie-break   # without the fairness tie-break
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import solver  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402


def demo_ward_problem() -> tuple[str, solver.Problem, float]:
    """Ward 7's next period from a throw-away demo hospital: its name, the problem, adapter seconds."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-ward-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'ward.sqlite'}", "SECRET_KEY": "bench",
                      "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
    app.instance_path = str(tmp)
    with app.app_context():
        from portal.demo import build_demo
        from portal.scheduling import services
        from portal.scheduling.models import RosterPeriod

        db.create_all()
        hospital = build_demo()
        db.session.commit()
        ward = hospital.wards[0]
        period = (db.session.query(RosterPeriod).filter_by(ward_id=ward.id)
                  .order_by(RosterPeriod.start_date.desc()).first())
        started = time.perf_counter()
        problem = services.problem_for_period(period).problem
        return ward.name, problem, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--strategy", default="auto", choices=["auto", "cpsat", "lns"])
    parser.add_argument("--no-tie-break", action="store_true",
                        help="switch off the fairness tie-break below the objective")
    args = parser.parse_args()
    name, problem, adapter_s = demo_ward_problem()
    print(f"{name}: {len(problem.staff)} staff, {problem.horizon.num_days} days, "
          f"{len(problem.shift_types)} shift types, {len(problem.cover)} cover rows, "
          f"{len(problem.requests)} requests, {sum(len(p.unavailable_days) for p in problem.staff)} leave days; "
          f"rows -> problem in {adapter_s:.2f} s")
    print(f"{'seed':>4} {'status':>9} {'first s':>8} {'best s':>7} {'objective':>9} {'bound':>9} {'gap %':>6} "
          f"{'wall s':>7} valid")
    for seed in args.seeds:
        options = solver.SolveOptions(time_limit_s=args.time_limit, workers=args.workers, seed=seed,
                                      strategy=args.strategy, explain=False,
                                      fairness_tie_break=not args.no_tie_break)
        result = solver.solve(problem, options)
        gap = None
        if result.objective is not None and result.bound is not None:
            gap = 0.0 if result.objective == 0 else (result.objective - result.bound) * 100 / result.objective
        valid = solver.validate(problem, result.roster).is_valid if result.roster is not None else False
        first = f"{result.first_solution_s:.2f}" if result.first_solution_s is not None else "-"
        best = f"{result.best_solution_s:.2f}" if result.best_solution_s is not None else "-"
        bound = f"{result.bound:.0f}" if result.bound is not None else "-"
        print(f"{seed:>4} {result.status.value:>9} {first:>8} {best:>7} {result.objective!s:>9} {bound:>9} "
              f"{(f'{gap:.1f}' if gap is not None else '-'):>6} {result.wall_s:>7.1f} {valid}")


if __name__ == "__main__":
    main()
