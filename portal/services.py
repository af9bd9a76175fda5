"""Shared services: the audit trail and in-portal notifications. They add and flush; the request commits."""

from __future__ import annotations

from typing import Any

from portal.extensions import db
from portal.models import AuditEvent, Notification, User


def record_audit(actor: User | None, action: str, obj: Any, **detail: Any) -> AuditEvent:
    """Append an audit event about ``obj`` (a model instance with an ``id``)."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=type(obj).__name__,
        object_id=str(getattr(obj, "id", obj)),
        detail={k: _jsonable(v) for k, v in detail.items()},
    )
    db.session.add(event)
    db.session.flush()
    return event


def notify(user: User, kind: str, message: str, link: str = "") -> Notification:
    """Put a message in a person's inbox."""
    note = Notification(user_id=user.id, kind=kind, message=message, link=link)
    db.session.add(note)
    db.session.flush()
    return note


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
