"""run_action: one commit on success; on a refusal, a rollback and the reasons for the person."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import select
from wtforms import Form, StringField

from portal.actions import attach_to, run_action
from portal.extensions import db
from portal.models import Skill


class Refused(Exception):
    """Stands in for a feature's service error (AdminError, RecognitionError, …)."""


class NameForm(Form):
    code = StringField()


@pytest.fixture
def request_context(app, org):
    db.session.commit()  # keep the organisation: a refusal rolls back everything not yet committed
    with app.test_request_context():
        yield


def add_skill(org, code: str) -> Skill:
    skill = Skill(organisation_id=org.id, code=code, name=f"Skill {code}")
    db.session.add(skill)
    db.session.flush()
    return skill


def refuse_after_adding(org, code: str, message: str = "That code is taken."):
    def action() -> None:
        add_skill(org, code)
        raise Refused(message)

    return action


def skill_codes() -> set[str]:
    return set(db.session.scalars(select(Skill.code)))


def test_success_commits_and_flashes_the_confirmation(request_context, org):
    outcome = run_action(lambda: add_skill(org, "ECG"), errors=Refused, success="Skill added.")

    db.session.rollback()  # anything not committed would vanish here
    assert outcome.committed
    assert outcome.value.code == "ECG"
    assert "ECG" in skill_codes()
    assert get_flashed_messages(with_categories=True) == [("success", "Skill added.")]


def test_success_message_can_use_the_result_and_a_category(request_context, org):
    run_action(lambda: add_skill(org, "ECG"), errors=Refused, category="info",
               success=lambda skill: f"{skill.name} added.")

    assert get_flashed_messages(with_categories=True) == [("info", "Skill ECG added.")]


def test_no_success_message_flashes_nothing(request_context, org):
    outcome = run_action(lambda: add_skill(org, "ECG"), errors=Refused)

    assert outcome.committed
    assert get_flashed_messages() == []


def test_refusal_rolls_back_and_flashes_the_reason(request_context, org):
    outcome = run_action(refuse_after_adding(org, "ECG"), errors=Refused, success="Skill added.")

    assert not outcome.committed
    assert isinstance(outcome.refusal, Refused)
    assert outcome.value is None
    assert "ECG" not in skill_codes()
    assert get_flashed_messages(with_categories=True) == [("error", "That code is taken.")]


def test_refusal_keeps_earlier_committed_work(request_context, org):
    run_action(lambda: add_skill(org, "ECG"), errors=Refused)
    run_action(refuse_after_adding(org, "PEG"), errors=Refused)

    assert "ECG" in skill_codes()
    assert "PEG" not in skill_codes()


def test_refusal_goes_to_on_error_instead_of_a_flash(request_context, org):
    seen: list[Exception] = []

    run_action(refuse_after_adding(org, "ECG"), errors=(KeyError, Refused), on_error=seen.append)

    assert [str(exc) for exc in seen] == ["That code is taken."]
    assert get_flashed_messages() == []
    assert "ECG" not in skill_codes()


def test_attach_to_puts_the_refusal_under_the_field(request_context, org):
    form = NameForm(data={"code": "ECG"})
    form.validate()

    run_action(refuse_after_adding(org, "ECG"), errors=Refused, on_error=attach_to(form.code))

    assert form.code.errors == ["That code is taken."]
    assert form.code.data == "ECG"
    assert get_flashed_messages() == []


def test_attach_to_can_list_several_reasons(request_context, org):
    form = NameForm()
    form.validate()

    run_action(refuse_after_adding(org, "ECG"), errors=Refused,
               on_error=attach_to(form.code, lambda exc: [str(exc), "Choose another."]))

    assert form.code.errors == ["That code is taken.", "Choose another."]


def test_other_errors_propagate_without_a_commit(request_context, org):
    def action() -> None:
        add_skill(org, "ECG")
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        run_action(action, errors=Refused, success="Skill added.")

    db.session.rollback()  # what the error pages do
    assert "ECG" not in skill_codes()
    assert get_flashed_messages() == []
