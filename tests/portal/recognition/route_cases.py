"""Route cases for the recognition blueprint (collected by tests/portal/test_permissions.py)."""

from __future__ import annotations

from datetime import date, timedelta

from portal.extensions import db
from portal.recognition.models import (
    CommitteeMember,
    CycleStatus,
    FeedbackStatus,
    Nomination,
    NominationCycle,
    PatientFeedback,
    Recognition,
    RecognitionRecipient,
    ServiceValue,
    SurveyImport,
    SurveySource,
)
from tests import factories
from tests.permissions import (
    ADMIN_ONLY,
    ANY_MANAGER,
    ANYONE,
    MANAGER_OF_WARD,
    MEMBER_OF_WARD,
    SIGNED_IN,
    RouteCase,
)

COMMITTEE = frozenset({"nurse"})  # the builder puts the nurse on the award committee


def _recognition(c):
    nurse = c.users["nurse"].staff
    rec = Recognition(organisation_id=c.org.id, sender_id=c.users["manager"].id, message="Thank you!",
                      value_keys=["teamwork"])
    rec.recipients.append(RecognitionRecipient(staff_id=nurse.id, ward_id=c.ward.id))
    db.session.add(rec)
    db.session.flush()
    return rec


_fingerprints = iter(range(10**6))


def _feedback(c, status=FeedbackStatus.PENDING):
    feedback = PatientFeedback(
        organisation_id=c.org.id, ward_id=c.ward.id, source="form", fingerprint=f"route-case-{next(_fingerprints)}",
        received_on=date.today(), experience=1, recommend=10, original_comment="Nina was lovely, call me on 07700 900123",
        redacted_comment="Nina was lovely, call me on [phone]", status=status,
        named_staff_ids=[c.users["nurse"].staff.id], is_negative=status == FeedbackStatus.RECOVERY,
    )
    db.session.add(feedback)
    db.session.flush()
    return feedback


def _survey_import(c):
    source = SurveySource(organisation_id=c.org.id, name="Route case vendor")
    db.session.add(source)
    db.session.flush()
    run = SurveyImport(source_id=source.id, filename="x.csv", upload_token="0" * 32, status="uploaded")
    db.session.add(run)
    db.session.flush()
    return run


def _value(c):
    value = ServiceValue(organisation_id=c.org.id, key="kindness", name="Kindness")
    db.session.add(value)
    db.session.flush()
    return value


def _committee_member(c):
    member = CommitteeMember(organisation_id=c.org.id, user_id=factories.create_staff(c.org, c.ward, "Cleo Committee").user.id)
    db.session.add(member)
    db.session.flush()
    return member


def _cycle(c, status=CycleStatus.OPEN):
    cycle = NominationCycle(organisation_id=c.org.id, title="Compassion award", criteria=["Compassion", "Impact"],
                            opens_on=date.today() - timedelta(days=1), closes_on=date.today() + timedelta(days=20),
                            status=status)
    db.session.add(cycle)
    db.session.flush()
    return cycle


def _scoring_nomination(c):
    cycle = _cycle(c, CycleStatus.SCORING)
    db.session.add(CommitteeMember(organisation_id=c.org.id, user_id=c.users["nurse"].id))
    nominee = factories.create_staff(c.org, c.ward, "Nia Nominee")
    nomination = Nomination(cycle_id=cycle.id, nominee_id=nominee.id, nominator_id=c.users["manager"].id,
                            reason="Stayed with a frightened patient all night.")
    db.session.add(nomination)
    db.session.flush()
    return nomination


BUILDERS = {
    "recognition": _recognition,
    "feedback": _feedback,
    "recovery_feedback": lambda c: _feedback(c, FeedbackStatus.RECOVERY),
    "survey_import": _survey_import,
    "service_value": _value,
    "committee_member": _committee_member,
    "open_cycle": _cycle,
    "scoring_nomination": _scoring_nomination,
}

CASES = [
    RouteCase("recognition.feed", "GET", lambda c: "/recognition/", SIGNED_IN),
    RouteCase("recognition.ward_feed", "GET", lambda c: f"/recognition/wards/{c.ward.id}", MEMBER_OF_WARD),
    RouteCase("recognition.give", "GET", lambda c: "/recognition/new", SIGNED_IN),
    RouteCase("recognition.give", "POST", lambda c: "/recognition/new", SIGNED_IN),
    RouteCase("recognition.react", "POST", lambda c: f"/recognition/{c.recognition.id}/react", SIGNED_IN,
              data=lambda c: {"kind": "thanks"}),
    RouteCase("recognition.received", "GET", lambda c: "/recognition/mine", SIGNED_IN),
    RouteCase("recognition.digest", "GET", lambda c: f"/recognition/wards/{c.ward.id}/digest", MANAGER_OF_WARD),
    RouteCase("recognition.poster", "GET", lambda c: f"/recognition/wards/{c.ward.id}/poster", MANAGER_OF_WARD),
    RouteCase("recognition.moderation", "GET", lambda c: "/recognition/feedback", ANY_MANAGER),
    RouteCase("recognition.moderate_feedback", "GET", lambda c: f"/recognition/feedback/{c.feedback.id}", MANAGER_OF_WARD),
    RouteCase("recognition.moderate_feedback", "POST", lambda c: f"/recognition/feedback/{c.feedback.id}", MANAGER_OF_WARD),
    RouteCase("recognition.original_feedback", "GET", lambda c: f"/recognition/feedback/{c.feedback.id}/original", MANAGER_OF_WARD),
    RouteCase("recognition.recovery", "GET", lambda c: f"/recognition/wards/{c.ward.id}/recovery", MANAGER_OF_WARD),
    RouteCase("recognition.recovery_item", "GET", lambda c: f"/recognition/feedback/{c.recovery_feedback.id}/recovery", MANAGER_OF_WARD),
    RouteCase("recognition.recovery_item", "POST", lambda c: f"/recognition/feedback/{c.recovery_feedback.id}/recovery", MANAGER_OF_WARD),
    RouteCase("recognition.kpis", "GET", lambda c: "/recognition/kpis", ANY_MANAGER),
    RouteCase("recognition.import_survey", "GET", lambda c: "/recognition/import", ADMIN_ONLY),
    RouteCase("recognition.import_survey", "POST", lambda c: "/recognition/import", ADMIN_ONLY),
    RouteCase("recognition.map_import", "GET", lambda c: f"/recognition/import/{c.survey_import.id}/columns", ADMIN_ONLY),
    RouteCase("recognition.map_import", "POST", lambda c: f"/recognition/import/{c.survey_import.id}/columns", ADMIN_ONLY),
    RouteCase("recognition.import_status", "GET", lambda c: f"/recognition/import/{c.survey_import.id}", ADMIN_ONLY),
    RouteCase("recognition.values", "GET", lambda c: "/recognition/values", ADMIN_ONLY),
    RouteCase("recognition.values", "POST", lambda c: "/recognition/values", ADMIN_ONLY),
    RouteCase("recognition.toggle_value", "POST", lambda c: f"/recognition/values/{c.service_value.id}/toggle", ADMIN_ONLY),
    RouteCase("recognition.committee", "GET", lambda c: "/recognition/committee", ADMIN_ONLY),
    RouteCase("recognition.committee", "POST", lambda c: "/recognition/committee", ADMIN_ONLY),
    RouteCase("recognition.remove_committee_member", "POST",
              lambda c: f"/recognition/committee/{c.committee_member.id}/remove", ADMIN_ONLY),
    RouteCase("recognition.awards", "GET", lambda c: "/recognition/awards", SIGNED_IN),
    RouteCase("recognition.new_cycle", "GET", lambda c: "/recognition/awards/new", ADMIN_ONLY),
    RouteCase("recognition.new_cycle", "POST", lambda c: "/recognition/awards/new", ADMIN_ONLY),
    RouteCase("recognition.nominate", "GET", lambda c: f"/recognition/awards/{c.open_cycle.id}/nominate", SIGNED_IN),
    RouteCase("recognition.nominate", "POST", lambda c: f"/recognition/awards/{c.open_cycle.id}/nominate", SIGNED_IN),
    RouteCase("recognition.score_cycle", "GET",
              lambda c: f"/recognition/awards/{c.scoring_nomination.cycle_id}/score", COMMITTEE),
    RouteCase("recognition.score_nomination", "POST",
              lambda c: f"/recognition/awards/nominations/{c.scoring_nomination.id}/score", COMMITTEE),
    RouteCase("recognition.manage_cycle", "GET", lambda c: f"/recognition/awards/{c.open_cycle.id}/manage", ADMIN_ONLY),
    RouteCase("recognition.close_cycle", "POST", lambda c: f"/recognition/awards/{c.open_cycle.id}/close", ADMIN_ONLY),
    RouteCase("recognition.announce", "POST", lambda c: f"/recognition/awards/{c.open_cycle.id}/announce", ADMIN_ONLY),
    RouteCase("recognition.public_feedback", "GET", lambda c: f"/f/{c.ward.code}", ANYONE),
    RouteCase("recognition.public_feedback", "POST", lambda c: f"/f/{c.ward.code}", ANYONE),
    RouteCase("recognition.public_thanks", "GET", lambda c: f"/f/{c.ward.code}/thanks", ANYONE),
]
