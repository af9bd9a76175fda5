"""The Curtois benchmark reader, roster CSV files and the bench command."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from solver import ProblemError, Roster, SolveOptions, Status, solve, validate
from solver.bench import COLUMNS, main as bench_main
from solver.formats.curtois import (
    format_roster, parse_instance, parse_roster, read_instance, read_roster, write_roster,
)

TINY = """# comment
SECTION_HORIZON
14

SECTION_SHIFTS
D,480,
N,600,D

SECTION_STAFF
A,D=14|N=3,4320,960,5,2,2,1
B,D=14|N=0,4320,960,5,1,1,2

SECTION_DAYS_OFF
A,0,1

SECTION_SHIFT_ON_REQUESTS
A,3,N,2

SECTION_SHIFT_OFF_REQUESTS
B,5,D,1

SECTION_COVER
0,D,1,100,1
1,N,1,100,1
"""


def test_reads_rules_onto_the_general_model():
    problem = parse_instance(TINY.replace("\n", "\r\n"), name="tiny")
    a, b = problem.staff
    assert problem.horizon.num_days == 14 and problem.horizon.date(0).weekday() == 0
    assert problem.rules.forbidden_sequences == (("N", "D"),)
    assert dict(a.max_shifts) == {"D": 14, "N": 3} and a.unavailable_days == {0, 1}
    assert (a.max_minutes, a.min_minutes, a.max_consecutive_days, a.min_consecutive_days,
            a.min_consecutive_days_off, a.max_weekends) == (4320, 960, 5, 2, 2, 1)
    assert [(r.staff_id, r.day, r.shift, r.weight, r.kind.value) for r in problem.requests] == [
        ("A", 3, "N", 2, "on"), ("B", 5, "D", 1, "off")]
    assert [(c.day, c.shift, c.minimum, c.ideal, c.under_weight, c.over_weight) for c in problem.cover] == [
        (0, "D", 0, 1, 100, 1), (1, "N", 0, 1, 100, 1)]
    result = solve(problem, SolveOptions(time_limit_s=10, workers=1, deterministic=True))
    assert result.status is Status.OPTIMAL
    assert validate(problem, result.roster).objective == result.objective


@pytest.mark.parametrize("old, new, message", [
    ("A,D=14|N=3,4320,960,5,2,2,1", "A,D=14|N=3,4320,-960,5,2,2,1", ":10: field MinTotalMinutes must be at least 0"),
    ("A,D=14|N=3,4320,960,5,2,2,1", "A,D=14|X=3,4320,960,5,2,2,1", ":10: unknown shift 'X' in MaxShifts"),
    ("A,D=14|N=3,4320,960,5,2,2,1", "A,D=14,4320,960,5,2,2", ":10: expected 8 fields"),
    ("N,600,D", "N,600,Q", ":7: unknown shift 'Q' in CannotFollow"),
    ("N,600,D", "N,six hundred,D", ":7: field LengthMinutes must be an integer"),
    ("A,0,1", "Z,0,1", ":14: unknown employee 'Z'"),
    ("A,0,1", "A,0,14", ":14: day 14 is outside the horizon"),
    ("A,3,N,2", "A,3,N", ":17: expected 4 fields"),
    ("1,N,1,100,1", "1,M,1,100,1", ":24: unknown shift 'M'"),
    ("SECTION_COVER", "SECTION_BANANAS", ":22: unknown section"),
    ("A,D=14|N=3,4320,960,5,2,2,1", "A,D=14|N=3,900,960,5,2,2,1", ":10: staff 'A'.max_minutes: 900 is below min_minutes 960"),
])
def test_malformed_instances_name_the_line(old, new, message):
    with pytest.raises(ProblemError) as error:
        parse_instance(TINY.replace(old, new), where="bad.txt")
    assert str(error.value).startswith("bad.txt")
    assert message in str(error.value)


def test_missing_file_is_a_problem_error(tmp_path):
    with pytest.raises(ProblemError, match="cannot read"):
        read_instance(tmp_path / "nope.txt")


def test_roster_csv_round_trip(tmp_path):
    roster = Roster.of([("A", 2, "D"), ("B", 0, "N")])
    write_roster(roster, tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines()[0] == "employee,day,shift"
    assert read_roster(tmp_path / "r.csv") == roster
    assert parse_roster(format_roster(roster)) == roster
    with pytest.raises(ProblemError, match="roster:3: day must be an integer"):
        parse_roster("employee,day,shift\nA,1,D\nA,x,D\n")


def test_instance1_solved_to_its_known_optimum(curtois_dir):
    problem = read_instance(curtois_dir / "Instance1.txt")
    result = solve(problem, SolveOptions(time_limit_s=60, workers=2, seed=1, explain=False))
    assert result.status is Status.OPTIMAL
    assert result.objective == 607 and result.bound == 607
    check = validate(problem, result.roster)
    assert check.is_valid and check.objective == 607
    assert check.by_rule() == result.by_rule()


def test_bench_command_on_instance1(curtois_dir, tmp_path, capsys):
    code = bench_main([str(curtois_dir / "Instance1.txt"), "--time-limit", "30", "--workers", "2",
                       "--out", str(tmp_path)])
    assert code == 0
    with (tmp_path / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == COLUMNS
    assert rows[0]["instance"] == "Instance1" and rows[0]["status"] == "OPTIMAL"
    assert rows[0]["objective"] == "607" and float(rows[0]["peak_rss_mb"]) > 0
    problem = read_instance(curtois_dir / "Instance1.txt")
    check = validate(problem, read_roster(tmp_path / "Instance1.csv"))
    assert check.is_valid and check.objective == 607
    out = capsys.readouterr().out
    assert "Instance1" in out and "0.00" in out and "valid" in out


PARENT_SCRIPT = """
import multiprocessing, os, sys, time
sys.path.insert(0, {root!r})
from solver.bench import _exit_with_parent

def child():
    _exit_with_parent(os.getppid(), poll_s=0.05)
    time.sleep(60)

if __name__ == "__main__":
    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    print(process.pid, flush=True)
    time.sleep(60)
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_stopped_bench_leaves_no_solving_process(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT_SCRIPT.format(root=str(Path(__file__).resolve().parents[2])))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        time.sleep(0.3)
        assert _running(child)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(child)
    finally:
        parent.kill()
        if _running(child):
            os.kill(child, signal.SIGKILL)
