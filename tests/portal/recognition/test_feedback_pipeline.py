"""The feedback pipeline and moderation: public form, routing, approval, privacy, escaping."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Notification
from portal.recognition import services
from portal.recognition.models import FeedbackStatus, PatientFeedback, Recognition, RecognitionKind
from portal.recognition.scoring import Experience
from tests.conftest import csrf_token_from

SCRIPT = "<script>alert('x')</script>"


def _form_post(client, ward_code, **data):
    page = client.get(f"/f/{ward_code}")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(f"/f/{ward_code}", data={"csrf_token": token, **data})


# --- routing -------------------------------------------------------------------------------

def test_praise_naming_staff_waits_for_moderation_with_identifiers_redacted(team, submit_feedback):
    feedback = submit_feedback("Amara was wonderful with my husband John. Call me on 07700 900123.")
    assert feedback.status == FeedbackStatus.PENDING
    assert feedback.named_staff_ids == [team["amara"].id]
    assert "07700" not in feedback.redacted_comment and "[phone]" in feedback.redacted_comment
    assert "John" not in feedback.redacted_comment
    assert "Amara" in feedback.redacted_comment
    assert "07700 900123" in feedback.original_comment


def test_negative_feedback_goes_to_service_recovery_never_a_feed(team, submit_feedback, users):
    feedback = submit_feedback("Amara was rude and we were ignored.", experience=Experience.VERY_POOR, recommend=1)
    assert feedback.status == FeedbackStatus.RECOVERY and feedback.is_negative
    with pytest.raises(services.RecognitionError):
        services.approve_feedback(users["manager"], feedback, [team["amara"].id])
    assert feedback in services.recovery_list(feedback.ward)


def test_abusive_and_other_service_comments_are_held(team, submit_feedback):
    abusive = submit_feedback("Amara is a useless cow", experience=Experience.GOOD, recommend=8)
    other = submit_feedback("The car park was a nightmare but Tomasz was lovely", experience=Experience.GOOD, recommend=8)
    assert abusive.status == FeedbackStatus.HELD and "abusive" in abusive.flags
    assert other.status == FeedbackStatus.HELD and "other_service" in other.flags


def test_general_praise_without_names_is_only_counted(team, submit_feedback):
    assert submit_feedback("Lovely clean ward.").status == FeedbackStatus.RECORDED


def test_thanks_field_is_matched_and_redacted_separately(team, submit_feedback):
    feedback = submit_feedback("Thank you all", thanks="Tomasz Nowak and my neighbour Sandra Bloggs")
    assert feedback.named_staff_ids == [team["tomasz"].id]
    assert "Sandra" not in feedback.redacted_thanks


def test_rostered_staff_ids_is_empty_without_a_published_roster(ward):
    from datetime import date

    assert services.rostered_staff_ids(ward.id, date.today()) == set()


# --- moderation ---------------------------------------------------------------------------------

def test_approve_turns_feedback_into_patient_praise_for_the_named_nurse(team, submit_feedback, users, db):
    feedback = submit_feedback("Nina was so kind to my mum Joan.", thanks="")
    nina = users["nurse"].staff
    assert feedback.named_staff_ids == [nina.id]
    recognition = services.approve_feedback(users["manager"], feedback, feedback.named_staff_ids)
    assert recognition.kind == RecognitionKind.PATIENT
    assert recognition.sender_id is None
    assert "Joan" not in recognition.message
    assert feedback.status == FeedbackStatus.APPROVED
    assert db.session.scalar(select(Notification).where(Notification.user_id == users["nurse"].id)) is not None
    with pytest.raises(services.RecognitionError):
        services.reject_feedback(users["manager"], feedback)


def test_reassign_changes_the_named_person_and_keeps_it_queued(team, submit_feedback, users):
    feedback = submit_feedback("Amara was brilliant")
    services.reassign_feedback(users["manager"], feedback, [team["tomasz"].id])
    assert feedback.named_staff_ids == [team["tomasz"].id]
    assert feedback.status == FeedbackStatus.PENDING
    assert feedback in services.moderation_queue(users["manager"])
    assert feedback not in services.moderation_queue(users["other_manager"])


def test_reject_keeps_it_out_of_every_feed(team, submit_feedback, users, db):
    feedback = submit_feedback("Amara was brilliant")
    services.reject_feedback(users["manager"], feedback, "Duplicate")
    assert feedback.status == FeedbackStatus.REJECTED
    assert db.session.scalar(select(Recognition).where(Recognition.feedback_id == feedback.id)) is None


def test_moderation_through_the_pages(team, submit_feedback, login_as, client, db, users):
    feedback = submit_feedback("Amara was brilliant, ring 07700 900456")
    db.session.flush()
    login_as("manager")
    queue = client.get("/recognition/feedback").get_data(as_text=True)
    assert "Amara was brilliant" in queue and "07700" not in queue
    page = client.get(f"/recognition/feedback/{feedback.id}").get_data(as_text=True)
    token = csrf_token_from(page)
    response = client.post(f"/recognition/feedback/{feedback.id}",
                           data={"csrf_token": token, "staff_ids": [team["amara"].id], "approve": "1"})
    assert response.status_code == 302
    db.session.refresh(feedback)
    assert feedback.status == FeedbackStatus.APPROVED
    # Approving with nobody chosen re-renders with a message rather than failing.
    other = submit_feedback("Tomasz was kind")
    db.session.flush()
    response = client.post(f"/recognition/feedback/{other.id}", data={"csrf_token": token, "approve": "1"})
    assert response.status_code == 200
    assert "Choose who the patient was thanking" in response.get_data(as_text=True)


# --- privacy: the original text ------------------------------------------------------------------

def test_nurse_never_sees_the_original_text_and_manager_views_are_audited(team, submit_feedback, login, users, db, app):
    feedback = submit_feedback("Nina helped, my number is 07700 900789", contact="grateful@example.org")
    services.approve_feedback(users["manager"], feedback, [users["nurse"].staff.id])
    db.session.flush()
    nurse = login(users["nurse"].email, using=app.test_client())
    assert nurse.get(f"/recognition/feedback/{feedback.id}/original").status_code == 403
    assert nurse.get(f"/recognition/feedback/{feedback.id}").status_code == 403
    for path in ("/recognition/", "/recognition/mine", f"/recognition/wards/{feedback.ward_id}", "/"):
        html = nurse.get(path).get_data(as_text=True)
        assert "07700 900789" not in html and "grateful@example.org" not in html
        if path != "/":
            assert "Nina helped" in html
    other = login(users["other_manager"].email, using=app.test_client())
    assert other.get(f"/recognition/feedback/{feedback.id}/original").status_code == 403
    manager = login(users["manager"].email, using=app.test_client())
    html = manager.get(f"/recognition/feedback/{feedback.id}/original").get_data(as_text=True)
    assert "07700 900789" in html and "grateful@example.org" in html
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "feedback.original_viewed",
                                                         AuditEvent.object_id == str(feedback.id))).all()
    assert [e.actor_id for e in events] == [users["manager"].id]


def test_nurse_cannot_see_service_recovery_lists_and_other_managers_see_only_their_own(
        team, submit_feedback, login, users, db, app, ward, other_ward):
    bad = submit_feedback("Awful night, nobody came", experience=Experience.VERY_POOR, recommend=0)
    elsewhere = submit_feedback("Terrible, ignored all day", experience=Experience.POOR, recommend=2, on_ward=other_ward)
    db.session.flush()
    nurse = login(users["nurse"].email, using=app.test_client())
    assert nurse.get(f"/recognition/wards/{ward.id}/recovery").status_code == 403
    assert nurse.get(f"/recognition/feedback/{bad.id}/recovery").status_code == 403
    other = login(users["other_manager"].email, using=app.test_client())
    assert other.get(f"/recognition/wards/{ward.id}/recovery").status_code == 403
    html = other.get(f"/recognition/wards/{other_ward.id}/recovery").get_data(as_text=True)
    assert "ignored all day" in html and "nobody came" not in html
    manager = login(users["manager"].email, using=app.test_client())
    page = manager.get(f"/recognition/feedback/{bad.id}/recovery").get_data(as_text=True)
    response = manager.post(f"/recognition/feedback/{bad.id}/recovery",
                            data={"csrf_token": csrf_token_from(page), "note": ""})
    assert response.status_code == 200 and "Say briefly what was done" in response.get_data(as_text=True)
    response = manager.post(f"/recognition/feedback/{bad.id}/recovery",
                            data={"csrf_token": csrf_token_from(page), "note": "Phoned the family and apologised."})
    db.session.refresh(bad)
    assert response.status_code == 302 and bad.recovery_closed_at is not None
    assert elsewhere.recovery_closed_at is None


# --- the public form ---------------------------------------------------------------------------

def test_public_form_works_without_sign_in_and_routes_the_response(team, client, ward, db):
    assert client.get(f"/f/{ward.code}").status_code == 200
    assert client.get(f"/f/{ward.code.lower()}").status_code == 200
    assert client.get("/f/NOPE").status_code == 404
    response = _form_post(client, ward.code, experience="1", recommend="10", thanks="Amara",
                          comment="She held my hand before theatre.")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/f/{ward.code}/thanks")
    feedback = db.session.scalar(select(PatientFeedback).order_by(PatientFeedback.id.desc()))
    assert feedback.named_staff_ids == [team["amara"].id]
    assert feedback.experience == 1 and feedback.recommend == 10


def test_honeypot_pretends_success_and_keeps_nothing(team, client, ward, db):
    response = _form_post(client, ward.code, experience="1", comment="Buy cheap pills", website="http://spam.example")
    assert response.status_code == 302
    assert db.session.scalar(select(PatientFeedback)) is None


def test_bad_input_gets_clear_messages_and_no_500(team, client, ward, db, app):
    empty = _form_post(client, ward.code)
    assert empty.status_code == 200 and "Answer at least one question" in empty.get_data(as_text=True)
    wrong = _form_post(client, ward.code, experience="banana", recommend="11")
    assert wrong.status_code == 200 and "Not a valid choice" in wrong.get_data(as_text=True)
    long = _form_post(client, ward.code, comment="x" * 5000)
    assert long.status_code == 200 and "2000" in long.get_data(as_text=True)
    contact = _form_post(client, ward.code, experience="1", wants_contact="y")
    assert "Give a phone number or e-mail address" in contact.get_data(as_text=True)
    huge = client.post(f"/f/{ward.code}", data={"comment": "x" * (9 * 1024 * 1024)})
    assert huge.status_code == 413
    no_csrf = client.post(f"/f/{ward.code}", data={"experience": "1"})
    assert no_csrf.status_code == 400
    assert db.session.scalar(select(PatientFeedback)) is None


def test_public_posts_are_rate_limited(team, client, ward):
    page = client.get(f"/f/{ward.code}")
    token = csrf_token_from(page.get_data(as_text=True))
    codes = [client.post(f"/f/{ward.code}", data={"csrf_token": token}).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    assert client.get(f"/f/{ward.code}").status_code == 200  # reading the form is never limited


def test_scripts_in_comments_are_escaped_everywhere(team, client, ward, db, login, users, app):
    response = _form_post(client, ward.code, experience="1", recommend="10", thanks=f"Nina {SCRIPT}",
                          comment=f"Nina was great {SCRIPT}")
    assert response.status_code == 302
    feedback = db.session.scalar(select(PatientFeedback).order_by(PatientFeedback.id.desc()))
    manager = login(users["manager"].email, using=app.test_client())
    pages = ["/recognition/feedback", f"/recognition/feedback/{feedback.id}",
             f"/recognition/feedback/{feedback.id}/original"]
    for path in pages:
        html = manager.get(path).get_data(as_text=True)
        assert SCRIPT not in html and "&lt;script&gt;" in html, path
    services.approve_feedback(users["manager"], feedback, [users["nurse"].staff.id])
    services.give_recognition(users["manager"], [users["nurse"].staff.id], f"Peer {SCRIPT}", ["teamwork"])
    db.session.flush()
    nurse = login(users["nurse"].email, using=app.test_client())
    for path in ("/recognition/", "/recognition/mine", f"/recognition/wards/{ward.id}", "/"):
        html = nurse.get(path).get_data(as_text=True)
        assert SCRIPT not in html and "&lt;script&gt;" in html, path
    digest = manager.get(f"/recognition/wards/{ward.id}/digest").get_data(as_text=True)
    assert SCRIPT not in digest


@pytest.mark.parametrize("comment, redacted", [
    ("Nina helped. Ring me (07700 900321) any time", "Nina helped. Ring me ([phone]) any time"),
    ("Nina helped. Ring (01632) 960 001 any time", "Nina helped. Ring [phone] any time"),
    ("Nina helped, nina@example.org", "Nina helped, [email]"),
])
def test_redaction_in_the_pipeline_keeps_text_readable(team, submit_feedback, comment, redacted):
    assert submit_feedback(comment).redacted_comment == redacted
