"""What each person's home page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Notification, StaffMember, User, Ward, WardMembership


@dataclass
class HomeSummary:
    wards: list[Ward]
    managed_wards: list[Ward]
    staff_counts: dict[int, int]
    unread_notifications: int
    sections: list[Any] = field(default_factory=list)



def home_summary(user: User) -> HomeSummary:
    ward_ids = user.member_ward_ids
    managed_ids = user.managed_ward_ids
    if user.is_admin:
        managed = list(db.session.scalars(select(Ward).where(Ward.is_active).order_by(Ward.name)))
    else:
        managed = list(
            db.session.scalars(select(Ward).where(Ward.id.in_(managed_ids)).order_by(Ward.name))
        )
    wards = list(db.session.scalars(select(Ward).where(Ward.id.in_(ward_ids)).order_by(Ward.name)))
    counts: dict[int, int] = {}
    if managed:
        rows = db.session.execute(
            select(WardMembership.ward_id, func.count(WardMembership.id))
            .join(StaffMember)
            .where(WardMembership.ward_id.in_([w.id for w in managed]), StaffMember.is_active)
            .where(WardMembership.end_date.is_(None))
            .group_by(WardMembership.ward_id)
        )
        counts = {ward_id: n for ward_id, n in rows}
    unread = db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
    # Feature blueprints register callables (user) -> rendered HTML | None with
    # portal.register_home_section, so the home page grows without knowing them.
    hooks = current_app.extensions.get("portal_home_sections", [])
    sections = [s for s in (section(user) for section in hooks) if s is not None]
    return HomeSummary(wards, managed, counts, unread or 0, sections)


def notifications_for(user: User, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(user: User) -> int:
    from portal.models import utcnow

    items = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).all()
    for item in items:
        item.read_at = utcnow()
    db.session.flush()
    return len(items)
