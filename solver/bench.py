"""Benchmark command: ``python -m solver.bench INSTANCE.txt ... --time-limit S --workers W --out DIR``.

For each Curtois instance it solves in a fresh process (so peak memory is per
instance), writes ``DIR/<name>.csv``, re-reads that file and re-scores it with the
independent validator, appends a row to ``DIR/results.csv`` and prints a table beside
``best_known.csv`` (looked up next to the instance unless ``--best-known`` is given).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import queue as queue_module
import sys
import threading
import time
from pathlib import Path

COLUMNS = ["instance", "status", "objective", "bound", "build_s", "first_solution_s",
           "best_solution_s", "wall_s", "peak_rss_mb"]


def _solve_one(path: str, out_dir: str, time_limit: float, workers: int, seed: int,
               strategy: str, bound: str, queue) -> None:
    import resource

    from solver.domain import ProblemError
    from solver.formats.curtois import read_instance, write_roster
    from solver.solve import SolveOptions, solve

    _exit_with_parent(os.getppid())
    try:
        problem = read_instance(path)
        options = SolveOptions(time_limit_s=time_limit, workers=workers, seed=seed,
                               strategy=strategy, bound=bound, explain=False)
        result = solve(problem, options)
    except ProblemError as error:
        queue.put({"error": str(error)})
        return
    name = Path(path).stem
    if result.roster is not None:
        write_roster(result.roster, Path(out_dir) / f"{name}.csv")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({
        "instance": name,
        "status": result.status.name,
        "objective": result.objective,
        "bound": None if result.bound is None else round(result.bound, 2),
        "build_s": round(result.build_s, 2),
        "first_solution_s": _round(result.first_solution_s),
        "best_solution_s": _round(result.best_solution_s),
        "wall_s": round(result.wall_s, 2),
        "peak_rss_mb": round(peak, 1),
    })


def _exit_with_parent(parent: int, poll_s: float = 0.5) -> threading.Thread:
    """End this process once ``parent`` has gone (the bench was stopped), not at its time limit."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(3)

    watcher = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    watcher.start()
    return watcher


def _round(value):
    return None if value is None else round(value, 2)


def run_instance(path: Path, args) -> dict:
    """Solve one instance in a child process and return its results row."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_solve_one, args=(
        str(path), str(args.out), args.time_limit, args.workers, args.seed, args.strategy, args.bound,
        queue))
    child.start()
    while True:
        try:
            row = queue.get(timeout=1.0)
            break
        except queue_module.Empty:
            if not child.is_alive():
                # It died without a word (killed, out of memory): report rather than wait forever.
                return {"error": f"the solving process ended with exit code {child.exitcode}"}
    child.join()
    return row


def rescore(path: Path, out: Path) -> tuple[bool, int | None, str]:
    """Re-read the written roster and score it independently."""
    from solver.formats.curtois import read_instance, read_roster
    from solver.validate import validate

    roster_file = out / f"{path.stem}.csv"
    if not roster_file.exists():
        return False, None, "no roster"
    check = validate(read_instance(path), read_roster(roster_file))
    note = "valid" if check.is_valid else f"INVALID: {check.violations[0].message}"
    return check.is_valid, check.objective, note


def load_best_known(path: Path | None) -> dict[str, dict]:
    """Rows of best_known.csv by instance name (empty if missing)."""
    if path is None or not path.exists():
        return {}
    with path.open(newline="") as handle:
        return {row["instance"]: row for row in csv.DictReader(handle)}


def append_results(out: Path, row: dict) -> None:
    """Append ``row`` to ``out/results.csv``, writing the header first if needed."""
    target = out / "results.csv"
    is_new = not target.exists() or target.stat().st_size == 0
    with target.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        if is_new:
            writer.writeheader()
        writer.writerow({key: ("" if row.get(key) is None else row[key]) for key in COLUMNS})


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark command; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m solver.bench", description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="+", type=Path)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strategy", choices=("auto", "cpsat", "lns"), default="auto")
    parser.add_argument("--bound", choices=("colgen", "lp"), default="colgen",
                        help="how the LNS's bound thread works (column generation or CP-SAT's LP)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--best-known", type=Path, default=None)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    best_path = args.best_known or args.instances[0].parent / "best_known.csv"
    best = load_best_known(best_path)

    header = f"{'instance':<12}{'status':<10}{'objective':>10}{'bound':>10}{'best':>8}{'gap%':>8}{'bound%':>8}{'first_s':>9}{'best_s':>8}{'wall_s':>8}{'rss_mb':>8}  check"
    print(header, flush=True)
    exit_code = 0
    for path in args.instances:
        row = run_instance(path, args)
        if "error" in row:
            print(f"{path.stem:<12}error: {row['error']}", file=sys.stderr, flush=True)
            append_results(args.out, {"instance": path.stem, "status": "ERROR"})
            exit_code = 2
            continue
        valid, rescored, note = rescore(path, args.out)
        if row["objective"] is not None and rescored != row["objective"]:
            note += f"; re-scored {rescored} != {row['objective']}"
            exit_code = 1
        if row["objective"] is not None and not valid:
            exit_code = 1
        append_results(args.out, row)
        known = best.get(row["instance"], {}).get("best_upper_bound")
        gap = bound_gap = ""
        if known and row["objective"] is not None:
            gap = f"{100 * (row['objective'] - int(known)) / int(known):.2f}"
        if row["bound"] is not None and row["objective"]:
            bound_gap = f"{100 * (row['objective'] - row['bound']) / row['objective']:.2f}"
        print(f"{row['instance']:<12}{row['status']:<10}{_fmt(row['objective']):>10}{_fmt(row['bound']):>10}"
              f"{known or '':>8}{gap:>8}{bound_gap:>8}{_fmt(row['first_solution_s']):>9}"
              f"{_fmt(row['best_solution_s']):>8}{_fmt(row['wall_s']):>8}{_fmt(row['peak_rss_mb']):>8}  {note}",
              flush=True)
    return exit_code


def _fmt(value) -> str:
    return "-" if value is None else str(value)


if __name__ == "__main__":
    sys.exit(main())
