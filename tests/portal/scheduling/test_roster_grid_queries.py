"""The roster grid's SQL query count does not grow with the number of staff."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from portal.extensions import db
from portal.scheduling.models import Priority, RequestKind, RosterKind, ShiftRequest
from tests import factories
from tests.portal.scheduling.roster_helpers import build_roster_ward, put_roster


@contextmanager
def count_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.session.get_bind()
    target = engine.engine if hasattr(engine, "engine") else engine
    event.listen(target, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", before)


def _ward_with(org, code: str, staff_count: int):
    ward = factories.create_ward(org, f"Ward {code}", code)
    setup = build_roster_ward(org, ward, staff_count=staff_count, days=28,
                              start=__import__("datetime").date(2032, 2, 2 if code == "A" else 9))
    shifts = list(setup.shifts.values())
    cells = {}
    for index, person in enumerate(setup.staff):
        for offset in range(28):
            if (offset + index) % 7 < 5:
                cells[(person.id, setup.period.start_date + timedelta(days=offset))] = shifts[(index + offset) % 3].id
        db.session.add(ShiftRequest(period_id=setup.period.id, staff_id=person.id, day=setup.period.start_date,
                                    kind=RequestKind.DAY_OFF, priority=Priority.NORMAL))
    published = put_roster(setup.period, cells)
    draft = put_roster(setup.period, cells, kind=RosterKind.DRAFT)
    return setup, published, draft


def test_grid_queries_do_not_grow_with_staff(users, org, login_as):
    small, small_published, _ = _ward_with(org, "A", 10)
    large, large_published, _ = _ward_with(org, "B", 60)
    client = login_as("admin")
    counts = {}
    for label, setup, published in (("small", small, small_published), ("large", large, large_published)):
        for page in (f"/scheduling/rosters/{published.id}", f"/scheduling/periods/{setup.period.id}/draft"):
            client.get(page)  # warm caches (templates, the user's session)
            with count_queries() as statements:
                response = client.get(page)
            assert response.status_code == 200
            counts[(label, page.split("/")[-1] if "draft" in page else "version")] = len(statements)
    assert counts[("small", "version")] == counts[("large", "version")], counts
    assert counts[("small", "draft")] == counts[("large", "draft")], counts
    assert 5 < counts[("large", "version")] and counts[("large", "draft")] < 40, counts
