#!/bin/sh
# Reproduce the solver figures of docs/performance.md (section "Solver").
# Usage: bench/solver_curtois.sh [OUT_DIR]   (default bench/out/solver)
# Runs the three groups of the Curtois benchmark with 2 workers; each instance is solved
# in a fresh process, its roster written to OUT_DIR/<name>.csv, re-scored by the
# independent validator and appended to OUT_DIR/results.csv.
set -eu
cd "$(dirname "$0")/.."
DATA=${CURTOIS_DIR:-../shared/benchmarks/curtois}
OUT=${1:-bench/out/solver}
PY=${PYTHON:-.venv/bin/python}
mkdir -p "$OUT"
group() {
    limit=$1; shift
    files=""
    for i in "$@"; do files="$files $DATA/Instance$i.txt"; done
    # shellcheck disable=SC2086
    "$PY" -m solver.bench $files --time-limit "$limit" --workers 2 --out "$OUT"
}
group 60 1 2 3 4 5 6 7 8 9 10 11 12
group 300 13 14 15 16 17 18 19
group 600 20 21 22 23 24
