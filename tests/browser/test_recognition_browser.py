"""A patient thanks a nurse on a phone; the manager approves it; the nurse sees the praise."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.demo import DEMO_LOGINS
from tests.browser.conftest import check_accessibility, screenshot, sign_in, sign_out

NURSE = DEMO_LOGINS[0]
MANAGER = DEMO_LOGINS[1]
PRAISE = "She held my hand before my operation and explained every step"


def test_patient_praise_reaches_the_named_nurse(live_server, phone):
    # 1. A patient on a phone, no sign-in, through the short address on the poster.
    phone.goto(live_server("/f/W7"))
    assert phone.get_by_role("heading", level=1).inner_text().startswith("How was your care on Ward 7")
    check_accessibility(phone)
    screenshot(phone, "recognition-public-form-phone")
    phone.get_by_label("Very good", exact=True).check()
    phone.get_by_label("10", exact=True).check()
    phone.get_by_label("Is there anyone you would like to thank?").fill("Amara Okafor")
    phone.get_by_label("Tell us about your care").fill(
        f"{PRAISE}. My daughter Sophie (07700 900321) says thank you too. <script>alert(1)</script>")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.get_by_role("button", name="Send feedback").click()
    phone.wait_for_load_state()
    expect(phone.get_by_role("heading", name="Thank you for your feedback")).to_be_visible()
    check_accessibility(phone)
    screenshot(phone, "recognition-public-thanks-phone")

    # 2. The ward manager approves it from the moderation queue.
    sign_in(phone, live_server, MANAGER[1], MANAGER[2])
    phone.get_by_role("link", name="Patient feedback").first.click()
    item = phone.locator("li.queue__item", has_text=PRAISE)
    expect(item).to_have_count(1)
    assert "07700" not in item.inner_text() and "Sophie" not in item.inner_text()
    check_accessibility(phone)
    screenshot(phone, "recognition-moderation-queue-phone")
    item.get_by_role("link", name="Review").click()
    phone.wait_for_load_state()
    picker = phone.get_by_role("group", name="Who is the patient thanking?")
    assert picker.get_by_role("checkbox", name="Amara Okafor").is_checked()
    assert picker.locator("[data-picker-chosen]").inner_text() == "Amara Okafor"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    check_accessibility(phone)
    screenshot(phone, "recognition-moderate-phone")
    phone.get_by_role("button", name="Approve as patient praise").click()
    phone.wait_for_load_state()
    expect(phone.get_by_text("Approved. It is now in their recognition feed.")).to_be_visible()
    assert phone.locator("li.queue__item", has_text=PRAISE).count() == 0
    sign_out(phone)

    # 3. The nurse signs in and sees the praise, redacted, on her home page and in her feed.
    sign_in(phone, live_server, NURSE[1], NURSE[2])
    phone.goto(live_server("/"))
    recent = phone.get_by_role("region", name="Recent recognition for you")
    expect(recent.get_by_text(PRAISE)).to_be_visible()
    assert "A patient" in recent.inner_text() and "07700" not in recent.inner_text()
    assert "Sophie" not in recent.inner_text()
    check_accessibility(phone)
    screenshot(phone, "recognition-home-nurse-phone")
    phone.goto(live_server("/recognition/"))
    card = phone.locator("article.recognition", has_text=PRAISE).first
    expect(card).to_be_visible()
    text = card.inner_text()
    assert "Patient praise" in text and "A patient thanked" in text and "Amara Okafor" in text
    assert "07700" not in text and "Sophie" not in text and "<script>alert(1)</script>" in text  # shown, not run
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    check_accessibility(phone)
    screenshot(phone, "recognition-feed-nurse-phone")
    phone.get_by_role("link", name="Received").click()
    phone.wait_for_load_state()
    expect(phone.get_by_text(PRAISE).first).to_be_visible()
    check_accessibility(phone)
    screenshot(phone, "recognition-received-nurse-phone")


def test_nurse_finds_and_ticks_colleagues_with_the_keyboard_on_a_phone(live_server, phone):

    sign_in(phone, live_server, NURSE[1], NURSE[2])
    phone.goto(live_server("/recognition/new"))
    picker = phone.get_by_role("group", name="Who are you recognising?")
    search = phone.get_by_label("Find a colleague by name or ward")
    expect(search).to_be_visible()  # the script revealed the search box
    # Her own ward is open; the others are closed until searched.
    groups = picker.locator("details")
    assert groups.first.evaluate("el => el.open") and not groups.nth(1).evaluate("el => el.open")
    assert picker.get_by_role("checkbox", name="Amara Okafor").count() == 0  # never herself
    search.click()
    phone.keyboard.type("grace whit")
    boxes = picker.locator("input[type=checkbox]:visible")
    assert boxes.count() == 1
    expect(picker.get_by_role("status")).to_have_text("1 colleague matches.")  # once typing pauses
    phone.keyboard.press("Tab")
    phone.keyboard.press("Tab")  # past the ward's summary to her checkbox
    assert phone.evaluate("document.activeElement.type") == "checkbox"
    phone.keyboard.press("Space")
    assert picker.get_by_role("checkbox", name="Grace Whitfield").is_checked()
    assert picker.locator("[data-picker-chosen]").inner_text() == "Grace Whitfield"
    # Enter in the search box filters; it does not send the form.
    search.fill("W12")
    search.press("Enter")
    assert phone.url.endswith("/recognition/new")
    assert picker.locator("details:visible").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    check_accessibility(phone)
    screenshot(phone, "recognition-give-picker-phone")
    second = picker.locator("input[type=checkbox]:visible").first
    second.check()
    search.fill("")
    expect(picker.get_by_role("checkbox", name="Grace Whitfield")).to_be_visible()  # her ward opens again
    phone.get_by_label("What did they do?").fill("Stayed late to help me with a deteriorating patient.")
    phone.get_by_label("Teamwork").check()
    phone.get_by_role("button", name="Send recognition").click()
    phone.wait_for_load_state()
    expect(phone.get_by_text("Thank you. Your recognition has been sent.")).to_be_visible()
    card = phone.locator("article.recognition", has_text="Stayed late to help me").first
    assert "Grace Whitfield" in card.inner_text()


def test_manager_pages_on_desktop(live_server, desktop):
    sign_in(desktop, live_server, MANAGER[1], MANAGER[2])
    for path, name in (("/recognition/kpis", "recognition-kpis-desktop"),
                       ("/recognition/feedback", "recognition-moderation-desktop")):
        desktop.goto(live_server(path))
        check_accessibility(desktop)
        screenshot(desktop, name)
    desktop.goto(live_server("/recognition/feedback"))
    desktop.get_by_role("link", name="Feedback poster for Ward 7 – Acute Medicine").click()
    desktop.wait_for_load_state()
    expect(desktop.locator("svg.poster__qr")).to_be_visible()
    check_accessibility(desktop)
    screenshot(desktop, "recognition-poster-desktop")
