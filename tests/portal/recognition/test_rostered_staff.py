"""Staff rostered that day: read from the latest published roster and preferred by the name matcher."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from portal.extensions import db
from portal.recognition import services
from portal.recognition.models import FeedbackStatus, PatientFeedback
from portal.recognition.survey_import import ColumnMapping
from portal.scheduling.models import Roster, RosterAssignment, RosterKind
from portal.timeutil import local_today
from tests import factories
from tests.portal.scheduling.factories_self_service import create_period, publish, shift


@pytest.fixture
def sams(org, ward, team):
    """Two people called Sam on Ward 7: a bare "Sam" is ambiguous unless one of them is rostered."""
    return {
        "taylor": factories.create_staff(org, ward, "Sam Taylor"),
        "green": factories.create_staff(org, ward, "Sam Green"),
    }


@pytest.fixture
def period(ward):
    """A four-week period on Ward 7 that started a week ago (its request window long closed)."""
    start = local_today() - timedelta(days=7)
    return create_period(ward, start=start, days=28, opens=start - timedelta(days=30),
                         closes=start - timedelta(days=10))


def _draft(period, cells):
    draft = Roster(period_id=period.id, kind=RosterKind.DRAFT, draft_period_id=period.id)
    db.session.add(draft)
    db.session.flush()
    for (person, day), code in cells.items():
        db.session.add(RosterAssignment(roster_id=draft.id, staff_id=person.id, day=day,
                                        shift_type_id=shift(period.ward, code).id))
    db.session.flush()
    return draft


@pytest.fixture
def count_queries(app):
    statements: list[str] = []

    def _record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _record)
    yield statements
    event.remove(db.engine, "before_cursor_execute", _record)


def test_latest_published_version_decides_who_is_rostered(period, team, sams, ward, other_ward, count_queries):
    today = local_today()
    tomorrow = today + timedelta(days=1)
    publish(period, {(team["amara"], today): "E", (sams["taylor"], today): "L", (sams["green"], tomorrow): "N"})
    publish(period, {(team["tomasz"], today): "E", (sams["taylor"], today): "L"})
    _draft(period, {(team["amara"], today): "E", (sams["green"], today): "E"})

    count_queries.clear()
    assert services.rostered_staff_ids(ward.id, today) == {team["tomasz"].id, sams["taylor"].id}
    assert len(count_queries) == 1
    # Version 2 has nobody tomorrow; version 1's night shift no longer counts.
    assert services.rostered_staff_ids(ward.id, tomorrow) == frozenset()
    assert services.rostered_staff_ids(other_ward.id, today) == frozenset()
    assert services.rostered_staff_ids(ward.id, period.end_date + timedelta(days=1)) == frozenset()


def test_a_draft_alone_rosters_nobody(period, team, ward):
    today = local_today()
    _draft(period, {(team["amara"], today): "E"})
    assert services.rostered_staff_ids(ward.id, today) == frozenset()


def test_rostered_staff_by_day_covers_wards_and_days_in_one_query(period, team, sams, ward, other_ward,
                                                                   count_queries):
    today = local_today()
    other_period = create_period(other_ward, start=period.start_date, days=28,
                                 opens=period.requests_open_on, closes=period.requests_close_on)
    publish(period, {(team["amara"], today): "E", (team["tomasz"], today - timedelta(days=1)): "E"})
    publish(other_period, {(team["priya"], today): "L"})
    count_queries.clear()
    table = services.rostered_staff_by_day([ward.id, other_ward.id], today - timedelta(days=1), today)
    assert len(count_queries) == 1
    assert table == {
        (ward.id, today): {team["amara"].id},
        (ward.id, today - timedelta(days=1)): {team["tomasz"].id},
        (other_ward.id, today): {team["priya"].id},
    }
    assert services.rostered_staff_by_day([], today, today) == {}


def test_public_feedback_prefers_the_sam_rostered_that_day(period, sams, submit_feedback):
    assert submit_feedback("Sam was wonderful").named_staff_ids == []  # two Sams, nobody rostered
    publish(period, {(sams["green"], local_today()): "E"})
    feedback = submit_feedback("Sam was wonderful")
    assert feedback.named_staff_ids == [sams["green"].id]
    assert feedback.status == FeedbackStatus.PENDING and feedback.ambiguous == []


def test_survey_import_reads_the_roster_once_and_matches_per_ward_and_day(period, sams, org, monkeypatch):
    today = local_today()
    yesterday = today - timedelta(days=1)
    publish(period, {(sams["green"], today): "E", (sams["taylor"], yesterday): "E"})
    calls = []
    real = services.rostered_staff_by_day
    monkeypatch.setattr(services, "rostered_staff_by_day", lambda *a: calls.append(a) or real(*a))
    monkeypatch.setattr(services, "rostered_staff_ids", lambda *a: pytest.fail("looked up per row"))
    rows = [f"R{n},{day:%d/%m/%Y},W7,Very good,10,Sam was wonderful"
            for n, day in enumerate([today, yesterday, today, date(2024, 1, 2)])]
    data = ("Response ID,Date,Ward,Overall experience,Recommend,Comments\n" + "\n".join(rows) + "\n").encode()
    mapping = ColumnMapping(date="Date", ward="Ward", experience="Overall experience", recommend="Recommend",
                            comment="Comments", response_id="Response ID")
    outcome = services.import_survey_rows(org, data, mapping, source="Vendor A", today=today)
    assert outcome.ok and outcome.added == 4
    assert len(calls) == 1
    named = [f.named_staff_ids for f in db.session.scalars(
        select(PatientFeedback).where(PatientFeedback.source == "Vendor A").order_by(PatientFeedback.id))]
    assert named == [[sams["green"].id], [sams["taylor"].id], [sams["green"].id], []]
