"""Races and the real queue, on a file-based database with separate connections.

These tests do not use the per-test rollback ``app`` fixture: two sessions (or a worker thread)
must see each other's commits, so each test builds its own database with ``fresh_database``
(SQLite file, or PostgreSQL when ``DATABASE_URL`` is set) and drops it afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import User
from portal.scheduling import services
from portal.scheduling.models import OptimiserRun, Roster, RosterKind, RosterPeriod, RunStatus
from tests import factories
from tests.conftest import make_test_app
from tests.portal.scheduling.roster_helpers import build_roster_ward, solved_cells
from tests.support import drop_database, fresh_database


@pytest.fixture
def live_db(tmp_path):
    url = fresh_database(tmp_path, "roster")
    yield url
    drop_database(url)


def _make_app(url, tmp_path, **config):
    app = make_test_app(url, tmp_path, JOBS_SQLITE_PATH=str(tmp_path / f"jobs-{uuid.uuid4().hex[:6]}.sqlite"),
                        JOBS_QUEUE_NAME=f"roster-{uuid.uuid4().hex[:8]}", **config)
    with app.app_context():
        db.create_all()
    return app


def _seed(app, *, with_draft: bool) -> dict:
    with app.app_context():
        org = factories.create_organisation()
        ward = factories.create_ward(org, "Ward 7", "W7")
        managers = [factories.create_staff(org, ward, name, manages=[ward]).user for name in ("Mo One", "Max Two")]
        setup = build_roster_ward(org, ward)
        ids = {"period": setup.period.id, "managers": [m.id for m in managers]}
        if with_draft:
            draft = services.write_draft(setup.period, solved_cells(setup, time_limit_s=2), run=None, based_on=None)
            ids["draft_version"] = draft.version
        db.session.commit()
        return ids


def test_two_managers_publishing_the_same_draft_give_one_version(live_db, tmp_path):
    app = _make_app(live_db, tmp_path, JOBS_IMMEDIATE=True)
    ids = _seed(app, with_draft=True)
    barrier = threading.Barrier(2)
    outcomes: list[tuple[str, object]] = []

    def publish(manager_id: int) -> None:
        with app.app_context():
            period = db.session.get(RosterPeriod, ids["period"])
            actor = db.session.get(User, manager_id)
            services.draft_roster(period)  # both have read the draft before either writes
            barrier.wait()
            try:
                roster = services.publish_draft(period, actor, version=ids["draft_version"], note="race")
                db.session.commit()
                outcomes.append(("published", roster.number))
            except services.SchedulingError as exc:
                db.session.rollback()
                outcomes.append(("refused", exc.reasons[0]))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish, args=(manager_id,)) for manager_id in ids["managers"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert sorted(kind for kind, _ in outcomes) == ["published", "refused"], outcomes
        message = next(value for kind, value in outcomes if kind == "refused")
        assert "Someone else" in message  # a clear conflict message, not an error page
        with app.app_context():
            versions = db.session.scalars(select(Roster).where(Roster.kind == RosterKind.PUBLISHED)).all()
            assert [v.number for v in versions] == [1]
            assert db.session.scalar(select(func.count()).select_from(Roster.assignments.property.mapper.local_table)
                                     .where(Roster.assignments.property.mapper.local_table.c.roster_id == versions[0].id)) > 0
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_optimiser_runs_in_the_embedded_queue_and_can_be_stopped(live_db, tmp_path):
    """Enqueue through the real SqliteHuey queue; a consumer thread (the worker) runs the job."""
    app = _make_app(live_db, tmp_path, JOBS_IMMEDIATE=False)
    ids = _seed(app, with_draft=False)
    consumer = app.extensions["huey"].create_consumer(workers=1, worker_type="thread", periodic=False)
    consumer.start()
    try:
        from portal.jobs import enqueue
        from portal.scheduling.tasks import run_optimiser

        with app.app_context():
            period = db.session.get(RosterPeriod, ids["period"])
            manager = db.session.get(User, ids["managers"][0])
            run = services.start_optimisation(period, manager, time_limit_s=30)
            db.session.commit()
            run_id = run.id
            enqueue(run_optimiser, run_id)
            with pytest.raises(services.SchedulingError) as error:
                services.start_optimisation(period, manager, time_limit_s=5)
            assert "already running" in error.value.reasons[0]
            db.session.rollback()
            db.session.remove()
        # Wait for progress written by the worker, then ask it to stop early.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with app.app_context():
                run = db.session.get(OptimiserRun, run_id)
                if run.progress:
                    services.request_stop(run, db.session.get(User, ids["managers"][0]))
                    db.session.commit()
                    break
                db.session.remove()
            time.sleep(0.2)
        stopped_at = time.monotonic()
        while time.monotonic() < deadline:
            with app.app_context():
                run = db.session.get(OptimiserRun, run_id)
                if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
                    break
                db.session.remove()
            time.sleep(0.2)
        with app.app_context():
            run = db.session.get(OptimiserRun, run_id)
            assert run.status == RunStatus.FINISHED, run.message
            assert run.active_period_id is None and run.stop_requested
            assert "you stopped it" in run.message and "not proven optimal" in run.message
            assert time.monotonic() - stopped_at < 10  # well before the 30 s limit
            draft = services.draft_roster(db.session.get(RosterPeriod, ids["period"]))
            assert draft is not None and draft.source_run_id == run_id and services.roster_cells(draft)
            # The draft breaks no hard rule even though the search was cut short.
            problems, _by_rule, _total = services.draft_score(draft.period, draft)
            assert problems == []
    finally:
        consumer.stop(graceful=False)
        with app.app_context():
            db.engine.dispose()


def test_abandoned_runs_do_not_block_the_period_forever(live_db, tmp_path):
    app = _make_app(live_db, tmp_path, JOBS_IMMEDIATE=True)
    ids = _seed(app, with_draft=False)
    try:
        with app.app_context():
            period = db.session.get(RosterPeriod, ids["period"])
            manager = db.session.get(User, ids["managers"][0])
            stale = services.start_optimisation(period, manager, time_limit_s=5)
            stale.created_at = stale.created_at - timedelta(hours=1)
            db.session.commit()
            fresh = services.start_optimisation(period, manager, time_limit_s=5)
            db.session.commit()
            assert stale.status == RunStatus.FAILED and "stopped without finishing" in stale.message
            assert fresh.active_period_id == period.id
    finally:
        with app.app_context():
            db.engine.dispose()
