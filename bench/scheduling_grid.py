"""Benchmark the roster grid page: 60 staff × 28 days on SQLite, through the Flask test client.

Builds a throw-away SQLite database with one ward of 60 staff, a 28-day period, a published
version and a draft (about 1,200 assignments each), signs in as the ward's manager, then
requests the published version's grid and the draft review page (grid, cover rows, totals,
live validation of the draft) ``--repeat`` times each and prints the median, p90 and the
number of SQL queries per request.

    PYTHONPATH=. .venv/bin/python bench/scheduling_grid.py            # 60 staff, 30 requests each
    PYTHONPATH=. .venv/bin/python bench/scheduling_grid.py --staff 120 --repeat 50
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402


def build(staff_count: int):
    from portal.scheduling.models import Priority, RequestKind, RosterKind, ShiftRequest
    from tests import factories
    from tests.portal.scheduling.roster_helpers import build_roster_ward, put_roster

    org = factories.create_organisation()
    ward = factories.create_ward(org, "Ward 7", "W7")
    manager = factories.create_staff(org, ward, "Mo Manager", email="manager@bench.test", manages=[ward])
    setup = build_roster_ward(org, ward, staff_count=staff_count - 1, days=28, start=date(2032, 2, 2))
    shifts = list(setup.shifts.values())
    cells = {}
    for index, person in enumerate(setup.staff):
        for offset in range(28):
            if (offset + index) % 7 < 5:
                cells[(person.id, setup.period.start_date + timedelta(days=offset))] = shifts[(index + offset) % 3].id
        db.session.add(ShiftRequest(period_id=setup.period.id, staff_id=person.id,
                                    day=setup.period.start_date + timedelta(days=index % 28),
                                    kind=RequestKind.DAY_OFF, priority=Priority.NORMAL))
    published = put_roster(setup.period, cells)
    put_roster(setup.period, cells, kind=RosterKind.DRAFT)
    db.session.commit()
    return manager.user.email, published.id, setup.period.id


def measure(client, url: str, repeat: int, engine) -> tuple[list[float], int]:
    client.get(url)  # warm up templates and caches
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    event.remove(engine, "before_cursor_execute", count)
    return times, counter["n"] // repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-grid-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'grid.sqlite'}", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
    app.instance_path = str(tmp)
    with app.app_context():
        db.create_all()
        email, roster_id, period_id = build(args.staff)
        engine = db.engine
    client = app.test_client()
    from tests.factories import PASSWORD

    response = client.post("/account/sign-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, "could not sign in"
    print(f"{args.staff} staff × 28 days, {args.repeat} requests per page (server time via the test client)")
    print(f"{'page':<40} {'median ms':>10} {'p90 ms':>8} {'queries':>8}")
    for label, url in (("published version grid", f"/scheduling/rosters/{roster_id}"),
                       ("draft review (grid + live validation)", f"/scheduling/periods/{period_id}/draft"),
                       ("print page", f"/scheduling/rosters/{roster_id}/print")):
        times, queries = measure(client, url, args.repeat, engine)
        p90 = sorted(times)[int(len(times) * 0.9) - 1]
        print(f"{label:<40} {statistics.median(times):>10.1f} {p90:>8.1f} {queries:>8}")


if __name__ == "__main__":
    main()
