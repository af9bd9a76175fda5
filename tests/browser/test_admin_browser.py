"""An administrator imports staff from CSV, invites one of them, who then sets a password."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.demo import DEMO_LOGINS
from tests.browser.conftest import check_accessibility, screenshot, sign_in

ADMIN = DEMO_LOGINS[2]
HEADER = "employee_number,full_name,known_as,email,grade,ward,skills,hours_per_week,may_work_nights,contract_start\n"


def test_import_staff_then_invite_one(live_server, desktop, phone, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Z901,Rosa Rivera,,rosa@demo.example,RN,W7,IV,37.5,yes,2026-02-01\n"
                   "Z902,Tariq Noor,,tariq@demo.example,BAND9,W7,,37.5,yes,2026-02-01\n")
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "Z901,Rosa Rivera,,rosa@demo.example,RN,W7,IV,37.5,yes,2026-02-01\n"
                    "Z902,Tariq Noor,,tariq@demo.example,HCA,W12,,22.5,no,2026-02-01\n")

    sign_in(desktop, live_server, ADMIN[1], ADMIN[2])
    desktop.goto(live_server("/admin/staff/import"))
    desktop.get_by_label("Staff CSV file").set_input_files(str(bad))
    desktop.get_by_role("button", name="Check file").click()
    expect(desktop.get_by_text("Nothing was imported: 1 problem found")).to_be_visible()
    expect(desktop.get_by_text("Unknown grade 'BAND9'")).to_be_visible()
    check_accessibility(desktop)
    screenshot(desktop, "admin-import-errors-desktop")

    desktop.get_by_label("Staff CSV file").set_input_files(str(good))
    desktop.get_by_role("button", name="Check file").click()
    expect(desktop.get_by_text("Ready to import 2 staff")).to_be_visible()
    desktop.get_by_role("button", name="Import these staff").click()
    expect(desktop.get_by_text("Imported 2 staff.")).to_be_visible()

    desktop.get_by_label("Search staff").fill("Rosa")
    desktop.get_by_role("button", name="Search").click()
    desktop.get_by_role("link", name="Rosa Rivera").click()
    desktop.get_by_role("button", name="Create an invitation link").click()
    link = desktop.locator("#one-time-link").inner_text().strip()
    assert "/account/invite/" in link
    check_accessibility(desktop)
    screenshot(desktop, "admin-staff-invitation-desktop")

    phone.goto(link)
    expect(phone.get_by_role("heading", name="Welcome, Rosa Rivera")).to_be_visible()
    phone.get_by_label("New password", exact=True).fill("rosa-chooses-this")
    phone.get_by_label("Repeat the new password").fill("rosa-chooses-this")
    phone.get_by_role("button", name="Save password").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hello, Rosa")
    screenshot(phone, "invitation-accepted-phone")
