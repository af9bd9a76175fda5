"""The demo nurse signs in on a phone, sees the home page and signs out."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.demo import DEMO_LOGINS
from tests.browser.conftest import check_accessibility, screenshot, sign_in, sign_out

NURSE = DEMO_LOGINS[0]
ADMIN = DEMO_LOGINS[2]


def test_nurse_signs_in_on_a_phone_and_out_again(live_server, phone):
    phone.goto(live_server("/"))
    assert "/account/sign-in" in phone.url
    check_accessibility(phone)
    screenshot(phone, "accounts-sign-in-phone")
    sign_in(phone, live_server, NURSE[1], NURSE[2])
    assert phone.get_by_role("heading", level=1).inner_text().startswith("Hello, Amara")
    expect(phone.get_by_text("Ward 7 – Acute Medicine").first).to_be_visible()
    # Nothing overflows the phone's width.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    check_accessibility(phone)
    screenshot(phone, "home-nurse-phone")
    sign_out(phone)
    assert "/account/sign-in" in phone.url
    expect(phone.get_by_text("You have signed out.")).to_be_visible()


def test_wrong_password_shows_one_generic_message(live_server, phone):
    phone.goto(live_server("/account/sign-in"))
    phone.get_by_label("E-mail address").fill(NURSE[1])
    phone.get_by_label("Password").fill("not-the-password")
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.get_by_text("The e-mail address or password is not right").first).to_be_visible()
    assert "/account/sign-in" in phone.url
    check_accessibility(phone)
    screenshot(phone, "accounts-sign-in-error-phone")


def test_admin_sees_set_up_on_desktop(live_server, desktop):
    sign_in(desktop, live_server, ADMIN[1], ADMIN[2])
    expect(desktop.get_by_role("heading", name="Set-up")).to_be_visible()
    desktop.get_by_role("link", name="Staff", exact=True).first.click()
    expect(desktop.get_by_role("heading", name="Staff", level=1)).to_be_visible()
    check_accessibility(desktop)
    screenshot(desktop, "admin-staff-desktop")
