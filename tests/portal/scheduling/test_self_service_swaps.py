"""Swaps: propose, accept or decline, the validator's reasons, manager approval, stale rosters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Notification
from portal.scheduling import self_service as ss
from portal.scheduling import services
from portal.scheduling.models import RosterAssignment, SwapStatus
from portal.timeutil import local_today
from tests import factories
from tests.conftest import csrf_token_from
from tests.portal.scheduling.factories_self_service import current_period, publish, shift


@pytest.fixture
def team(users, org, ward):
    """The nurse and a colleague on a period running now, with contract hours out of the way."""
    rules = services.ward_rules(ward)
    rules.contract_tolerance_minutes = 20000  # these sparse rosters are far below any contract
    rules.swaps_need_approval = True
    colleague = factories.create_staff(org, ward, "Cara Colleague", email="cara@example.test")
    period = current_period(ward)
    db.session.flush()
    return users["nurse"].staff, colleague, period


def _day(n: int):
    return local_today() + timedelta(days=n)


def _cells(roster):
    return {(a.staff_id, a.day): a.shift_type.code for a in roster.assignments}


def _propose(nurse, colleague, period, give, take=None, message=""):
    return ss.propose_swap(nurse.user, nurse, period=period, give_day=give, colleague=colleague, take_day=take,
                           message=message)


def test_a_valid_exchange_is_sent_to_the_colleague(team):
    nurse, colleague, period = team
    publish(period, {(nurse, _day(4)): "E", (colleague, _day(6)): "L"})
    swap = _propose(nurse, colleague, period, _day(4), _day(6), "Childcare")
    assert swap.status == SwapStatus.PROPOSED and swap.take_shift_type.code == "L"
    note = db.session.scalar(select(Notification).where(Notification.user_id == colleague.user.id))
    assert "asks you to swap" in note.message and "Early" in note.message


def test_a_swap_that_breaks_a_rule_is_refused_with_the_validators_reason(team):
    nurse, colleague, period = team
    # The colleague works a night just before the early shift offered: too little rest.
    publish(period, {(nurse, _day(4)): "E", (colleague, _day(3)): "N", (colleague, _day(7)): "L"})
    with pytest.raises(ss.SelfServiceError, match="would break the ward's rules") as exc:
        _propose(nurse, colleague, period, _day(4), _day(7))
    assert any(r.startswith("Cara Colleague would not get the minimum rest") and "Early on" in r
               for r in exc.value.reasons), exc.value.reasons
    assert db.session.scalar(select(ss.SwapRequest)) is None


def test_proposals_check_the_shifts_named(team, users):
    nurse, colleague, period = team
    publish(period, {(nurse, _day(4)): "E", (colleague, _day(5)): "E", (nurse, _day(5)): "L"})
    with pytest.raises(ss.SelfServiceError, match="no shift on"):
        _propose(nurse, colleague, period, _day(8))
    with pytest.raises(ss.SelfServiceError, match="Cara Colleague already works Early"):
        _propose(nurse, colleague, period, _day(5))
    with pytest.raises(ss.SelfServiceError, match="You already work Late"):
        _propose(nurse, colleague, period, _day(4), _day(5))
    with pytest.raises(ss.SelfServiceError, match="same ward"):
        _propose(nurse, users["other_manager"].staff, period, _day(4))
    with pytest.raises(ss.SelfServiceError, match="tomorrow onwards"):
        _propose(nurse, colleague, period, local_today())
    # Swapping shifts on the same day is fine.
    assert _propose(nurse, colleague, period, _day(5), _day(5)).status == SwapStatus.PROPOSED
    with pytest.raises(ss.SelfServiceError, match="already offered"):
        _propose(nurse, colleague, period, _day(5), _day(5))


def test_accepted_swap_waits_for_the_manager_then_publishes_a_new_version(team, users):
    nurse, colleague, period = team
    publish(period, {(nurse, _day(4)): "E", (colleague, _day(6)): "L"})
    swap = _propose(nurse, colleague, period, _day(4), _day(6))
    ss.accept_swap(colleague.user, swap, swap.version)
    assert swap.status == SwapStatus.ACCEPTED
    assert db.session.scalar(select(Notification).where(Notification.user_id == users["manager"].id,
                                                        Notification.message.contains("waits for your approval")))
    assert ss.swaps_waiting_for([period.ward_id]) == [swap]
    ss.approve_swap(users["manager"], swap, swap.version)
    assert swap.status == SwapStatus.APPLIED
    current = services.current_published_roster(period)
    assert current.number == 2 and swap.applied_roster_id == current.id
    assert _cells(current) == {(colleague.id, _day(4)): "E", (nurse.id, _day(6)): "L"}


def test_without_manager_approval_an_accepted_swap_is_published_at_once(team, ward):
    nurse, colleague, period = team
    services.ward_rules(ward).swaps_need_approval = False
    publish(period, {(nurse, _day(4)): "E"})
    swap = _propose(nurse, colleague, period, _day(4))  # a give-away
    ss.accept_swap(colleague.user, swap, None)
    assert swap.status == SwapStatus.APPLIED
    assert _cells(services.current_published_roster(period)) == {(colleague.id, _day(4)): "E"}


def test_accepting_after_the_roster_changed_refuses_with_the_new_rule_break(team, users):
    nurse, colleague, period = team
    publish(period, {(nurse, _day(4)): "E", (colleague, _day(7)): "L"})
    swap = _propose(nurse, colleague, period, _day(4), _day(7))
    # The manager publishes version 2: the colleague now works a night just before.
    publish(period, {(nurse, _day(4)): "E", (colleague, _day(7)): "L", (colleague, _day(3)): "N"})
    ss.accept_swap(colleague.user, swap, swap.version)
    assert swap.status == SwapStatus.REFUSED and "minimum rest" in swap.outcome
    for person in (nurse, colleague):
        note = db.session.scalar(select(Notification).where(Notification.user_id == person.user.id,
                                                            Notification.message.contains("was refused")))
        assert "minimum rest" in note.message
    assert services.current_published_roster(period).number == 2  # nothing published


def test_approving_after_the_shift_moved_refuses_with_a_plain_reason(team, users):
    nurse, colleague, period = team
    publish(period, {(nurse, _day(4)): "E"})
    swap = _propose(nurse, colleague, period, _day(4))
    ss.accept_swap(colleague.user, swap, swap.version)
    publish(period, {(nurse, _day(5)): "E"})  # the nurse's shift moved in a newer version
    ss.approve_swap(users["manager"], swap, swap.version)
    assert swap.status == SwapStatus.REFUSED and "no longer works Early" in swap.outcome


def test_decline_cancel_refuse_and_stale_actions(team, users):
    nurse, colleague, period = team
    publish(period, {(nurse, _day(4)): "E", (nurse, _day(8)): "L", (nurse, _day(10)): "L"})
    first = _propose(nurse, colleague, period, _day(4))
    stale = first.version
    ss.decline_swap(colleague.user, first, first.version)
    assert first.status == SwapStatus.DECLINED
    with pytest.raises(ss.SelfServiceError, match="already declined"):
        ss.accept_swap(colleague.user, first, stale)
    second = _propose(nurse, colleague, period, _day(8))
    ss.cancel_swap(nurse.user, second, second.version)
    assert second.status == SwapStatus.CANCELLED
    third = _propose(nurse, colleague, period, _day(10))
    ss.accept_swap(colleague.user, third, third.version)
    with pytest.raises(ss.SelfServiceError, match="after you opened the page"):
        ss.refuse_swap(users["manager"], third, third.version - 1)
    ss.refuse_swap(users["manager"], third, third.version, "Skill mix")
    assert third.status == SwapStatus.REFUSED and "did not approve it. Skill mix" in third.outcome


def test_swap_page_shows_the_refusal_reasons_and_keeps_the_message(login_as, team):
    nurse, colleague, period = team
    publish(period, {(nurse, _day(4)): "E", (colleague, _day(3)): "N", (colleague, _day(7)): "L"})
    db.session.flush()
    client = login_as("nurse")
    page = client.get("/scheduling/my/swaps").get_data(as_text=True)
    assert f"{ss.day_label(_day(4))} · Early" in page and "Cara Colleague" in page
    html = client.post("/scheduling/my/swaps", data={
        "csrf_token": csrf_token_from(page), "give": f"{period.id}:{_day(4).isoformat()}",
        "colleague": str(colleague.id), "take_day": _day(7).isoformat(), "message": "Please help"}).get_data(as_text=True)
    assert "Swap not possible" in html and "minimum rest" in html and 'value="Please help"' in html


def test_colleague_accepts_on_the_page_and_the_manager_approves(login, login_as, team, app):
    nurse, colleague, period = team
    publish(period, {(nurse, _day(4)): "E", (colleague, _day(6)): "L"})
    swap = _propose(nurse, colleague, period, _day(4), _day(6))
    db.session.flush()
    cara = login("cara@example.test", using=app.test_client())
    page = cara.get("/scheduling/my/swaps").get_data(as_text=True)
    assert "Asked of you" in page and "Accept swap" in page
    response = cara.post(f"/scheduling/swaps/{swap.id}/accept",
                         data={"csrf_token": csrf_token_from(page), "version": str(swap.version)}, follow_redirects=True)
    assert "Swap accepted" in response.get_data(as_text=True)
    manager = login_as("manager")
    board = manager.get("/scheduling/decisions").get_data(as_text=True)
    assert "Swaps waiting" in board
    db.session.refresh(swap)
    manager.post(f"/scheduling/swaps/{swap.id}/approve",
                 data={"csrf_token": csrf_token_from(board), "version": str(swap.version)})
    db.session.refresh(swap)
    assert swap.status == SwapStatus.APPLIED
    assert db.session.scalar(select(RosterAssignment).where(RosterAssignment.roster_id == swap.applied_roster_id,
                                                            RosterAssignment.staff_id == nurse.id)).day == _day(6)
