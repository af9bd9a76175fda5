"""Who may do what: every access decision in the portal is made here.

Views use the decorators; templates and services use the predicates. Feature packages add
predicates for their own objects here too, so that the rules stay in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from portal.extensions import db
from portal.models import User, Ward

F = TypeVar("F", bound=Callable[..., Any])


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_admin


def is_manager(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and bool(user.managed_ward_ids)


def can_manage_ward(user: Any, ward: Ward | int) -> bool:
    """Managers of the ward and administrators manage it."""
    if not getattr(user, "is_authenticated", False):
        return False
    ward_id = ward if isinstance(ward, int) else ward.id
    return user.is_admin or ward_id in user.managed_ward_ids


def can_view_ward(user: Any, ward: Ward | int) -> bool:
    """Members of the ward see its roster and feeds; managers and admins too."""
    if not getattr(user, "is_authenticated", False):
        return False
    ward_id = ward if isinstance(ward, int) else ward.id
    return can_manage_ward(user, ward_id) or ward_id in user.member_ward_ids


def can_manage_staff(user: Any) -> bool:
    return is_admin(user)


def admin_required(view: F) -> F:
    """Let administrators through; 403 for everyone else signed in."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def manager_required(view: F) -> F:
    """Let managers of any ward and administrators through."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not (current_user.is_admin or current_user.managed_ward_ids):
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def ward_access(predicate: Callable[[User, Ward], bool], ward_arg: str = "ward_id") -> Callable[[F], F]:
    """Load the ward named by the URL argument, check ``predicate``, pass the ward to the view."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            ward = db.session.get(Ward, kwargs.pop(ward_arg))
            if ward is None:
                abort(404)
            if not predicate(current_user, ward):
                abort(403)
            return view(*args, ward=ward, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


ward_manager_required = ward_access(can_manage_ward)
ward_member_required = ward_access(can_view_ward)
