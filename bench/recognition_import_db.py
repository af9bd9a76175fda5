"""Benchmark the survey import end to end, database included (SQLite file).

Builds 500 staff on 25 wards, generates 100,000 survey rows (the same generator as
bench/recognition_import.py), then times services.import_survey_rows: parse, name matching,
redaction, classification and the bulk insert, and the commit. Imports the file a second time
to time the idempotent path (nothing added).

    .venv/bin/python bench/recognition_import_db.py                # 100,000 rows
    .venv/bin/python bench/recognition_import_db.py --rows 20000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from recognition_import import make_csv, make_staff  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Grade, Organisation, StaffMember, Ward, WardMembership  # noqa: E402
from portal.recognition import services  # noqa: E402
from portal.recognition.survey_import import ColumnMapping  # noqa: E402


def build_hospital(staff_names, wards: int) -> Organisation:
    org = Organisation(name="Bench Hospital")
    db.session.add(org)
    db.session.flush()
    grade = Grade(organisation_id=org.id, code="RN", name="Registered nurse", rank=20)
    db.session.add(grade)
    ward_rows = [Ward(organisation_id=org.id, name=f"Ward {n}", code=f"W{n}") for n in range(1, wards + 1)]
    db.session.add_all(ward_rows)
    db.session.flush()
    by_number = {int(w.code[1:]): w for w in ward_rows}
    for person in staff_names:
        staff = StaffMember(organisation_id=org.id, employee_number=f"B{person.staff_id:05d}",
                            full_name=person.full_name, grade_id=grade.id)
        for ward_number in person.ward_ids:
            staff.memberships.append(WardMembership(ward_id=by_number[ward_number].id, start_date=date(2020, 1, 1)))
        db.session.add(staff)
    db.session.commit()
    return org


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=500)
    parser.add_argument("--wards", type=int, default=25)
    parser.add_argument("--seed", type=int, default=20240301)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    staff_names = make_staff(args.staff, args.wards, rng)
    data = make_csv(args.rows, staff_names, args.wards, rng)
    mapping = ColumnMapping(response_id="Response ID", date="Date", ward="Ward", experience="Overall experience",
                            recommend="Recommend", comment="Comments")
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite", "SECRET_KEY": "bench",
                          "JOBS_SQLITE_PATH": f"{tmp}/jobs.sqlite"})
        app.instance_path = tmp
        with app.app_context():
            db.create_all()
            org = build_hospital(staff_names, args.wards)
            start, cpu = time.perf_counter(), time.process_time()
            outcome = services.import_survey_rows(org, data, mapping, source="bench")
            db.session.commit()
            first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
            assert outcome.ok, (outcome.message, outcome.errors[:3])
            start = time.perf_counter()
            again = services.import_survey_rows(org, data, mapping, source="bench")
            db.session.commit()
            second = time.perf_counter() - start
            print(f"rows: {args.rows:,}  staff: {args.staff}  wards: {args.wards}  csv: {len(data) / 1e6:.1f} MB")
            print(f"first import   {first:7.2f} s wall, {first_cpu:.2f} s CPU  added {outcome.added:,}  "
                  f"({outcome.added / first:,.0f} rows/s)")
            print(f"load average while running: {os.getloadavg()[0]:.1f} (a figure above 1 means other work shared the CPU)")
            print(f"same file again {second:6.2f} s  added {again.added:,}, already imported {again.already_imported:,}")


if __name__ == "__main__":
    main()
