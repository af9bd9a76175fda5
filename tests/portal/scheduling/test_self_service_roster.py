"""My roster, who else is on, the ward roster, the home-page block and the iCal feed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.scheduling import self_service as ss
from portal.scheduling.models import CalendarToken
from portal.timeutil import local_today
from tests import factories
from tests.conftest import csrf_token_from
from tests.portal.scheduling.factories_self_service import create_period, current_period, publish

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def team(users, org, ward):
    nurse = users["nurse"].staff
    colleague = factories.create_staff(org, ward, "Cara Colleague")
    other = factories.create_staff(org, ward, "Olly Other")
    return nurse, colleague, other


def test_my_shifts_come_from_the_newest_version_with_who_else_is_on(team, ward):
    nurse, colleague, other = team
    period = current_period(ward)
    day = local_today() + timedelta(days=2)
    publish(period, {(nurse, day): "E", (colleague, day): "L"})
    publish(period, {(nurse, day): "E", (colleague, day): "E", (other, day): "L",
                     (nurse, day + timedelta(days=1)): "N"})
    shifts = ss.published_shifts(nurse, local_today(), local_today() + timedelta(days=10))
    assert [(s.day, s.shift_type.code, s.colleagues, s.roster.number) for s in shifts] == [
        (day, "E", ["Cara Colleague"], 2), (day + timedelta(days=1), "N", [], 2)]
    assert shifts[1].ends_at == datetime.combine(day + timedelta(days=2), time(7, 30))


def test_my_roster_page_shows_days_shifts_and_colleagues(login_as, team, ward):
    nurse, colleague, _ = team
    period = current_period(ward)
    day = local_today() + timedelta(days=2)
    publish(period, {(nurse, day): "E", (colleague, day): "E"})
    html = login_as("nurse").get("/scheduling/my/roster").get_data(as_text=True)
    assert ss.day_label(day) in html and "Early" in html and "07:00–15:00" in html
    assert "With:</span> Cara Colleague" in html


def test_my_roster_without_a_published_roster_says_so(login_as, ward):
    create_period(ward)
    html = login_as("nurse").get("/scheduling/my/roster").get_data(as_text=True)
    assert "no published shifts" in html


def test_home_page_lists_the_next_shifts(login_as, team, ward):
    nurse, _, _ = team
    period = current_period(ward)
    publish(period, {(nurse, local_today() + timedelta(days=1)): "L", (nurse, local_today() + timedelta(days=3)): "E"})
    html = login_as("nurse").get("/").get_data(as_text=True)
    assert "Your next shifts" in html and "Tomorrow" in html and "Late" in html
    assert ss.day_label(local_today() + timedelta(days=3)) in html


def test_ward_roster_grid_shows_everyone_for_members_only(login_as, team, ward):
    nurse, colleague, _ = team
    period = current_period(ward)
    publish(period, {(nurse, period.start_date): "E", (colleague, period.start_date): "N"})
    html = login_as("nurse").get(f"/scheduling/my/wards/{ward.id}/roster").get_data(as_text=True)
    assert "Cara Colleague" in html and ">N</span>" in html and "version 1" in html
    grid = ss.ward_roster_grid(period)
    assert len(grid.days) == 28 and any(row[0].id == colleague.id for row in grid.rows)


def test_shift_colours_get_readable_text():
    assert ss.readable_ink("#1f2937") == "#ffffff"
    assert ss.readable_ink("#f6e05e") == "#1b2430"
    assert ss.readable_ink("#3b6ea5") == "#ffffff"


# --- calendar tokens and the feed -----------------------------------------------------------------

def test_calendar_token_is_hashed_and_a_new_one_revokes_the_old(users):
    nurse = users["nurse"].staff
    first = ss.create_calendar_token(users["nurse"], nurse)
    stored = db.session.scalars(select(CalendarToken)).all()
    assert len(stored) == 1 and first not in stored[0].token_hash and len(stored[0].token_hash) == 64
    assert ss.staff_for_calendar_secret(first) is nurse
    second = ss.create_calendar_token(users["nurse"], nurse)
    assert ss.staff_for_calendar_secret(first) is None and ss.staff_for_calendar_secret(second) is nurse
    ss.revoke_calendar_tokens(users["nurse"], nurse)
    assert ss.staff_for_calendar_secret(second) is None


def _events(body: bytes) -> list:
    calendar = icalendar.Calendar.from_ical(body)
    return [e for e in calendar.walk("VEVENT")]


def test_feed_crosses_the_october_clock_change_with_the_right_local_times(client, users, org, ward):
    nurse = users["nurse"].staff
    # British Summer Time ends at 02:00 on Sunday 26 October 2025.
    period = create_period(ward, start=date(2025, 10, 20), days=14, opens=date(2025, 9, 1), closes=date(2025, 10, 1))
    published = datetime(2025, 10, 1, 9, 0, tzinfo=timezone.utc)
    publish(period, {(nurse, date(2025, 10, 24)): "E", (nurse, date(2025, 10, 25)): "N",
                     (nurse, date(2025, 10, 28)): "E"}, created_at=published)
    secret = ss.create_calendar_token(users["nurse"], nurse)
    db.session.flush()
    body = _feed(client, secret, today=date(2025, 10, 22))
    calendar = icalendar.Calendar.from_ical(body)
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/London"]
    events = {e.decoded("dtstart").date(): e for e in calendar.walk("VEVENT")}
    early_bst, night, early_gmt = events[date(2025, 10, 24)], events[date(2025, 10, 25)], events[date(2025, 10, 28)]
    assert early_bst["DTSTART"].params["TZID"] == "Europe/London"
    assert early_bst.decoded("dtstart").astimezone(timezone.utc).hour == 6  # 07:00 BST
    assert early_gmt.decoded("dtstart").astimezone(timezone.utc).hour == 7  # 07:00 GMT
    # The night starts in summer time and ends the next morning after the clocks went back.
    assert night.decoded("dtstart") == datetime(2025, 10, 25, 20, 0, tzinfo=LONDON)
    assert night.decoded("dtend") == datetime(2025, 10, 26, 7, 30, tzinfo=LONDON)
    # Elapsed time (in UTC) is an hour longer than the wall clock suggests.
    utc = timezone.utc
    assert night.decoded("dtend").astimezone(utc) - night.decoded("dtstart").astimezone(utc) == timedelta(hours=12, minutes=30)
    assert str(night["UID"]) == f"shift-{nurse.id}-20251025@portal.test"
    assert night.decoded("sequence") == 1 and night.decoded("last-modified") == published


def _feed(client, secret, today=None):
    from unittest import mock

    with mock.patch("portal.scheduling.self_service.local_today", return_value=today or local_today()):
        response = client.get(f"/scheduling/calendar/{secret}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return response.data


def test_feed_follows_new_versions_with_the_same_uid_and_a_higher_sequence(client, team, ward, users):
    nurse, colleague, _ = team
    period = current_period(ward)
    day = local_today() + timedelta(days=3)
    publish(period, {(nurse, day): "E"})
    secret = ss.create_calendar_token(users["nurse"], nurse)
    db.session.flush()
    before = _events(_feed(client, secret))
    publish(period, {(nurse, day): "L", (colleague, day): "L"})
    db.session.flush()
    after = _events(_feed(client, secret))
    assert [str(e["UID"]) for e in before] == [str(e["UID"]) for e in after]
    assert after[0].decoded("sequence") == 2 and "Late" in str(after[0]["SUMMARY"])
    assert "Cara Colleague" in str(after[0]["DESCRIPTION"])


def test_revoked_or_unknown_tokens_give_404(client, users):
    secret = ss.create_calendar_token(users["nurse"], users["nurse"].staff)
    ss.revoke_calendar_tokens(users["nurse"], users["nurse"].staff)
    db.session.flush()
    assert client.get(f"/scheduling/calendar/{secret}.ics").status_code == 404
    assert client.get("/scheduling/calendar/not-a-token.ics").status_code == 404


def test_empty_feed_still_parses_and_names_its_zone(client, users):
    secret = ss.create_calendar_token(users["nurse"], users["nurse"].staff)
    db.session.flush()
    calendar = icalendar.Calendar.from_ical(_feed(client, secret))
    assert calendar.walk("VEVENT") == [] and calendar.timezones[0].tz_name == "Europe/London"


def test_calendar_page_shows_the_address_once_and_revokes_it(login_as, client):
    browser = login_as("nurse")
    page = browser.get("/scheduling/my/calendar").get_data(as_text=True)
    assert "Create my calendar address" in page
    html = browser.post("/scheduling/my/calendar/new", data={"csrf_token": csrf_token_from(page)},
                        follow_redirects=True).get_data(as_text=True)
    address = html.split('id="calendar-link">')[1].split("<")[0]
    assert address.startswith("http://portal.test/scheduling/calendar/") and address.endswith(".ics")
    assert client.get(address.replace("http://portal.test", "")).status_code == 200
    again = browser.get("/scheduling/my/calendar").get_data(as_text=True)
    assert address not in again and "Switched on" in again
    browser.post("/scheduling/my/calendar/revoke", data={"csrf_token": csrf_token_from(again)})
    assert client.get(address.replace("http://portal.test", "")).status_code == 404


def test_my_roster_lists_approved_leave(login_as, users):
    from portal.scheduling.models import DecisionStatus
    from tests.portal.scheduling.factories_self_service import create_leave

    day = local_today() + timedelta(days=10)
    create_leave(users["nurse"].staff, day, day + timedelta(days=2), status=DecisionStatus.APPROVED)
    create_leave(users["nurse"].staff, day + timedelta(days=5), day + timedelta(days=6))  # pending: not shown
    html = login_as("nurse").get("/scheduling/my/roster").get_data(as_text=True)
    assert f"Annual leave {ss.day_span(day, day + timedelta(days=2))}" in html
    assert ss.day_label(day + timedelta(days=5)) not in html
