"""Open shifts: posting, eligibility (ward, skill, same day, contract hours, rules), claims and confirmation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Notification, Skill
from portal.scheduling import self_service as ss
from portal.scheduling import services
from portal.scheduling.models import OpenShiftStatus
from portal.timeutil import local_today
from tests import factories
from tests.conftest import csrf_token_from
from tests.portal.scheduling.factories_self_service import create_open_shift, current_period, publish, shift


def _day(n: int):
    return local_today() + timedelta(days=n)


@pytest.fixture
def setup(users, org, ward):
    rules = services.ward_rules(ward)
    rules.contract_tolerance_minutes = 20000
    colleague = factories.create_staff(org, ward, "Cara Colleague", email="cara@example.test")
    period = current_period(ward)
    publish(period, {(users["nurse"].staff, _day(5)): "L", (colleague, _day(9)): "E"})
    db.session.flush()
    return users["nurse"].staff, colleague, period


def test_manager_posts_an_open_shift_and_the_ward_hears(setup, users, ward):
    nurse, colleague, period = setup
    item = ss.post_open_shift(users["manager"], ward, day=_day(7), shift_type_id=shift(ward, "E").id, skill_id=None,
                              note="Sickness")
    assert item.period_id == period.id and item.status == OpenShiftStatus.OPEN
    assert db.session.scalar(select(Notification).where(Notification.user_id == nurse.user.id,
                                                        Notification.kind == "open_shift"))
    with pytest.raises(ss.SelfServiceError, match="No roster period"):
        ss.post_open_shift(users["manager"], ward, day=_day(200), shift_type_id=shift(ward, "E").id, skill_id=None)
    with pytest.raises(ss.SelfServiceError, match="passed"):
        ss.post_open_shift(users["manager"], ward, day=_day(-1), shift_type_id=shift(ward, "E").id, skill_id=None)


def test_eligibility_explains_why_not(setup, org, ward, users):
    nurse, colleague, period = setup
    iv = db.session.scalar(select(Skill).where(Skill.code == "IV"))
    needs_iv = create_open_shift(period, _day(7), "E", skill_id=iv.id)
    assert ss.open_shift_eligibility(needs_iv, nurse) == ["It needs IV medicines, which is not on your record."]
    nurse.skills.append(iv)
    assert ss.open_shift_eligibility(needs_iv, nurse) == []
    same_day = create_open_shift(period, _day(5), "E")
    assert ss.open_shift_eligibility(same_day, nurse) == [f"You already work Late on {ss.day_label(_day(5))}."]
    # An early straight after the nurse's late breaks the rest rule: the validator says so.
    after_late = create_open_shift(period, _day(6), "E")
    assert any("minimum rest" in r for r in ss.open_shift_eligibility(after_late, nurse))
    assert ss.open_shift_eligibility(needs_iv, users["other_manager"].staff) == ["You are not on the staff of Ward 7."]


def test_contract_hours_limit_claims(setup, ward):
    nurse, colleague, period = setup
    services.ward_rules(ward).contract_tolerance_minutes = 0
    # 28 days of a 37.5 h week is 150 h; nobody is near it, so only the tolerance matters when over.
    for contract in nurse.contracts:
        contract.minutes_per_week = 100  # about 6.7 h in four weeks
    item = create_open_shift(period, _day(8), "E")
    reasons = ss.open_shift_eligibility(item, nurse)
    assert reasons and "more than your contract" in reasons[0]


def test_claim_confirm_publishes_and_tells_everyone(setup, users, ward):
    nurse, colleague, period = setup
    item = create_open_shift(period, _day(12), "E")
    ss.claim_open_shift(nurse.user, nurse, item)
    ss.claim_open_shift(colleague.user, colleague, item)
    with pytest.raises(ss.SelfServiceError, match="already offered"):
        ss.claim_open_shift(nurse.user, nurse, item)
    new = ss.confirm_open_shift(users["manager"], item, colleague.id, item.version)
    assert new.number == 2 and item.status == OpenShiftStatus.FILLED and item.filled_by_id == colleague.id
    assert any(a.staff_id == colleague.id and a.day == _day(12) for a in new.assignments)
    assert db.session.scalar(select(Notification).where(Notification.user_id == nurse.user.id,
                                                        Notification.message.contains("went to someone else")))
    with pytest.raises(ss.SelfServiceError, match="already filled"):
        ss.confirm_open_shift(users["manager"], item, nurse.id, item.version)


def test_withdrawn_claims_cannot_be_confirmed_and_can_be_made_again(setup, users):
    nurse, colleague, period = setup
    item = create_open_shift(period, _day(12), "E")
    ss.claim_open_shift(nurse.user, nurse, item)
    ss.withdraw_claim(nurse.user, nurse, item)
    with pytest.raises(ss.SelfServiceError, match="withdrawn their offer"):
        ss.confirm_open_shift(users["manager"], item, nurse.id, None)
    ss.claim_open_shift(nurse.user, nurse, item)
    assert ss.has_claimed(item, nurse)
    ss.cancel_open_shift(users["manager"], item, item.version)
    assert item.status == OpenShiftStatus.CANCELLED
    with pytest.raises(ss.SelfServiceError, match="no longer open"):
        ss.claim_open_shift(colleague.user, colleague, item)


def test_nurse_page_shows_the_claim_button_only_when_eligible(login_as, setup):
    nurse, colleague, period = setup
    create_open_shift(period, _day(12), "L")
    create_open_shift(period, _day(5), "E")
    db.session.flush()
    html = login_as("nurse").get("/scheduling/my/open-shifts").get_data(as_text=True)
    assert html.count("Offer to take it") == 1
    assert "You cannot take this shift" in html and "You already work Late" in html


def test_manager_page_posts_and_confirms(login_as, setup, ward):
    nurse, colleague, period = setup
    item = create_open_shift(period, _day(12), "E")
    ss.claim_open_shift(nurse.user, nurse, item)
    db.session.flush()
    client = login_as("manager")
    url = f"/scheduling/wards/{ward.id}/open-shifts"
    page = client.get(url).get_data(as_text=True)
    assert "Give it to Nina Nurse" in page
    response = client.post(f"/scheduling/open-shifts/{item.id}/confirm", data={
        "csrf_token": csrf_token_from(page), "staff_id": str(nurse.id), "version": str(item.version)},
        follow_redirects=True)
    assert "Shift filled and the roster published" in response.get_data(as_text=True)
    html = client.post(url, data={"csrf_token": csrf_token_from(page), "day": _day(300).isoformat(),
                                  "shift_type_id": str(shift(ward, "N").id), "skill_id": "", "note": "Keep me"}
                       ).get_data(as_text=True)
    assert "No roster period of Ward 7 covers" in html and 'value="Keep me"' in html


def test_the_post_form_can_be_prefilled_from_a_leave_decision(login_as, setup, ward):
    day = _day(9)
    early = shift(ward, "E")
    html = login_as("manager").get(f"/scheduling/wards/{ward.id}/open-shifts?day={day.isoformat()}&shift={early.id}"
                                   ).get_data(as_text=True)
    assert f'value="{day.isoformat()}"' in html and f'<option selected value="{early.id}">' in html
