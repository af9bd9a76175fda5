"""The colleague picker (give a recognition, change the named staff) and the paged moderation queue."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.recognition import services
from portal.recognition.models import FeedbackStatus, PatientFeedback, Recognition
from tests import factories
from tests.conftest import csrf_token_from


def _group(html: str, ward_name: str) -> str:
    """The <details> block of one ward in the picker."""
    match = re.search(r'<details class="staff-picker__group"[^>]*>\s*<summary>' + re.escape(ward_name)
                      + r".*?</details>", html, re.S)
    assert match, f"no group for {ward_name}"
    return match.group(0)


def test_groups_put_each_person_under_their_current_ward_with_chosen_wards_first(org, ward, other_ward, team, users):
    mover = factories.create_staff(org, ward, "Zoë Ärnold")
    mover.memberships[0].end_date = date.today() - timedelta(days=1)
    factories.create_staff(org, other_ward, "Left Early").is_active = False
    db.session.add(type(mover.memberships[0])(staff_id=mover.id, ward_id=other_ward.id,
                                              start_date=date.today() - timedelta(days=1)))
    db.session.flush()
    groups = services.staff_picker_groups(org, exclude_staff_id=users["nurse"].staff.id,
                                          first_ward_ids=[other_ward.id])
    assert [g.ward_name for g in groups] == ["Ward 12", "Ward 7"]
    assert [p.name for p in groups[0].people] == ["Olu Other", "Priya Sharma", "Zoë Ärnold"]
    assert [p.name for p in groups[1].people] == ["Amara Okafor", "Mo Manager", "Tomasz Nowak"]
    zoe = groups[0].people[2]
    assert "zoe arnold" in zoe.search and "w12" in zoe.search  # accents folded, ward searchable


def test_give_page_lists_colleagues_as_checkboxes_by_ward_without_a_multi_select(team, login_as, client, users):
    login_as("nurse")
    html = client.get(f"/recognition/new?staff={team['priya'].id}").get_data(as_text=True)
    assert "<select" not in html
    own, other = _group(html, "Ward 7"), _group(html, "Ward 12")
    assert own.startswith('<details class="staff-picker__group" data-picker-group open>')  # her ward is open
    assert f'value="{team["amara"].id}"' in own
    assert f'id="staff_ids-{users["nurse"].staff.id}"' not in html  # never herself
    # The colleague asked for in the link is ticked, so that ward opens too.
    assert " open>" in other.split("\n")[0]
    assert re.search(rf'value="{team["priya"].id}"[^>]*checked', other)
    assert "Chosen:</strong> <span data-picker-chosen>Priya Sharma</span>" in html
    # Labelled, filterable when scripts run, and the script is a file (CSP: script-src 'self').
    assert f'<label for="staff_ids-{team["amara"].id}">Amara Okafor</label>' in html
    assert 'for="staff_ids-search"' in html and 'data-picker-search hidden' in html
    assert re.search(r'<script src="/static/js/recognition-staff-picker.js[^"]*" defer></script>', html)
    assert "<script>" not in html


def test_ticked_colleagues_are_sent_and_kept_when_the_form_has_errors(team, login_as, client, users):
    login_as("nurse")
    token = csrf_token_from(client.get("/recognition/new").get_data(as_text=True))
    response = client.post("/recognition/new", data={"csrf_token": token, "staff_ids": [team["tomasz"].id],
                                                     "message": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(rf'value="{team["tomasz"].id}"[^>]*checked', html)
    response = client.post("/recognition/new", data={
        "csrf_token": token, "staff_ids": [team["tomasz"].id, team["priya"].id], "message": "Thanks for the cover.",
        "values": ["teamwork"], "visibility": "everyone"})
    assert response.status_code == 302
    recognition = db.session.scalar(select(Recognition).order_by(Recognition.id.desc()))
    assert {r.staff_id for r in recognition.recipients} == {team["tomasz"].id, team["priya"].id}


def test_choosing_nobody_is_an_error_linked_from_the_summary(team, login_as, client):
    login_as("nurse")
    token = csrf_token_from(client.get("/recognition/new").get_data(as_text=True))
    html = client.post("/recognition/new", data={"csrf_token": token, "message": "Hi", "values": ["teamwork"]}
                       ).get_data(as_text=True)
    assert 'href="#staff_ids"' in html and '<fieldset id="staff_ids"' in html
    assert "Choose at least one colleague." in html and 'aria-describedby="staff_ids-hint staff_ids-error"' in html


def test_moderation_picker_ticks_the_named_staff_and_changes_them(team, submit_feedback, login_as, client, db):
    feedback = submit_feedback("Amara was brilliant")
    db.session.flush()
    login_as("manager")
    html = client.get(f"/recognition/feedback/{feedback.id}").get_data(as_text=True)
    assert "<select" not in html
    assert re.search(rf'value="{team["amara"].id}"[^>]*checked', _group(html, "Ward 7"))
    token = csrf_token_from(html)
    response = client.post(f"/recognition/feedback/{feedback.id}", data={
        "csrf_token": token, "staff_ids": [team["tomasz"].id, team["priya"].id], "reassign": "1"})
    assert response.status_code == 302
    db.session.refresh(feedback)
    assert feedback.named_staff_ids == sorted([team["tomasz"].id, team["priya"].id])
    html = client.get(f"/recognition/feedback/{feedback.id}").get_data(as_text=True)
    assert re.search(rf'value="{team["priya"].id}"[^>]*checked', _group(html, "Ward 12"))


def test_moderation_page_says_when_a_named_person_has_left(team, submit_feedback, login_as, client, db):
    feedback = submit_feedback("Tomasz was brilliant")
    team["tomasz"].is_active = False
    db.session.flush()
    login_as("manager")
    html = client.get(f"/recognition/feedback/{feedback.id}").get_data(as_text=True)
    assert "Also named, but no longer on the staff list: Tomasz Nowak." in html
    assert f'value="{team["tomasz"].id}"' not in html


def _waiting(org, ward, n: int) -> list[PatientFeedback]:
    start = date.today() - timedelta(days=n)
    rows = [PatientFeedback(organisation_id=org.id, ward_id=ward.id, source="form", fingerprint=f"queue-{i}",
                            received_on=start + timedelta(days=i), redacted_comment=f"Comment number {i:03d}.",
                            status=FeedbackStatus.PENDING, named_staff_ids=[])
            for i in range(n)]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def test_moderation_queue_is_paged_oldest_first_beyond_the_first_page(org, ward, users, login_as, client):
    assert services.MODERATION_PAGE_SIZE == 50
    _waiting(org, ward, 120)
    login_as("manager")
    first = client.get("/recognition/feedback").get_data(as_text=True)
    assert "Waiting for you (120)" in first and "Page 1 of 3" in first
    assert "Comment number 000." in first and "Comment number 049." in first
    assert "Comment number 050." not in first
    assert 'href="/recognition/feedback?page=2"' in first
    last = client.get("/recognition/feedback?page=3").get_data(as_text=True)
    assert "Comment number 119." in last and "Comment number 099." not in last and "Page 3 of 3" in last
    assert 'href="/recognition/feedback?page=2"' in last
    beyond = client.get("/recognition/feedback?page=9").get_data(as_text=True)
    assert "There is nothing on this page" in beyond


@pytest.mark.parametrize("role, expected", [("manager", 3), ("other_manager", 0), ("admin", 3)])
def test_each_manager_pages_through_only_their_wards(org, ward, users, role, expected):
    _waiting(org, ward, 3)
    assert services.moderation_page(users[role], 1).total == expected
