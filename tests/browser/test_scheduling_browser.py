"""Roster side in the browser: leave → optimise → review → publish → the nurse's phone and calendar; a sick call."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from portal.demo import DEMO_LOGINS
from portal.extensions import db
from portal.models import StaffMember, User
from portal.scheduling import services
from portal.scheduling.models import Leave, RosterPeriod
from portal.timeutil import local_today
from tests.browser.conftest import check_accessibility, screenshot, sign_in, sign_out

NURSE = DEMO_LOGINS[0]
MANAGER = DEMO_LOGINS[1]


def _periods(app):
    """Ward 7's current and next periods (the demo builds both) and the demo nurse's id."""
    with app.app_context():
        nurse = db.session.scalar(select(StaffMember).join(User).where(User.email == NURSE[1]))
        ward_ids = [m.ward_id for m in nurse.memberships]
        periods = db.session.scalars(select(RosterPeriod).where(RosterPeriod.ward_id.in_(ward_ids))
                                     .order_by(RosterPeriod.start_date)).all()
        today = local_today()
        current = next(p for p in periods if p.start_date <= today <= p.end_date)
        upcoming = next(p for p in periods if p.start_date > today)
        return current.id, upcoming.id, upcoming.start_date, nurse.id


def _wait_for_run(page) -> None:
    """The progress page reloads itself when the run ends; wait for its outcome."""
    page.wait_for_selector("text=/Review the draft|Why no roster is possible|Stopped/", timeout=90_000)


def test_leave_optimise_publish_then_the_nurse_sees_it_on_her_phone_and_calendar(live_server, phone, desktop):
    app = live_server.app
    _current_id, period_id, start, nurse_id = _periods(app)
    leave_day = start + timedelta(days=10)

    # The nurse asks for a day of annual leave in the next period.
    sign_in(phone, live_server, NURSE[1], NURSE[2])
    phone.goto(live_server("/scheduling/my/leave"))
    phone.get_by_label("Type of leave").select_option(label="Annual leave")
    phone.get_by_label("First day").fill(leave_day.isoformat())
    phone.get_by_label("Last day").fill(leave_day.isoformat())
    phone.get_by_role("button", name="Request leave").click()
    expect(phone.get_by_text("requested. Your ward manager will decide.")).to_be_visible()
    sign_out(phone)

    # The manager approves it, then optimises the period.
    sign_in(desktop, live_server, MANAGER[1], MANAGER[2])
    with app.app_context():
        leave_id = db.session.scalar(select(Leave.id).where(Leave.staff_id == nurse_id, Leave.start_date == leave_day))
    assert leave_id is not None, "the leave request was not saved"
    desktop.goto(live_server(f"/scheduling/leave/{leave_id}"))
    desktop.get_by_role("button", name="Approve leave").click()
    expect(desktop.get_by_text("approved.").first).to_be_visible()

    desktop.goto(live_server("/scheduling/rosters"))
    check_accessibility(desktop)
    desktop.goto(live_server(f"/scheduling/periods/{period_id}"))
    desktop.get_by_label("Time limit (seconds)").fill("8")
    desktop.get_by_role("button", name="Optimise").click()
    desktop.wait_for_url("**/scheduling/runs/**")
    check_accessibility(desktop)
    screenshot(desktop, "scheduling-run-progress-desktop")
    _wait_for_run(desktop)
    expect(desktop.get_by_role("heading", name="Score over time")).to_be_visible()
    check_accessibility(desktop)
    screenshot(desktop, "scheduling-run-finished-desktop")

    desktop.get_by_role("link", name="Review the draft").click()
    desktop.wait_for_load_state()
    expect(desktop.get_by_role("heading", name="Shifts")).to_be_visible()
    expect(desktop.get_by_text("all met")).to_be_visible()  # the optimiser's draft keeps every hard rule
    check_accessibility(desktop)
    screenshot(desktop, "scheduling-draft-review-desktop")
    with app.app_context():
        period = db.session.get(RosterPeriod, period_id)
        cells = services.roster_cells(services.draft_roster(period))
    assert (nurse_id, leave_day) not in cells, "approved leave must be kept free"
    mine = sorted(day for staff_id, day in cells if staff_id == nurse_id)
    assert mine, "the nurse has no shifts in the draft"

    desktop.get_by_label("Note for the version history").fill("Browser test publish")
    desktop.get_by_role("button", name=re.compile(r"Publish version \d+")).click()
    desktop.wait_for_load_state()
    expect(desktop.get_by_text("published; staff have been notified")).to_be_visible()
    expect(desktop.get_by_text("Current version")).to_be_visible()
    check_accessibility(desktop)
    sign_out(desktop)

    # The nurse sees her shift on her phone and in her calendar feed.
    sign_in(phone, live_server, NURSE[1], NURSE[2])
    phone.goto(live_server("/scheduling/my/roster"))
    first = mine[0]
    expect(phone.get_by_text(re.compile(first.strftime("%-d %b"))).first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "scheduling-my-roster-after-publish-phone")
    phone.goto(live_server("/scheduling/my/calendar"))
    phone.get_by_role("button", name=re.compile("calendar address")).first.click()
    phone.wait_for_load_state()
    link = phone.locator("#calendar-link").inner_text().strip()
    body = phone.request.get(link.replace("http://localhost", live_server.url)).text()
    assert "BEGIN:VCALENDAR" in body
    assert first.strftime("%Y%m%d") in body, "the published shift is not in the calendar feed"
    assert "Europe/London" in body


def test_manager_records_a_sick_call_and_publishes_the_repair(live_server, desktop, phone):
    app = live_server.app
    current_id, _upcoming_id, _start, _nurse_id = _periods(app)
    tomorrow = local_today() + timedelta(days=1)
    with app.app_context():
        period = db.session.get(RosterPeriod, current_id)
        published = services.current_published_roster(period)
        assert published is not None, "the demo's current period has no published roster"
        cells = services.roster_cells(published)
        staff_id = next(s for (s, d) in sorted(cells) if d == tomorrow)
        name = db.session.get(StaffMember, staff_id).display_name
        before_number = published.number

    sign_in(desktop, live_server, MANAGER[1], MANAGER[2])
    desktop.goto(live_server(f"/scheduling/periods/{current_id}/sick-call"))
    check_accessibility(desktop)
    desktop.get_by_label("Who is absent").select_option(label=name)
    desktop.get_by_label("First day of absence").fill(tomorrow.isoformat())
    desktop.get_by_label("Last day of absence").fill(tomorrow.isoformat())
    desktop.get_by_label("Repair time limit (seconds)").fill("8")
    desktop.get_by_role("button", name="Record absence and repair the roster").click()
    desktop.wait_for_load_state()
    _wait_for_run(desktop)
    desktop.get_by_role("link", name="Review the draft").click()
    desktop.wait_for_load_state()
    changes = desktop.get_by_role("heading", name=re.compile(f"Changes from published version {before_number}"))
    expect(changes).to_be_visible()
    expect(desktop.locator("#changes").get_by_text(name).first).to_be_visible()
    screenshot(desktop, "scheduling-sick-call-diff-desktop")
    desktop.get_by_role("button", name=re.compile(r"Publish version \d+")).click()
    desktop.wait_for_load_state()
    expect(desktop.get_by_text(f"Version {before_number + 1} published")).to_be_visible()
    with app.app_context():
        period = db.session.get(RosterPeriod, current_id)
        after = services.roster_cells(services.current_published_roster(period))
    assert (staff_id, tomorrow) not in after
    # The grid works on a phone: it scrolls sideways inside its box, the page itself does not.
    sign_in(phone, live_server, MANAGER[1], MANAGER[2])
    phone.goto(desktop.url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    check_accessibility(phone)
    screenshot(phone, "scheduling-roster-version-phone")
