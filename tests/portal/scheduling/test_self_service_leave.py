"""Leave: the nurse's request, overlaps, the manager's decision, stale pages and published-roster conflicts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Notification
from portal.scheduling import self_service as ss
from portal.scheduling.models import DecisionStatus, Leave, LeaveKind
from portal.timeutil import local_today
from tests.conftest import csrf_token_from
from tests.portal.scheduling.factories_self_service import create_leave, current_period, publish


@pytest.fixture
def nurse(users):
    return users["nurse"].staff


def _ask(nurse, start_offset, end_offset, kind=LeaveKind.ANNUAL):
    today = local_today()
    return ss.request_leave(nurse.user, nurse, kind=kind, start_date=today + timedelta(days=start_offset),
                            end_date=today + timedelta(days=end_offset), note="")


def test_leave_request_is_pending_and_the_manager_is_told(nurse, users):
    leave = _ask(nurse, 10, 14)
    assert leave.status == DecisionStatus.PENDING
    note = db.session.scalar(select(Notification).where(Notification.user_id == users["manager"].id))
    assert "annual leave" in note.message and note.link == f"/scheduling/leave/{leave.id}"
    # A manager of another ward hears nothing.
    assert not db.session.scalar(select(Notification).where(Notification.user_id == users["other_manager"].id))


def test_overlapping_leave_is_refused_with_the_existing_dates(nurse):
    first = _ask(nurse, 10, 14)
    with pytest.raises(ss.SelfServiceError, match="overlaps your annual leave") as exc:
        _ask(nurse, 14, 16, LeaveKind.STUDY)
    assert ss.day_span(first.start_date, first.end_date) in exc.value.message
    # Declined or cancelled leave does not block new dates.
    ss.decide_leave(nurse.user, first, approve=False)
    assert _ask(nurse, 12, 13).status == DecisionStatus.PENDING


def test_leave_in_the_past_or_backwards_or_sickness_is_refused(nurse):
    with pytest.raises(ss.SelfServiceError, match="past"):
        _ask(nurse, -2, 1)
    with pytest.raises(ss.SelfServiceError, match="before the first day"):
        _ask(nurse, 5, 3)
    with pytest.raises(ss.SelfServiceError, match="annual, study or other"):
        _ask(nurse, 5, 6, LeaveKind.SICKNESS)


def test_decision_notifies_the_nurse_and_cannot_be_made_twice(nurse, users):
    leave = _ask(nurse, 10, 12)
    ss.decide_leave(users["manager"], leave, approve=True, note="Enjoy", version=leave.version)
    assert leave.status == DecisionStatus.APPROVED and leave.decided_by_id == users["manager"].id
    note = db.session.scalar(select(Notification).where(Notification.user_id == users["nurse"].id))
    assert "was approved" in note.message and "Enjoy" in note.message
    with pytest.raises(ss.SelfServiceError, match="already approved by Mo Manager"):
        ss.decide_leave(users["admin"], leave, approve=False)


def test_a_stale_decision_page_is_refused(nurse, users):
    leave = _ask(nurse, 10, 12)
    opened_with = leave.version
    leave.note = "changed dates"  # someone else edits it after the page was opened
    db.session.flush()
    with pytest.raises(ss.SelfServiceError, match="after you opened the page"):
        ss.decide_leave(users["manager"], leave, approve=True, version=opened_with)
    assert leave.status == DecisionStatus.PENDING


def test_nurse_cancels_leave_and_approved_cancellations_reach_the_manager(nurse, users):
    leave = _ask(nurse, 10, 12)
    ss.decide_leave(users["manager"], leave, approve=True)
    ss.cancel_leave(nurse.user, leave, leave.version)
    assert leave.status == DecisionStatus.CANCELLED
    assert db.session.scalar(select(Notification).where(Notification.user_id == users["manager"].id,
                                                        Notification.message.contains("cancelled")))
    with pytest.raises(ss.SelfServiceError, match="can no longer be cancelled"):
        ss.cancel_leave(nurse.user, leave, leave.version)


def test_conflicts_list_the_published_shifts_inside_the_leave(nurse, ward, users):
    period = current_period(ward)
    day = local_today() + timedelta(days=5)
    publish(period, {(nurse, day): "E", (nurse, day + timedelta(days=1)): "L", (users["manager"].staff, day): "E"})
    publish(period, {(nurse, day): "E", (nurse, day + timedelta(days=3)): "N"})  # version 2 is current
    leave = create_leave(nurse, day, day + timedelta(days=3))
    labels = [c.label for c in ss.leave_conflicts(leave)]
    assert labels == [f"Early on {ss.day_label(day)}", f"Night on {ss.day_label(day + timedelta(days=3))}"]


def test_manager_sees_the_uncovered_shift_and_approves(login_as, nurse, ward):
    period = current_period(ward)
    day = local_today() + timedelta(days=5)
    publish(period, {(nurse, day): "E"})
    leave = create_leave(nurse, day, day + timedelta(days=1))
    client = login_as("manager")
    board = client.get("/scheduling/decisions").get_data(as_text=True)
    assert "Overlaps 1 published shift" in board
    page = client.get(f"/scheduling/leave/{leave.id}").get_data(as_text=True)
    assert f"Approving this leaves <strong>Early on {ss.day_label(day)}</strong> uncovered" in page
    response = client.post(f"/scheduling/leave/{leave.id}", data={
        "csrf_token": csrf_token_from(page), "version": str(leave.version), "note": "", "approve": "Approve leave"})
    assert response.status_code == 302
    db.session.refresh(leave)
    assert leave.status == DecisionStatus.APPROVED
    # Approved leave still over a published shift stays flagged on the board.
    assert "Approved leave over published shifts" in client.get("/scheduling/decisions").get_data(as_text=True)


def test_decision_after_the_nurse_cancelled_says_so_and_changes_nothing(login_as, nurse):
    leave = _ask(nurse, 10, 11)
    db.session.flush()
    client = login_as("manager")
    page = client.get(f"/scheduling/leave/{leave.id}").get_data(as_text=True)
    ss.cancel_leave(nurse.user, leave, leave.version)
    db.session.flush()
    response = client.post(f"/scheduling/leave/{leave.id}", data={
        "csrf_token": csrf_token_from(page), "version": "1", "approve": "Approve leave"}, follow_redirects=True)
    assert "already cancelled" in response.get_data(as_text=True)
    db.session.refresh(leave)
    assert leave.status == DecisionStatus.CANCELLED


def test_nurse_leave_page_refuses_overlap_and_keeps_the_dates(login_as, nurse):
    existing = _ask(nurse, 10, 12)
    db.session.flush()
    client = login_as("nurse")
    token = csrf_token_from(client.get("/scheduling/my/leave").get_data(as_text=True))
    start = existing.start_date + timedelta(days=1)
    html = client.post("/scheduling/my/leave", data={
        "csrf_token": token, "kind": "study", "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=5)).isoformat(), "note": "Course"}).get_data(as_text=True)
    assert "overlaps your annual leave" in html and f'value="{start.isoformat()}"' in html and 'value="Course"' in html
    assert db.session.scalar(select(Leave).where(Leave.note == "Course")) is None


def test_the_manager_is_told_when_new_leave_overlaps_published_shifts(nurse, ward, users, login_as):
    period = current_period(ward)
    day = local_today() + timedelta(days=5)
    publish(period, {(nurse, day): "E"})
    leave = ss.request_leave(nurse.user, nurse, kind=LeaveKind.ANNUAL, start_date=day, end_date=day)
    note = db.session.scalar(select(Notification).where(Notification.user_id == users["manager"].id))
    assert note.message.endswith("It overlaps 1 published shift.")
    db.session.flush()
    page = login_as("manager").get(f"/scheduling/leave/{leave.id}").get_data(as_text=True)
    shift_id = next(s.id for s in ward.shift_types if s.code == "E")
    link = f"/scheduling/wards/{ward.id}/open-shifts?day={day.isoformat()}&amp;shift={shift_id}"
    assert link in page
