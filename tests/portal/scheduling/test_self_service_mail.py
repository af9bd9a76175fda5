"""E-mail for notifications: only with MAIL_SERVER configured, sent from a job after the commit."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest

from portal.extensions import db
from portal.scheduling import self_service as ss
from portal.scheduling.models import LeaveKind
from portal.timeutil import local_today
from tests.conftest import csrf_token_from


def _request_leave_on_the_page(client):
    """The nurse asks for leave; the view commits and the manager is notified."""
    token = csrf_token_from(client.get("/scheduling/my/leave").get_data(as_text=True))
    start = local_today() + timedelta(days=9)
    response = client.post("/scheduling/my/leave", data={"csrf_token": token, "kind": "annual",
                                                         "start_date": start.isoformat(),
                                                         "end_date": (start + timedelta(days=1)).isoformat()})
    assert response.status_code == 302


def test_no_mail_is_attempted_without_a_mail_server(app, login_as):
    assert not app.config.get("MAIL_SERVER")
    client = login_as("nurse")
    with mock.patch("smtplib.SMTP") as smtp:
        _request_leave_on_the_page(client)
    smtp.assert_not_called()


@pytest.mark.app_config(MAIL_SERVER="mail.example.test", MAIL_PORT=2525, MAIL_SENDER="rota@example.test",
                        BASE_URL="https://portal.example.test")
def test_a_configured_server_is_sent_each_notification_after_commit(app, login_as, users):
    client = login_as("nurse")
    with mock.patch("smtplib.SMTP") as smtp:
        _request_leave_on_the_page(client)
    smtp.assert_called_once_with("mail.example.test", 2525, timeout=30)
    message = smtp.return_value.__enter__.return_value.send_message.call_args.args[0]
    assert message["To"] == users["manager"].email and message["From"] == "rota@example.test"
    assert "annual leave" in message.get_content()
    assert "https://portal.example.test/scheduling/leave/" in message.get_content()


@pytest.mark.app_config(MAIL_SERVER="mail.example.test")
def test_rolled_back_notifications_are_forgotten(app, users):
    nurse = users["nurse"].staff
    ss.request_leave(nurse.user, nurse, kind=LeaveKind.ANNUAL, start_date=local_today() + timedelta(days=9),
                     end_date=local_today() + timedelta(days=10))
    assert db.session.info.get("self_service_mail")
    db.session.rollback()
    assert "self_service_mail" not in db.session.info


@pytest.mark.app_config(MAIL_SERVER="mail.example.test")
def test_the_job_skips_unknown_notifications(app):
    with mock.patch("smtplib.SMTP") as smtp:
        assert ss.send_notification_email(999999) is False
    smtp.assert_not_called()
