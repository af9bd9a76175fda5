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


# --- recognition ------------------------------------------------------------------------
# Predicates for portal/recognition. Objects are duck-typed so that this module does not
# import feature models. Original (unredacted) patient text is for managers of that ward and
# administrators only; the views audit every look at it.


def can_see_recognition(user: Any, recognition: Any) -> bool:
    """Everyone sees recognitions shared with everyone; private ones are for the recipients,
    the sender, managers of a recipient's ward and administrators."""
    if not getattr(user, "is_authenticated", False):
        return False
    if recognition.visibility == "everyone" or user.is_admin:
        return True
    if recognition.sender_id == user.id:
        return True
    staff_id = user.staff.id if user.staff is not None else None
    if any(r.staff_id == staff_id for r in recognition.recipients):
        return True
    return bool(recognition.ward_ids & user.managed_ward_ids)


def can_moderate_feedback(user: Any, feedback: Any) -> bool:
    """Managers of the feedback's ward (and administrators) moderate it and run its service recovery."""
    return can_manage_ward(user, feedback.ward_id)


def can_view_original_feedback(user: Any, feedback: Any) -> bool:
    """Only managers of the ward and administrators may read what the patient actually wrote."""
    return can_manage_ward(user, feedback.ward_id)


def can_import_surveys(user: Any) -> bool:
    return is_admin(user)


def can_manage_awards(user: Any) -> bool:
    """Administrators open award cycles, appoint the committee and announce winners."""
    return is_admin(user)


def is_award_committee_member(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    from portal.recognition.services import is_committee_member

    return is_committee_member(user)


def can_score_nominations(user: Any) -> bool:
    return is_award_committee_member(user)


# --- scheduling self-service ------------------------------------------------------------
# Predicates for portal/scheduling/self_service*.py. A nurse acts on their own requests,
# leave, availability, swaps and claims; managers of the nurse's ward (and administrators)
# decide leave, availability, swaps and open shifts. Objects are duck-typed.


def own_staff_id(user: Any) -> int | None:
    """The signed-in person's staff record id, or None for accounts without one."""
    if not getattr(user, "is_authenticated", False) or user.staff is None:
        return None
    return user.staff.id


def is_own_record(user: Any, record: Any) -> bool:
    """Requests, leave, availability and calendar tokens belong to one staff member."""
    staff_id = own_staff_id(user)
    return staff_id is not None and record.staff_id == staff_id


def can_manage_staff_member(user: Any, staff: Any) -> bool:
    """Managers of any ward the person currently works on (and administrators)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin:
        return True
    from portal.timeutil import local_today

    today = local_today()
    return any(m.ward_id in user.managed_ward_ids for m in staff.memberships if m.is_current(today))


def can_decide_leave(user: Any, leave: Any) -> bool:
    return can_manage_staff_member(user, leave.staff)


def can_decide_availability(user: Any, availability: Any) -> bool:
    return can_manage_staff_member(user, availability.staff)


def can_answer_swap(user: Any, swap: Any) -> bool:
    """Only the colleague asked accepts or declines a swap."""
    return own_staff_id(user) == swap.colleague_id


def can_cancel_swap(user: Any, swap: Any) -> bool:
    return own_staff_id(user) == swap.requester_id


def can_see_swap(user: Any, swap: Any) -> bool:
    return (own_staff_id(user) in (swap.requester_id, swap.colleague_id)
            or can_manage_ward(user, swap.period.ward_id))


def can_decide_swap(user: Any, swap: Any) -> bool:
    return can_manage_ward(user, swap.period.ward_id)


def can_claim_open_shift(user: Any, open_shift: Any) -> bool:
    """Staff of the open shift's ward may claim it (eligibility is checked by the service)."""
    return own_staff_id(user) is not None and open_shift.period.ward_id in user.member_ward_ids


def can_manage_open_shift(user: Any, open_shift: Any) -> bool:
    return can_manage_ward(user, open_shift.period.ward_id)


def staff_required(view: F) -> F:
    """Self-service pages are for people with a staff record; 403 for other accounts."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.staff is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


# --- scheduling: roster side --------------------------------------------------------------
# Periods, optimiser runs, rosters and cover rows belong to a ward (directly or through their
# period); the ward's managers and administrators manage them. Models are loaded lazily so
# that this module does not import feature models at import time.


def _scheduling_ward_id(obj: Any) -> int:
    if hasattr(obj, "ward_id"):
        return obj.ward_id
    return obj.period.ward_id


def can_manage_rosters(user: Any, obj: Any) -> bool:
    """Managers of the ward a period, run, roster or cover row belongs to (and admins)."""
    return can_manage_ward(user, _scheduling_ward_id(obj))


def roster_object_required(model_name: str, arg: str, predicate: Callable[[Any, Any], bool] = can_manage_rosters) -> Callable[[F], F]:
    """Load a scheduling object (by model name) from the URL argument ``arg``, check ``predicate``,
    and pass it to the view under the argument's name without ``_id``."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from portal.scheduling import models

            obj = db.session.get(getattr(models, model_name), kwargs.pop(arg))
            if obj is None:
                abort(404)
            if not predicate(current_user, obj):
                abort(403)
            kwargs[arg.removesuffix("_id")] = obj
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def can_see_rosters_menu(user: Any) -> bool:
    return is_admin(user) or is_manager(user)
