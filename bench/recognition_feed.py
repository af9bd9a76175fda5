"""Benchmark the recognition feed: 10,000 recognitions, median server time per page.

Creates 10,000 recognitions among 500 staff on 25 wards (SQLite file), signs in a nurse with
the Flask test client and requests feed pages (hospital feed, ward feed, deep pages), reporting
the median and 95th percentile of the whole request (routing, queries, template).

    .venv/bin/python bench/recognition_feed.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts.services import hash_password  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Grade, Organisation, Role, RoleAssignment, StaffMember, User, Ward, WardMembership  # noqa: E402
from portal.recognition.models import Reaction, ReactionKind, Recognition, RecognitionRecipient  # noqa: E402

PASSWORD = "bench-password-1"


def build(count: int, staff_count: int, wards: int, rng: random.Random) -> tuple[str, int]:
    org = Organisation(name="Bench Hospital")
    db.session.add(org)
    db.session.flush()
    grade = Grade(organisation_id=org.id, code="RN", name="Registered nurse", rank=20)
    ward_rows = [Ward(organisation_id=org.id, name=f"Ward {n}", code=f"W{n}") for n in range(1, wards + 1)]
    db.session.add_all([grade, *ward_rows])
    db.session.flush()
    staff = []
    for n in range(staff_count):
        user = User(email=f"s{n}@bench.example", password_hash=None)
        user.roles.append(RoleAssignment(role=Role.NURSE))
        person = StaffMember(organisation_id=org.id, employee_number=f"B{n:05d}", full_name=f"Staff Member{n}",
                             grade_id=grade.id, user=user)
        person.memberships.append(WardMembership(ward_id=ward_rows[n % wards].id, start_date=date(2020, 1, 1)))
        staff.append(person)
    db.session.add_all(staff)
    staff[0].user.password_hash = hash_password(PASSWORD)
    db.session.flush()
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    rows, recipients, reactions = [], [], []
    for n in range(1, count + 1):
        sender = rng.choice(staff)
        rows.append({"id": n, "organisation_id": org.id, "kind": "peer", "sender_id": sender.user.id,
                     "sender_ward_id": sender.memberships[0].ward_id, "message": f"Thank you for everything, #{n}.",
                     "value_keys": ["teamwork"], "visibility": "private" if n % 13 == 0 else "everyone",
                     "created_at": start + timedelta(minutes=37 * n)})
        for person in rng.sample(staff, rng.choice((1, 1, 2))):
            recipients.append({"recognition_id": n, "staff_id": person.id, "ward_id": person.memberships[0].ward_id})
        for reactor in rng.sample(staff, rng.randrange(0, 4)):
            reactions.append({"recognition_id": n, "user_id": reactor.user.id, "kind": ReactionKind.THANKS,
                              "created_at": start})
    db.session.execute(insert(Recognition), rows)
    db.session.execute(insert(RecognitionRecipient), recipients)
    db.session.execute(insert(Reaction), reactions)
    db.session.commit()
    return staff[0].user.email, ward_rows[0].id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recognitions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite", "SECRET_KEY": "bench",
                          "JOBS_SQLITE_PATH": f"{tmp}/jobs.sqlite", "WTF_CSRF_ENABLED": False,
                          "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
        app.instance_path = tmp
        with app.app_context():
            db.create_all()
            email, ward_id = build(args.recognitions, 500, 25, rng)
            total = db.session.scalar(select(db.func.count(Recognition.id)))
        client = app.test_client()
        response = client.post("/account/sign-in", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        for label, paths in (("hospital feed, page 1", ["/recognition/"]),
                             ("hospital feed, pages 2-400", [f"/recognition/?page={p}" for p in range(2, 400, 7)]),
                             ("ward feed, page 1", [f"/recognition/wards/{ward_id}"])):
            timings = []
            for n in range(args.requests):
                path = paths[n % len(paths)]
                start = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            timings.sort()
            print(f"{label:28} median {statistics.median(timings):6.1f} ms   "
                  f"p95 {timings[int(len(timings) * 0.95) - 1]:6.1f} ms   ({len(timings)} requests, {total:,} recognitions)")


if __name__ == "__main__":
    main()
