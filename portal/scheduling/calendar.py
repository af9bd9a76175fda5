"""A nurse's published shifts as an iCalendar (RFC 5545) subscription feed.

Each shift is one event with a stable UID per (person, day), so that a calendar app replaces
the event when a new roster version changes that day; SEQUENCE and LAST-MODIFIED come from
the roster version. Times carry the hospital's TZID and the feed includes its VTIMEZONE.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODUCT_ID = "-//Ward Portal//Roster//EN"


def build_calendar(staff: Any, shifts: Iterable[Any], zone_name: str, host: str) -> bytes:
    """Return the iCalendar bytes for ``shifts`` (``PublishedShift`` records) of one person."""
    zone = ZoneInfo(zone_name)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Shifts · {staff.display_name}")
    calendar.add("x-wr-timezone", zone_name)
    # Ask apps to refresh a few times a day; new roster versions appear on the next refresh.
    calendar.add("refresh-interval", timedelta(hours=4), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT4H")
    days = []
    for shift in shifts:
        days.append(shift.day)
        calendar.add_component(_event(staff, shift, zone, host))
    if days:
        calendar.add_missing_timezones(first_date=min(days) - timedelta(days=1),
                                       last_date=max(days) + timedelta(days=2))
    else:
        # An empty feed still names its zone, so that apps show the right calendar.
        calendar.add_component(_zone_only(zone_name))
    return calendar.to_ical()


def _event(staff: Any, shift: Any, zone: ZoneInfo, host: str) -> Event:
    shift_type, roster = shift.shift_type, shift.roster
    event = Event()
    event.add("uid", f"shift-{staff.id}-{shift.day:%Y%m%d}@{host or 'ward-portal'}")
    event.add("summary", f"{shift_type.name} · {shift.ward.code}")
    event.add("dtstart", shift.starts_at.replace(tzinfo=zone))
    event.add("dtend", shift.ends_at.replace(tzinfo=zone))
    event.add("dtstamp", roster.created_at)
    event.add("last-modified", roster.created_at)
    event.add("sequence", roster.number or 0)
    event.add("location", shift.ward.name)
    event.add("transp", "OPAQUE")
    lines = [f"{shift_type.name} {shift_type.start_time:%H:%M}–{shift_type.end_time:%H:%M} on {shift.ward.name}."]
    if shift.colleagues:
        lines.append("With: " + ", ".join(shift.colleagues) + ".")
    lines.append(f"Roster version {roster.number}.")
    event.add("description", "\n".join(lines))
    return event


def _zone_only(zone_name: str) -> Any:
    from datetime import date

    from icalendar import Timezone

    return Timezone.from_tzid(zone_name, first_date=date.today() - timedelta(days=366),
                              last_date=date.today() + timedelta(days=366))
