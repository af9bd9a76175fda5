"""Recognition: peer thanks, patient feedback turned into praise, staff awards and service KPIs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint("recognition", __name__, url_prefix="/recognition")


def _nav_items(user: Any) -> list[tuple[str, str]]:
    from portal import policy

    items = [("recognition.feed", "Recognition")]
    if policy.is_admin(user) or policy.is_manager(user):
        items.append(("recognition.moderation", "Patient feedback"))
    return items


def _home_section(user: Any):
    from flask import render_template
    from markupsafe import Markup

    from portal.recognition import services

    if user.staff is None:
        return None
    recent = services.recent_for(user.staff)
    return Markup(render_template("recognition/_home_section.html", recent=recent,
                                  sender_label=services.sender_label))


@bp.record_once
def _register(state: Any) -> None:
    from portal import register_home_section, register_nav
    from portal.recognition import views

    register_nav(state.app, _nav_items)
    register_home_section(state.app, _home_section)
    # The patient form lives at a short address outside /recognition (printed on posters).
    for rule, endpoint, view, methods in views.PUBLIC_ROUTES:
        state.app.add_url_rule(rule, endpoint=f"recognition.{endpoint}", view_func=view, methods=methods)


from portal.recognition import views  # noqa: E402,F401
