"""Shift requests, the request window, the high-priority quota, standing limits and personal limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Notification
from portal.scheduling import self_service as ss
from portal.scheduling import services
from portal.scheduling.models import (
    AvailabilityKind,
    DecisionStatus,
    LeaveKind,
    PersonalRuleKind,
    Priority,
    ReasonCategory,
    RequestKind,
    ShiftRequest,
)
from portal.timeutil import local_today
from tests.portal.scheduling.factories_self_service import create_period, shift


@pytest.fixture
def nurse(users):
    return users["nurse"].staff


@pytest.fixture
def period(ward):
    return create_period(ward)


def _add(nurse, period, day_offset=0, kind=RequestKind.DAY_OFF, code=None, priority=Priority.NORMAL, **kw):
    return ss.add_request(nurse.user, nurse, period, day=period.start_date + timedelta(days=day_offset), kind=kind,
                          shift_type_id=shift(period.ward, code).id if code else None, priority=priority, **kw)


# --- the window -----------------------------------------------------------------------------------

def test_request_inside_the_window_is_saved_and_audited(nurse, period):
    request = _add(nurse, period, 2, note=" wedding ")
    assert request.id and request.note == "wedding" and request.withdrawn_at is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "shift_request.added"))


def test_requests_before_the_window_opens_are_refused_with_the_opening_day(nurse, ward):
    today = local_today()
    period = create_period(ward, opens=today + timedelta(days=3), closes=today + timedelta(days=10))
    with pytest.raises(ss.SelfServiceError, match=f"open on {ss.day_label(today + timedelta(days=3))}"):
        _add(nurse, period)


def test_requests_after_the_window_closes_are_refused_with_the_closing_day(nurse, ward):
    today = local_today()
    period = create_period(ward, opens=today - timedelta(days=20), closes=today - timedelta(days=1))
    with pytest.raises(ss.SelfServiceError, match="closed on"):
        _add(nurse, period)


def test_day_outside_the_period_is_refused(nurse, period):
    with pytest.raises(ss.SelfServiceError, match="Choose a day in this period") as exc:
        _add(nurse, period, 40)
    assert exc.value.field == "day"


def test_only_members_of_the_ward_may_request(users, other_ward):
    nurse = users["nurse"].staff
    with pytest.raises(ss.SelfServiceError, match="ward you work on"):
        _add(nurse, create_period(other_ward))


def test_shift_requests_need_a_shift_of_the_ward(nurse, period, other_ward):
    with pytest.raises(ss.SelfServiceError, match="which shift"):
        ss.add_request(nurse.user, nurse, period, day=period.start_date, kind=RequestKind.WORK_SHIFT,
                       shift_type_id=shift(other_ward, "E").id, priority=Priority.NORMAL)


def test_duplicate_and_contradicting_requests_are_refused(nurse, period):
    _add(nurse, period, 1)
    with pytest.raises(ss.SelfServiceError, match="already asked"):
        _add(nurse, period, 1)
    with pytest.raises(ss.SelfServiceError, match="contradicts"):
        _add(nurse, period, 1, kind=RequestKind.WORK_SHIFT, code="E")
    _add(nurse, period, 2, kind=RequestKind.SHIFT_OFF, code="N")  # not working nights that day is fine
    with pytest.raises(ss.SelfServiceError, match="contradicts"):
        _add(nurse, period, 2, kind=RequestKind.WORK_SHIFT, code="N")


def test_a_shift_the_contract_rules_out_is_refused_with_the_reason(nurse, period):
    nurse.contract_on(period.start_date).may_work_nights = False
    with pytest.raises(ss.SelfServiceError, match="contract does not include night shifts") as exc:
        _add(nurse, period, 3, kind=RequestKind.WORK_SHIFT, code="N")
    assert exc.value.field == "shift_type_id"
    assert _add(nurse, period, 3, kind=RequestKind.WORK_SHIFT, code="E").id  # day shifts are still fine
    assert _add(nurse, period, 4, kind=RequestKind.SHIFT_OFF, code="N").id  # and so is asking not to work one


def test_a_shift_an_approved_standing_limit_rules_out_is_refused(users, nurse, period):
    limits = [
        ss.add_availability(nurse.user, nurse, kind=AvailabilityKind.NO_NIGHTS, weekday=None, shift_type_id=None,
                            reason=ReasonCategory.HEALTH, note="", valid_from=local_today(), valid_to=None),
        ss.add_availability(nurse.user, nurse, kind=AvailabilityKind.NOT_WEEKDAY,
                            weekday=(period.start_date + timedelta(days=5)).weekday(), shift_type_id=None,
                            reason=ReasonCategory.CARING, note="", valid_from=local_today(), valid_to=None),
        ss.add_availability(nurse.user, nurse, kind=AvailabilityKind.NOT_SHIFT, weekday=None,
                            shift_type_id=shift(period.ward, "L").id, reason=ReasonCategory.STUDY, note="",
                            valid_from=local_today(), valid_to=None),
    ]
    _add(nurse, period, 1, kind=RequestKind.WORK_SHIFT, code="N")  # pending limits do not bind yet
    for item in limits:
        ss.decide_availability(users["manager"], item, approve=True)
    with pytest.raises(ss.SelfServiceError, match="“No nights”"):
        _add(nurse, period, 2, kind=RequestKind.WORK_SHIFT, code="N")
    with pytest.raises(ss.SelfServiceError, match="“Not on "):
        _add(nurse, period, 5, kind=RequestKind.WORK_SHIFT, code="E")
    with pytest.raises(ss.SelfServiceError, match="“No Late shifts”"):
        _add(nurse, period, 2, kind=RequestKind.WORK_SHIFT, code="L")
    assert _add(nurse, period, 2, kind=RequestKind.WORK_SHIFT, code="E").id
    ss.cancel_availability(nurse.user, limits[0])
    assert _add(nurse, period, 3, kind=RequestKind.WORK_SHIFT, code="N").id


def test_a_shift_on_a_day_of_leave_is_refused(users, nurse, period):
    first = period.start_date + timedelta(days=8)
    leave = ss.request_leave(nurse.user, nurse, kind=LeaveKind.ANNUAL, start_date=first,
                             end_date=first + timedelta(days=2), note="")
    with pytest.raises(ss.SelfServiceError, match="asked for leave"):
        _add(nurse, period, 9, kind=RequestKind.WORK_SHIFT, code="E")
    ss.decide_leave(users["manager"], leave, approve=True)
    with pytest.raises(ss.SelfServiceError, match="approved leave"):
        _add(nurse, period, 10, kind=RequestKind.WORK_SHIFT, code="E")
    assert _add(nurse, period, 11, kind=RequestKind.WORK_SHIFT, code="E").id  # the day after is fine
    assert _add(nurse, period, 9).kind == RequestKind.DAY_OFF  # a day off on leave contradicts nothing


def test_high_priority_quota_comes_from_the_ward_rules(nurse, period, ward):
    services.ward_rules(ward).high_priority_quota = 2
    _add(nurse, period, 0, priority=Priority.HIGH)
    _add(nurse, period, 1, priority=Priority.HIGH)
    with pytest.raises(ss.SelfServiceError, match="all 2 high-priority") as exc:
        _add(nurse, period, 2, priority=Priority.HIGH)
    assert exc.value.field == "priority"
    _add(nurse, period, 2, priority=Priority.NORMAL)
    assert ss.high_priority_used(period, nurse) == 2


def test_withdrawing_frees_quota_and_the_same_wish_can_be_made_again(nurse, period, ward):
    services.ward_rules(ward).high_priority_quota = 1
    first = _add(nurse, period, 0, priority=Priority.HIGH)
    ss.withdraw_request(nurse.user, first)
    assert ss.active_requests(period, nurse) == []
    again = _add(nurse, period, 0, priority=Priority.HIGH)
    assert again.id == first.id and again.withdrawn_at is None
    with pytest.raises(ss.SelfServiceError, match="already withdrawn"):
        ss.withdraw_request(nurse.user, _withdrawn(nurse, period))


def _withdrawn(nurse, period):
    request = _add(nurse, period, 5)
    ss.withdraw_request(nurse.user, request)
    return request


def test_withdrawing_after_the_window_closed_is_refused(nurse, period):
    request = _add(nurse, period, 0)
    with pytest.raises(ss.SelfServiceError, match="closed on"):
        ss.withdraw_request(nurse.user, request, today=period.requests_close_on + timedelta(days=1))
    assert request.withdrawn_at is None


# --- standing limits (recurring availability) ---------------------------------------------------------

def test_availability_is_pending_until_the_manager_decides(users, ward):
    nurse = users["nurse"].staff
    item = ss.add_availability(nurse.user, nurse, kind=AvailabilityKind.NOT_WEEKDAY, weekday=1, shift_type_id=None,
                               reason=ReasonCategory.CARING, note="school run", valid_from=local_today(), valid_to=None)
    assert item.status == DecisionStatus.PENDING and ss.describe_availability(item) == "Not on Tuesdays"
    note = db.session.scalar(select(Notification).where(Notification.user_id == users["manager"].id))
    assert "not on tuesdays" in note.message and "caring" in note.message
    with pytest.raises(ss.SelfServiceError, match="already have"):
        ss.add_availability(nurse.user, nurse, kind=AvailabilityKind.NOT_WEEKDAY, weekday=1, shift_type_id=None,
                            reason=ReasonCategory.CARING, note="", valid_from=local_today(), valid_to=None)
    ss.decide_availability(users["manager"], item, approve=True)
    assert item.status == DecisionStatus.APPROVED and item.decided_by_id == users["manager"].id
    with pytest.raises(ss.SelfServiceError, match="already approved"):
        ss.decide_availability(users["manager"], item, approve=False)
    assert db.session.scalar(select(Notification).where(Notification.user_id == users["nurse"].id,
                                                        Notification.kind == "request_decision"))


def test_availability_checks_its_details(users, ward, other_ward):
    nurse = users["nurse"].staff
    today = local_today()
    with pytest.raises(ss.SelfServiceError, match="day of the week"):
        ss.add_availability(nurse.user, nurse, kind=AvailabilityKind.NOT_WEEKDAY, weekday=None, shift_type_id=None,
                            reason=ReasonCategory.OTHER, note="", valid_from=today, valid_to=None)
    with pytest.raises(ss.SelfServiceError, match="shift you cannot work"):
        ss.add_availability(nurse.user, nurse, kind=AvailabilityKind.NOT_SHIFT, weekday=None,
                            shift_type_id=shift(other_ward, "N").id, reason=ReasonCategory.OTHER, note="",
                            valid_from=today, valid_to=None)
    with pytest.raises(ss.SelfServiceError, match="end date"):
        ss.add_availability(nurse.user, nurse, kind=AvailabilityKind.NO_NIGHTS, weekday=None, shift_type_id=None,
                            reason=ReasonCategory.HEALTH, note="", valid_from=today, valid_to=today - timedelta(days=1))
    item = ss.add_availability(nurse.user, nurse, kind=AvailabilityKind.NOT_SHIFT, weekday=3,
                               shift_type_id=shift(ward, "N").id, reason=ReasonCategory.STUDY, note="",
                               valid_from=today, valid_to=None)
    assert item.weekday is None and ss.describe_availability(item) == "No Night shifts"
    ss.cancel_availability(nurse.user, item)
    assert item.status == DecisionStatus.CANCELLED


# --- personal limits --------------------------------------------------------------------------------------

def test_personal_limits_must_stay_inside_the_ward_rules(users, ward):
    nurse = users["nurse"].staff
    rules = services.ward_rules(ward)
    rules.max_consecutive_nights = 4
    with pytest.raises(ss.SelfServiceError, match="at most 4 nights in a row") as exc:
        ss.set_personal_rules(nurse.user, nurse, {PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS: 5})
    assert exc.value.field == "max_consecutive_nights"
    ss.set_personal_rules(nurse.user, nurse, {PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS: 3,
                                              PersonalRuleKind.MAX_WEEKENDS: 1})
    assert ss.personal_rules(nurse) == {PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS: 3, PersonalRuleKind.MAX_WEEKENDS: 1}
    ss.set_personal_rules(nurse.user, nurse, {PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS: 2,
                                              PersonalRuleKind.MAX_WEEKENDS: None})
    assert ss.personal_rules(nurse) == {PersonalRuleKind.MAX_CONSECUTIVE_NIGHTS: 2}


# --- pages ----------------------------------------------------------------------------------------------

def test_nurse_adds_and_withdraws_a_request_through_the_page(login_as, period, users):
    client = login_as("nurse")
    url = f"/scheduling/my/requests/{period.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Add a request" in page and "High priority used" in page
    from tests.conftest import csrf_token_from

    day = period.start_date + timedelta(days=3)
    response = client.post(url, data={"csrf_token": csrf_token_from(page), "day": day.isoformat(), "kind": "day_off",
                                      "shift_type_id": "", "priority": "high", "note": "Graduation"})
    assert response.status_code == 302
    request = db.session.scalar(select(ShiftRequest).where(ShiftRequest.staff_id == users["nurse"].staff.id))
    assert request.priority == Priority.HIGH
    page = client.get(url).get_data(as_text=True)
    assert ss.day_label(day) in page and "Graduation" in page
    response = client.post(f"/scheduling/my/requests/item/{request.id}/withdraw",
                           data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert "withdrawn" in response.get_data(as_text=True)


def test_a_form_sent_after_the_window_closed_keeps_what_was_typed(login_as, period):
    client = login_as("nurse")
    url = f"/scheduling/my/requests/{period.id}"
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client.get(url).get_data(as_text=True))
    # The manager closes the window while the nurse is typing.
    period.requests_close_on = local_today() - timedelta(days=1)
    period.requests_open_on = local_today() - timedelta(days=10)
    db.session.flush()
    response = client.post(url, data={"csrf_token": token, "day": period.start_date.isoformat(), "kind": "day_off",
                                      "priority": "normal", "note": "Keep this note"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your request was not added" in html and "closed on" in html
    assert 'value="Keep this note"' in html


def test_quota_refusal_is_shown_on_the_priority_field(login_as, period, ward, users):
    services.ward_rules(ward).high_priority_quota = 1
    _add(users["nurse"].staff, period, 1, priority=Priority.HIGH)
    db.session.flush()
    client = login_as("nurse")
    url = f"/scheduling/my/requests/{period.id}"
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client.get(url).get_data(as_text=True))
    html = client.post(url, data={"csrf_token": token, "day": period.start_date.isoformat(), "kind": "day_off",
                                  "priority": "high"}).get_data(as_text=True)
    assert "all 1 high-priority requests" in html and 'id="priority-error"' in html


def test_a_night_request_without_nights_in_the_contract_is_refused_on_the_shift_field(login_as, period, users):
    users["nurse"].staff.contract_on(period.start_date).may_work_nights = False
    db.session.flush()
    client = login_as("nurse")
    url = f"/scheduling/my/requests/{period.id}"
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "day": period.start_date.isoformat(),
                                      "kind": "work_shift", "shift_type_id": str(shift(period.ward, "N").id),
                                      "priority": "normal", "note": "swapping childcare"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "contract does not include night shifts" in html
    assert 'id="shift_type_id-error"' in html and "swapping childcare" in html  # nothing typed is lost
    assert not ss.active_requests(period, users["nurse"].staff)


def test_requests_overview_lists_periods_leave_and_limits(login_as, period):
    html = login_as("nurse").get("/scheduling/my/requests").get_data(as_text=True)
    assert "Make requests" in html and "Request leave" in html and "Set my limits" in html


def test_limits_page_refuses_values_above_the_ward_rule(login_as, ward):
    services.ward_rules(ward).max_consecutive_nights = 3
    db.session.flush()
    client = login_as("nurse")
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client.get("/scheduling/my/limits").get_data(as_text=True))
    html = client.post("/scheduling/my/limits", data={"csrf_token": token, "max_consecutive_nights": "5"}
                       ).get_data(as_text=True)
    assert "Your ward allows at most 3 nights in a row" in html and 'value="5"' in html


def test_availability_page_sends_a_limit_for_approval(login_as):
    client = login_as("nurse")
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client.get("/scheduling/my/availability").get_data(as_text=True))
    response = client.post("/scheduling/my/availability", data={
        "csrf_token": token, "kind": "no_nights", "weekday": "", "shift_type_id": "", "reason": "health",
        "valid_from": local_today().isoformat()}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Sent to your ward manager" in html and "No nights" in html


def test_manager_approves_a_standing_limit_from_the_decisions_page(login_as, users):
    nurse = users["nurse"].staff
    item = ss.add_availability(nurse.user, nurse, kind=AvailabilityKind.NO_NIGHTS, weekday=None, shift_type_id=None,
                               reason=ReasonCategory.HEALTH, note="", valid_from=local_today(), valid_to=None)
    db.session.flush()
    client = login_as("manager")
    from tests.conftest import csrf_token_from

    board = client.get("/scheduling/decisions").get_data(as_text=True)
    assert "Standing limits waiting" in board and "No nights" in board
    response = client.post(f"/scheduling/availability/{item.id}/decide",
                           data={"csrf_token": csrf_token_from(board), "decision": "approve"}, follow_redirects=True)
    assert "approved" in response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.status == DecisionStatus.APPROVED
    # The same button pressed again on the old page changes nothing and says why.
    again = client.post(f"/scheduling/availability/{item.id}/decide",
                        data={"csrf_token": csrf_token_from(board), "decision": "decline"}, follow_redirects=True)
    assert "already approved" in again.get_data(as_text=True)
    db.session.refresh(item)
    assert item.status == DecisionStatus.APPROVED
