"""The nurse on a phone: my roster, requests, a swap refused with its reason, leave and the manager's decision."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from portal.demo import DEMO_LOGINS
from portal.extensions import db
from portal.models import StaffMember, User
from portal.scheduling import self_service as ss
from portal.scheduling import services
from portal.timeutil import local_today
from tests.browser.conftest import check_accessibility, screenshot, sign_in, sign_out

NURSE = DEMO_LOGINS[0]
MANAGER = DEMO_LOGINS[1]


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def _rest_breaking_swap(app):
    """A shift of the demo nurse and a colleague who works the night before it (and is free that day)."""
    with app.app_context():
        nurse = db.session.scalar(select(StaffMember).join(User).where(User.email == NURSE[1]))
        today = local_today()
        for period in ss.periods_for(nurse, today):
            roster = services.current_published_roster(period)
            if roster is None:
                continue
            cells = {(a.staff_id, a.day): a.shift_type for a in roster.assignments}
            for (staff_id, day), shift in sorted(cells.items(), key=lambda item: item[0][1]):
                if staff_id != nurse.id or day <= today + timedelta(days=1) or shift.is_night:
                    continue
                for (other_id, other_day), other_shift in cells.items():
                    if (other_day == day - timedelta(days=1) and other_shift.is_night and other_id != nurse.id
                            and (other_id, day) not in cells):
                        colleague = db.session.get(StaffMember, other_id)
                        return period.id, day, colleague.id, colleague.display_name, shift.name
    raise AssertionError("the demo roster has no shift to try a rest-breaking swap with")


def _nurse_shift_day(app):
    with app.app_context():
        nurse = db.session.scalar(select(StaffMember).join(User).where(User.email == NURSE[1]))
        today = local_today()
        shifts = ss.published_shifts(nurse, today + timedelta(days=2), today + timedelta(days=20), with_colleagues=False)
        assert shifts, "the demo nurse has no published shifts ahead"
        return shifts[0].day, shifts[0].shift_type.name


def test_nurse_sees_my_roster_and_requests_on_a_phone(live_server, phone):
    sign_in(phone, live_server, NURSE[1], NURSE[2])
    expect(phone.get_by_role("heading", name="Your next shifts")).to_be_visible()
    phone.get_by_role("link", name="My roster", exact=True).first.click()
    expect(phone.get_by_role("heading", name="My roster", level=1)).to_be_visible()
    assert phone.locator(".shift-card").count() > 0
    expect(phone.get_by_text("With:").first).to_be_visible()
    _no_sideways_scroll(phone)
    check_accessibility(phone)
    screenshot(phone, "self-my-roster-phone")

    phone.get_by_role("link", name="W7 ward roster").click()
    expect(phone.get_by_role("region", name="Ward roster, scrolls sideways")).to_be_visible()
    _no_sideways_scroll(phone)
    check_accessibility(phone)
    screenshot(phone, "self-ward-roster-phone")

    phone.get_by_role("link", name="Requests", exact=True).first.click()
    expect(phone.get_by_role("heading", name="Requests", level=1)).to_be_visible()
    check_accessibility(phone)
    screenshot(phone, "self-requests-phone")
    phone.get_by_role("link", name="Make requests").first.click()
    phone.get_by_label("Day", exact=True).fill((local_today() + timedelta(days=90)).isoformat())
    phone.get_by_label("A day off").check()
    phone.get_by_role("button", name="Add request").click()
    # The day is outside the period: the reason is shown and nothing typed is lost.
    expect(phone.get_by_text("Choose a day in this period").first).to_be_visible()
    _no_sideways_scroll(phone)
    check_accessibility(phone)
    screenshot(phone, "self-period-requests-error-phone")


def test_swap_that_breaks_a_rule_is_refused_with_its_reason(live_server, phone):
    period_id, day, colleague_id, colleague_name, shift_name = _rest_breaking_swap(live_server.app)
    sign_in(phone, live_server, NURSE[1], NURSE[2])
    phone.get_by_role("link", name="Swaps", exact=True).first.click()
    expect(phone.get_by_role("heading", name="Swaps", level=1)).to_be_visible()
    check_accessibility(phone)
    phone.get_by_label("Your shift").select_option(f"{period_id}:{day.isoformat()}")
    phone.get_by_label("Colleague", exact=True).select_option(str(colleague_id))
    phone.get_by_label("Message to your colleague (optional)").fill("Could you take this one?")
    phone.get_by_role("button", name="Propose swap").click()
    refusal = phone.get_by_role("alert").filter(has_text="Swap not possible")
    expect(refusal).to_be_visible()
    text = refusal.inner_text()
    assert colleague_name in text and ("rest" in text or "after" in text), text
    assert phone.get_by_label("Message to your colleague (optional)").input_value() == "Could you take this one?"
    _no_sideways_scroll(phone)
    check_accessibility(phone)
    screenshot(phone, "self-swap-refused-phone")


def test_leave_request_and_the_managers_decision(live_server, phone, desktop):
    shift_day, shift_name = _nurse_shift_day(live_server.app)
    far = local_today() + timedelta(days=100)

    sign_in(phone, live_server, NURSE[1], NURSE[2])
    phone.goto(live_server("/scheduling/my/leave"))
    # Leave over a day with a published shift: the manager will see it uncovered.
    phone.get_by_label("Type of leave").select_option("study")
    phone.get_by_label("First day").fill(shift_day.isoformat())
    phone.get_by_label("Last day").fill(shift_day.isoformat())
    phone.get_by_role("button", name="Request leave").click()
    expect(phone.get_by_text("Study leave").first).to_be_visible()
    phone.get_by_label("Type of leave").select_option("annual")
    phone.get_by_label("First day").fill(far.isoformat())
    phone.get_by_label("Last day").fill((far + timedelta(days=4)).isoformat())
    phone.get_by_label("Note for the manager (optional)").fill("Family wedding")
    phone.get_by_role("button", name="Request leave").click()
    expect(phone.get_by_text("requested. Your ward manager will decide.")).to_be_visible()
    # The same dates again overlap: refused with the reason, the typed dates kept.
    phone.get_by_label("First day").fill((far + timedelta(days=2)).isoformat())
    phone.get_by_label("Last day").fill((far + timedelta(days=6)).isoformat())
    phone.get_by_role("button", name="Request leave").click()
    expect(phone.get_by_text("This overlaps your annual leave").first).to_be_visible()
    assert phone.get_by_label("First day").input_value() == (far + timedelta(days=2)).isoformat()
    _no_sideways_scroll(phone)
    check_accessibility(phone)
    screenshot(phone, "self-leave-phone")
    sign_out(phone)

    sign_in(desktop, live_server, MANAGER[1], MANAGER[2])
    desktop.get_by_role("link", name="Decisions", exact=True).click()
    expect(desktop.get_by_role("heading", name="Decisions", level=1)).to_be_visible()
    check_accessibility(desktop)
    screenshot(desktop, "self-decisions-desktop")
    desktop.get_by_role("link", name="Decide leave for Amara Okafor").first.click()
    expect(desktop.get_by_role("button", name="Decline leave")).to_be_visible()
    # Whichever of the two comes first: find the study leave over a published shift.
    if not desktop.get_by_text("Study leave").first.is_visible():
        desktop.go_back()
        desktop.get_by_role("link", name="Decide leave for Amara Okafor").nth(1).click()
        expect(desktop.get_by_role("button", name="Decline leave")).to_be_visible()
    warning = desktop.get_by_role("note")
    assert f"Approving this leaves {shift_name} on {ss.day_label(shift_day)} uncovered" in warning.inner_text()
    check_accessibility(desktop)
    screenshot(desktop, "self-leave-decision-conflict-desktop")
    desktop.get_by_label("Note to the nurse (optional)").fill("Sorry, we cannot cover that day")
    desktop.get_by_role("button", name="Decline leave").click()
    expect(desktop.get_by_text("declined").first).to_be_visible()

    desktop.get_by_role("link", name="Decide leave for Amara Okafor").first.click()
    expect(desktop.get_by_text("No published shifts fall in this leave")).to_be_visible()
    desktop.get_by_role("button", name="Approve leave").click()
    expect(desktop.get_by_text("approved").first).to_be_visible()
    sign_out(desktop)

    sign_in(phone, live_server, NURSE[1], NURSE[2])
    phone.goto(live_server("/scheduling/my/leave"))
    expect(phone.get_by_text("Approved").first).to_be_visible()
    expect(phone.get_by_text("Manager's note: Sorry, we cannot cover that day")).to_be_visible()
    phone.get_by_role("link", name="Inbox").click()
    expect(phone.get_by_text("was approved").first).to_be_visible()
    screenshot(phone, "self-leave-decided-phone")
