"""The hospital's local time: rosters are in wall-clock time of the configured zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def hospital_zone() -> ZoneInfo:
    name = current_app.config["PORTAL_TIMEZONE"] if has_app_context() else "Europe/London"
    return ZoneInfo(name)


def local_now() -> datetime:
    return datetime.now(hospital_zone())


def local_today() -> date:
    return local_now().date()
