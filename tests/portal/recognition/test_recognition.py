"""Peer recognition, feeds, reactions, the received page, digest, KPIs, awards and settings."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.recognition import charts, services
from portal.recognition.models import (
    CommitteeMember,
    CycleStatus,
    PatientFeedback,
    Recognition,
    RecognitionKind,
    Visibility,
)
from tests.conftest import csrf_token_from


def _post(client, url, data, page=None):
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **data})


# --- peer recognition and feeds --------------------------------------------------------------

def test_nurse_recognises_two_colleagues_through_the_form(team, login_as, client, db, users):
    login_as("nurse")
    response = _post(client, "/recognition/new", {
        "staff_ids": [team["amara"].id, team["tomasz"].id], "message": "Covered my breaks on a wild shift.",
        "values": ["teamwork", "extra-mile"], "visibility": "everyone"})
    assert response.status_code == 302
    feed = client.get("/recognition/").get_data(as_text=True)
    assert "Covered my breaks on a wild shift." in feed and "Amara Okafor and Tomasz Nowak" in feed
    assert "Going the extra mile" in feed
    rec = db.session.scalar(select(Recognition))
    assert rec.sender_ward_id == users["nurse"].staff.memberships[0].ward_id


def test_recognition_form_re_renders_with_errors_and_keeps_the_message(team, login_as, client):
    login_as("nurse")
    response = _post(client, "/recognition/new", {"message": "Kept typing this", "values": []})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose at least one colleague." in html and "Choose at least one value." in html
    assert "Kept typing this" in html


def test_recognising_yourself_or_unknown_values_is_refused(team, users):
    nurse = users["nurse"]
    with pytest.raises(services.RecognitionError):
        services.give_recognition(nurse, [nurse.staff.id], "Me!", ["teamwork"])
    with pytest.raises(services.RecognitionError):
        services.give_recognition(nurse, [team["amara"].id], "Hi", ["made-up"])


def test_private_recognition_is_seen_only_by_recipient_sender_their_manager_and_admins(team, users, login, app, ward):
    services.give_recognition(users["other_manager"], [users["nurse"].staff.id], "Private thanks", ["compassion"],
                              Visibility.PRIVATE.value)
    expectations = {"nurse": True, "manager": True, "other_manager": True, "admin": True}
    for role, sees in expectations.items():
        client = login(users[role].email, using=app.test_client())
        assert ("Private thanks" in client.get("/recognition/").get_data(as_text=True)) is sees, role
    amara = team["amara"]
    amara.user.password_hash = users["nurse"].password_hash
    client = login(amara.user.email, using=app.test_client())
    assert "Private thanks" not in client.get("/recognition/").get_data(as_text=True)
    assert "Private thanks" not in client.get(f"/recognition/wards/{ward.id}").get_data(as_text=True)


def test_ward_feed_shows_only_that_wards_staff(team, users, login_as, client, ward, other_ward):
    services.give_recognition(users["nurse"], [team["amara"].id], "For Amara", ["teamwork"])
    services.give_recognition(users["other_manager"], [team["priya"].id], "For Priya", ["teamwork"])
    login_as("manager")
    html = client.get(f"/recognition/wards/{ward.id}").get_data(as_text=True)
    assert "For Amara" in html and "For Priya" not in html
    assert client.get(f"/recognition/wards/{other_ward.id}").status_code == 403


def test_feed_is_newest_first_and_paginated(team, users, login_as, client):
    for n in range(25):
        rec = services.give_recognition(users["manager"], [team["amara"].id], f"Message number {n:02d}", ["teamwork"])
        rec.created_at = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(hours=n)
    login_as("nurse")
    first = client.get("/recognition/").get_data(as_text=True)
    assert first.index("Message number 24") < first.index("Message number 23")
    assert "Message number 04" not in first and "Page 1 of 2" in first
    second = client.get("/recognition/?page=2").get_data(as_text=True)
    assert "Message number 04" in second and "Message number 24" not in second


def test_reactions_toggle(team, users, login_as, client, db):
    rec = services.give_recognition(users["manager"], [team["amara"].id], "Well done", ["teamwork"])
    login_as("nurse")
    response = _post(client, f"/recognition/{rec.id}/react", {"kind": "celebrate", "next": "/recognition/"},
                     page="/recognition/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/recognition/")
    counts = services.reaction_counts([rec], users["nurse"])[rec.id]
    assert [(c.kind, c.count, c.mine) for c in counts if c.kind == "celebrate"] == [("celebrate", 1, True)]
    _post(client, f"/recognition/{rec.id}/react", {"kind": "celebrate", "next": "https://evil.example/"},
          page="/recognition/")
    assert sum(c.count for c in services.reaction_counts([rec], users["nurse"])[rec.id]) == 0
    assert _post(client, f"/recognition/{rec.id}/react", {"kind": "nonsense"}, page="/recognition/").status_code == 302


def test_received_page_is_printable_and_lists_patient_praise(team, users, login_as, client, submit_feedback):
    feedback = submit_feedback("Nina was kind to me at 3am")
    services.approve_feedback(users["manager"], feedback, [users["nurse"].staff.id])
    services.give_recognition(users["manager"], [users["nurse"].staff.id], "Great handover", ["clear-communication"],
                              Visibility.PRIVATE.value)
    login_as("nurse")
    html = client.get("/recognition/mine").get_data(as_text=True)
    assert "Nina was kind to me at 3am" in html and "Great handover" in html and "Patient praise" in html
    assert "print-sheet" in html and "Nina Nurse" in html
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert "Great handover" not in client.get(f"/recognition/mine?since={tomorrow}").get_data(as_text=True)
    assert client.get("/recognition/mine?since=garbage").status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert "Recent recognition for you" in home and "Great handover" in home


def test_digest_lists_the_week_and_who_is_not_yet_recognised(team, users, login_as, client, ward):
    services.give_recognition(users["nurse"], [team["amara"].id], "Digest message", ["teamwork"])
    login_as("manager")
    html = client.get(f"/recognition/wards/{ward.id}/digest").get_data(as_text=True)
    assert "Digest message" in html and "Amara Okafor" in html
    unseen = html[html.index("Not yet recognised"):]
    assert "Tomasz Nowak" in unseen
    assert client.get(f"/recognition/wards/{ward.id}/digest?week=nonsense").status_code == 200


def test_poster_has_a_qr_code_for_the_short_address(login_as, client, ward, users):
    login_as("manager")
    html = client.get(f"/recognition/wards/{ward.id}/poster").get_data(as_text=True)
    assert "<svg" in html and "/f/W7" in html and 'aria-label="QR code' in html


# --- KPIs -------------------------------------------------------------------------------------------

def _responses(db, org, ward, day, pairs):
    for index, (experience, recommend) in enumerate(pairs):
        db.session.add(PatientFeedback(organisation_id=org.id, ward_id=ward.id, fingerprint=f"kpi-{day}-{index}",
                                       received_on=day, experience=experience, recommend=recommend))
    db.session.flush()


def test_kpis_suppress_months_under_five_responses(team, org, ward, db, users):
    today = date.today()
    this_month = today.replace(day=1)
    last_month = services.add_months(this_month, -1)
    _responses(db, org, ward, this_month, [(1, 10), (1, 9), (2, 8), (4, 3), (6, 10)])
    _responses(db, org, ward, last_month, [(1, 10), (1, 10), (2, 9), (4, 0)])
    rows = {row.month: row for row in services.ward_kpis(ward, months=3, today=today)}
    current = rows[this_month]
    assert current.responses == 5
    assert current.experience_score is None  # four valid (don't know left out): suppressed
    assert current.nps == pytest.approx(100 * (3 - 1) / 5)
    assert rows[last_month].nps is None and rows[last_month].experience_score is None


def test_kpi_page_has_charts_with_the_same_numbers_in_tables(team, org, ward, db, login_as, client, users):
    _responses(db, org, ward, date.today().replace(day=1), [(1, 10)] * 6 + [(5, 0)] * 2)
    services.give_recognition(users["nurse"], [team["amara"].id], "KPI", ["teamwork"])
    login_as("manager")
    html = client.get("/recognition/kpis").get_data(as_text=True)
    assert html.count("<svg") == 2 and "fewer than 5 responses" in html
    assert "75%" in html and "+50" in html  # 6 of 8 good; NPS (6 - 2) / 8


def test_equity_counts_staff_recognised_in_the_quarter(team, ward, users, db):
    quarter = services.quarter_start(date.today())
    services.give_recognition(users["manager"], [team["amara"].id, team["tomasz"].id], "Equity", ["teamwork"])
    equity = services.recognition_equity(ward, quarter)
    assert equity.staff == 4 and equity.recognised == 2 and equity.share is None  # under 5 staff: hidden
    from tests import factories

    factories.create_staff(ward.organisation, ward, "Fifth Person")
    assert services.recognition_equity(ward, quarter).share == pytest.approx(40.0)


def test_charts_are_svg_from_the_figure_api(team, ward):
    rows = services.ward_kpis(ward, months=2)
    svg = charts.scores_chart(rows, "Ward <7>")
    assert svg.startswith("<svg") and 'role="img"' in svg and "Ward &lt;7" in svg
    assert 'id="scores-' in svg and 'id="figure_1"' not in svg


# --- awards -------------------------------------------------------------------------------------------

def test_award_cycle_from_nomination_to_announcement(team, users, login, app, db):
    admin = login(users["admin"].email, using=app.test_client())
    today = date.today()
    response = _post(admin, "/recognition/awards/new", {
        "title": "Compassion award", "criteria": "Compassion\nImpact", "opens_on": today.isoformat(),
        "closes_on": (today + timedelta(days=7)).isoformat()})
    assert response.status_code == 302
    cycle = db.session.scalar(select(services.NominationCycle))
    nurse = login(users["nurse"].email, using=app.test_client())
    short = _post(nurse, f"/recognition/awards/{cycle.id}/nominate", {"staff_id": team["amara"].id, "reason": "Nice"})
    assert short.status_code == 200 and "at least 20" in short.get_data(as_text=True)
    ok = _post(nurse, f"/recognition/awards/{cycle.id}/nominate",
               {"staff_id": team["amara"].id, "reason": "Sat with a dying patient's wife all night."})
    assert ok.status_code == 302
    assert _post(admin, f"/recognition/awards/{cycle.id}/close", {}, page="/recognition/awards").status_code == 302
    db.session.refresh(cycle)
    assert cycle.status == CycleStatus.SCORING
    # The manager joins the committee and scores blind: the nominator's name is not on the page.
    db.session.add(CommitteeMember(organisation_id=cycle.organisation_id, user_id=users["manager"].id))
    db.session.flush()
    manager = login(users["manager"].email, using=app.test_client())
    page = manager.get(f"/recognition/awards/{cycle.id}/score").get_data(as_text=True)
    assert "Sat with a dying patient" in page and "Nina Nurse" not in page
    nomination = cycle.nominations[0]
    prefix = f"n{nomination.id}-"
    response = manager.post(f"/recognition/awards/nominations/{nomination.id}/score", data={
        f"{prefix}csrf_token": csrf_token_from(page), f"{prefix}criterion_0": "5", f"{prefix}criterion_1": "4"})
    assert response.status_code == 302
    db.session.refresh(nomination)
    assert [s.total for s in nomination.scores] == [9]
    assert nurse.get(f"/recognition/awards/{cycle.id}/score").status_code == 403
    response = _post(admin, f"/recognition/awards/{cycle.id}/announce", {"nomination_id": nomination.id},
                     page=f"/recognition/awards/{cycle.id}/manage")
    assert response.status_code == 302
    feed = nurse.get("/recognition/").get_data(as_text=True)
    assert "Winner of Compassion award" in feed and "Award" in feed
    award = db.session.scalar(select(Recognition).where(Recognition.kind == RecognitionKind.AWARD))
    assert [r.staff_id for r in award.recipients] == [team["amara"].id]


def test_nominators_cannot_score_their_own_nomination(team, users, db):
    cycle = services.create_cycle(users["admin"], "Award", ["One"], date.today(), date.today())
    nomination = services.nominate(users["manager"], cycle, team["amara"].id, "Twenty characters or more here.")
    services.close_nominations(users["admin"], cycle)
    with pytest.raises(services.RecognitionError):
        services.score_nomination(users["manager"], nomination, [5])
    with pytest.raises(services.RecognitionError):
        services.score_nomination(users["nurse"], nomination, [9])


def test_patient_nomination_from_the_public_form_reaches_the_cycle(team, users, ward, db):
    cycle = services.create_cycle(users["admin"], "Award", ["One"], date.today(), date.today())
    feedback = services.submit_public_feedback(ward, experience=None, recommend=10, thanks="Amara Okafor",
                                               comment="She was an angel.", wants_contact=False, contact="",
                                               wants_nomination=True)
    services.approve_feedback(users["manager"], feedback, feedback.named_staff_ids)
    db.session.refresh(cycle)
    assert [(n.nominee_id, n.from_patient, n.nominator_id) for n in cycle.nominations] == [(team["amara"].id, True, None)]


# --- settings ------------------------------------------------------------------------------------------

def test_admin_adds_and_retires_values(team, users, login_as, client, db):
    login_as("admin")
    response = _post(client, "/recognition/values", {"name": "Courage", "description": "Spoke up"})
    assert response.status_code == 302
    assert [v.name for v in services.service_values(services.organisation())][-1] == "Courage"
    value = db.session.scalar(select(services.ServiceValue).where(services.ServiceValue.name == "Courage"))
    _post(client, f"/recognition/values/{value.id}/toggle", {}, page="/recognition/values")
    db.session.expire_all()
    assert "Courage" not in [v.name for v in services.service_values(services.organisation())]
    duplicate = _post(client, "/recognition/values", {"name": "teamwork"})
    assert duplicate.status_code == 200 and "already a value" in duplicate.get_data(as_text=True)


def test_admin_manages_the_committee(team, users, login_as, client, db):
    login_as("admin")
    assert _post(client, "/recognition/committee", {"email": users["nurse"].email}).status_code == 302
    assert services.is_committee_member(users["nurse"])
    again = _post(client, "/recognition/committee", {"email": users["nurse"].email})
    assert "already on the committee" in again.get_data(as_text=True)
    unknown = _post(client, "/recognition/committee", {"email": "nobody@example.test"})
    assert "Nobody has an account" in unknown.get_data(as_text=True)
