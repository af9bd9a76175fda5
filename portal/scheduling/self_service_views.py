"""Self-service scheduling views: requests, leave, availability, my roster, swaps, open shifts, calendar.

Thin views: load, check access (portal/policy.py), validate the form, call one service in
``self_service``, commit once, then render or redirect. Refusals re-render the form with
what was typed and the reason.
"""

from __future__ import annotations

from datetime import date, timedelta
from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from portal import policy, register_home_section, register_nav
from portal.actions import run_action
from portal.extensions import db
from portal.forms import ConfirmForm, choices
from portal.models import Skill, StaffMember, Ward
from portal.scheduling import bp
from portal.scheduling import self_service as ss
from portal.scheduling.calendar import build_calendar
from portal.scheduling.models import (
    AvailabilityKind,
    Leave,
    LeaveKind,
    OpenShift,
    Priority,
    ReasonCategory,
    RecurringAvailability,
    RequestKind,
    RosterPeriod,
    ShiftRequest,
    SwapRequest,
    SwapStatus,
)
from portal.scheduling.self_service_forms import (
    AvailabilityForm,
    ConfirmClaimForm,
    LeaveDecisionForm,
    LeaveForm,
    OpenShiftForm,
    PersonalRulesForm,
    RequestForm,
    SwapForm,
    SwapRefusalForm,
    VersionForm,
)
from portal.timeutil import local_today

# --- registration: menu, home page block, template filters ---------------------------------


def _nav(user: Any) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if user.staff is not None:
        items += [("scheduling.my_roster", "My roster"), ("scheduling.my_requests", "Requests"),
                  ("scheduling.my_swaps", "Swaps")]
    if user.is_admin or user.managed_ward_ids:
        items.append(("scheduling.decisions", "Decisions"))
    return items


def _home_section(user: Any) -> Markup | None:
    """The nurse's next shifts on the home page."""
    if user.staff is None:
        return None
    today = local_today()
    shifts = ss.published_shifts(user.staff, today, today + timedelta(days=21))[:5]
    return Markup(render_template("scheduling/my_home_section.html", shifts=shifts))


@bp.record_once
def _register(state: Any) -> None:
    register_nav(state.app, _nav)
    register_home_section(state.app, _home_section)
    state.app.add_template_filter(ss.day_label, "day_label")
    state.app.add_template_filter(ss.day_span, "day_span")
    state.app.add_template_filter(ss.readable_ink, "readable_ink")
    state.app.add_template_test(lambda item: bool(ss.active_claims(item)), "has_offers")


# --- helpers ---------------------------------------------------------------------------------


def _get_or_404(model: Any, object_id: int) -> Any:
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def _attach_to_form(form: Any) -> Callable[[ss.SelfServiceError], None]:
    """Return an ``on_error`` that puts a refusal on the form field it concerns (or leaves it for the page's alert)."""

    def attach(exc: ss.SelfServiceError) -> None:
        if exc.field and exc.field in form and not exc.reasons:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]

    return attach


def _flash_refusal(exc: ss.SelfServiceError) -> None:
    flash(" ".join([exc.message, *exc.reasons]), "error")


# --- my roster, the ward roster, the calendar feed ------------------------------------------------


@bp.route("/my/roster")
@policy.staff_required
def my_roster():
    staff = current_user.staff
    today = local_today()
    end = today + timedelta(weeks=8)
    shifts = ss.published_shifts(staff, today, end)
    leave = [item for item in ss.leave_for(staff) if item.status.value == "approved"
             and item.end_date >= today and item.start_date <= end]
    return render_template("scheduling/my_roster.html", shifts=shifts, wards=ss.current_wards(staff),
                           token=ss.active_calendar_token(staff), leave=sorted(leave, key=lambda item: item.start_date),
                           describe_leave=ss.describe_leave)


@bp.route("/my/wards/<int:ward_id>/roster")
@policy.ward_member_required
def my_ward_roster(ward: Ward):
    periods = ss.ward_roster_periods(ward)
    chosen = request.args.get("period", type=int)
    period = next((p for p in periods if p.id == chosen), None) or ss.default_period(periods)
    grid = ss.ward_roster_grid(period) if period is not None else None
    own = policy.own_staff_id(current_user)
    return render_template("scheduling/my_ward_roster.html", ward=ward, periods=periods, period=period,
                           grid=grid, own_staff_id=own)


@bp.route("/my/calendar")
@policy.staff_required
def my_calendar():
    return render_template("scheduling/my_calendar.html", token=ss.active_calendar_token(current_user.staff),
                           link=session.pop("calendar_link", None), form=ConfirmForm())


@bp.route("/my/calendar/new", methods=["POST"])
@policy.staff_required
def create_calendar_link():
    if ConfirmForm().validate_on_submit():
        secret = ss.create_calendar_token(current_user, current_user.staff)
        db.session.commit()
        # Shown once on the next page; only its hash is stored.
        session["calendar_link"] = url_for("scheduling.calendar_feed", secret=secret, _external=True)
        flash("Your new calendar address is ready. Any older address has stopped working.", "success")
    return redirect(url_for("scheduling.my_calendar"))


@bp.route("/my/calendar/revoke", methods=["POST"])
@policy.staff_required
def revoke_calendar_link():
    if ConfirmForm().validate_on_submit():
        count = ss.revoke_calendar_tokens(current_user, current_user.staff)
        db.session.commit()
        flash("Your calendar address has been switched off." if count else "You had no calendar address.", "success")
    return redirect(url_for("scheduling.my_calendar"))


@bp.route("/calendar/<secret>.ics")
def calendar_feed(secret: str):
    staff = ss.staff_for_calendar_secret(secret)
    if staff is None:
        abort(404)
    body = build_calendar(staff, ss.calendar_shifts(staff), current_app.config["PORTAL_TIMEZONE"],
                          request.host.split(":")[0])
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="roster.ics"'
    response.headers["Cache-Control"] = "private, max-age=900"
    return response


# --- requests --------------------------------------------------------------------------------


@bp.route("/my/requests")
@policy.staff_required
def my_requests():
    staff = current_user.staff
    today = local_today()
    periods = [(p, ss.window_message(p, today), len(ss.active_requests(p, staff))) for p in ss.periods_for(staff, today)]
    leave = [item for item in ss.leave_for(staff) if item.end_date >= today][:5]
    availability = [a for a in ss.availability_for(staff) if a.status.value in ("pending", "approved")]
    return render_template("scheduling/my_requests.html", periods=periods, leave=leave, availability=availability,
                           rules=ss.personal_rules(staff), specs=ss.PERSONAL_RULES,
                           describe_availability=ss.describe_availability)


def _period_for_staff(period_id: int) -> RosterPeriod:
    period = _get_or_404(RosterPeriod, period_id)
    _require(period.ward_id in current_user.member_ward_ids)
    return period


@bp.route("/my/requests/<int:period_id>", methods=["GET", "POST"])
@policy.staff_required
def my_period_requests(period_id: int):
    period = _period_for_staff(period_id)
    staff = current_user.staff
    form = RequestForm()
    form.shift_type_id.choices = choices(
        [("", "Choose a shift")] + [(s.id, f"{s.name} ({s.start_time:%H:%M}–{s.end_time:%H:%M})")
                                    for s in period.ward.shift_types if s.is_active])
    refusal = None
    if form.validate_on_submit():
        added = run_action(
            lambda: ss.add_request(current_user, staff, period, day=form.day.data, kind=RequestKind(form.kind.data),
                                   shift_type_id=form.shift_type_id.data, priority=Priority(form.priority.data),
                                   note=form.note.data or ""),
            errors=ss.SelfServiceError, success=f"Request added for {ss.day_label(form.day.data)}.",
            on_error=_attach_to_form(form))
        if added.committed:
            return redirect(url_for("scheduling.my_period_requests", period_id=period.id))
        refusal = added.refusal if not (added.refusal.field and added.refusal.field in form) else None
    if request.method == "GET" and form.day.data is None:
        form.day.data = max(period.start_date, local_today())
    return render_template("scheduling/my_period_requests.html", period=period, form=form, refusal=refusal,
                           requests=ss.active_requests(period, staff), window=ss.window_message(period),
                           quota=ss.rules_for(period.ward).high_priority_quota,
                           used=ss.high_priority_used(period, staff), confirm=ConfirmForm(),
                           describe=ss.describe_request)


@bp.route("/my/requests/item/<int:request_id>/withdraw", methods=["POST"])
@policy.staff_required
def withdraw_request(request_id: int):
    item = _get_or_404(ShiftRequest, request_id)
    _require(policy.is_own_record(current_user, item))
    if ConfirmForm().validate_on_submit():
        run_action(lambda: ss.withdraw_request(current_user, item), errors=ss.SelfServiceError,
                   success=f"Request for {ss.day_label(item.day)} withdrawn.", on_error=_flash_refusal)
    return redirect(url_for("scheduling.my_period_requests", period_id=item.period_id))


# --- availability and personal limits -----------------------------------------------------------


@bp.route("/my/availability", methods=["GET", "POST"])
@policy.staff_required
def my_availability():
    staff = current_user.staff
    form = AvailabilityForm()
    shifts = [s for ward in ss.current_wards(staff) for s in ward.shift_types if s.is_active]
    form.shift_type_id.choices = choices([("", "Not needed")] + [(s.id, f"{s.name} ({s.ward.code})") for s in shifts])
    if form.validate_on_submit():
        added = run_action(
            lambda: ss.add_availability(current_user, staff, kind=AvailabilityKind(form.kind.data),
                                        weekday=form.weekday.data, shift_type_id=form.shift_type_id.data,
                                        reason=ReasonCategory(form.reason.data), note=form.note.data or "",
                                        valid_from=form.valid_from.data, valid_to=form.valid_to.data),
            errors=ss.SelfServiceError, success="Sent to your ward manager for approval.",
            on_error=_attach_to_form(form))
        if added.committed:
            return redirect(url_for("scheduling.my_availability"))
    if request.method == "GET" and form.valid_from.data is None:
        form.valid_from.data = local_today()
    return render_template("scheduling/my_availability.html", form=form, items=ss.availability_for(staff),
                           describe=ss.describe_availability, reasons=ss.REASON_LABELS, confirm=ConfirmForm())


@bp.route("/my/availability/<int:item_id>/cancel", methods=["POST"])
@policy.staff_required
def cancel_availability(item_id: int):
    item = _get_or_404(RecurringAvailability, item_id)
    _require(policy.is_own_record(current_user, item))
    if ConfirmForm().validate_on_submit():
        run_action(lambda: ss.cancel_availability(current_user, item), errors=ss.SelfServiceError,
                   success="Limit cancelled.", on_error=_flash_refusal)
    return redirect(url_for("scheduling.my_availability"))


@bp.route("/my/limits", methods=["GET", "POST"])
@policy.staff_required
def my_limits():
    staff = current_user.staff
    form = PersonalRulesForm()
    limits = ss.ward_limits(staff)
    if request.method == "GET":
        saved = ss.personal_rules(staff)
        for spec in ss.PERSONAL_RULES:
            form[spec.kind.value].data = saved.get(spec.kind)
    if form.validate_on_submit():
        values = {spec.kind: form[spec.kind.value].data for spec in ss.PERSONAL_RULES}
        saved = run_action(lambda: ss.set_personal_rules(current_user, staff, values), errors=ss.SelfServiceError,
                           success="Your limits are saved. The optimiser tries to keep to them.",
                           on_error=_attach_to_form(form))
        if saved.committed:
            return redirect(url_for("scheduling.my_requests"))
    return render_template("scheduling/my_limits.html", form=form, limits=limits, specs=ss.PERSONAL_RULES)


# --- leave -----------------------------------------------------------------------------------


@bp.route("/my/leave", methods=["GET", "POST"])
@policy.staff_required
def my_leave():
    staff = current_user.staff
    form = LeaveForm()
    if form.validate_on_submit():
        requested = run_action(
            lambda: ss.request_leave(current_user, staff, kind=LeaveKind(form.kind.data),
                                     start_date=form.start_date.data, end_date=form.end_date.data,
                                     note=form.note.data or ""),
            errors=ss.SelfServiceError, on_error=_attach_to_form(form),
            success=lambda leave: f"{ss.describe_leave(leave)} requested. Your ward manager will decide.")
        if requested.committed:
            return redirect(url_for("scheduling.my_leave"))
    return render_template("scheduling/my_leave.html", form=form, items=ss.leave_for(staff),
                           describe=ss.describe_leave, labels=ss.LEAVE_LABELS, today=local_today())


@bp.route("/my/leave/<int:leave_id>/cancel", methods=["POST"])
@policy.staff_required
def cancel_leave(leave_id: int):
    leave = _get_or_404(Leave, leave_id)
    _require(policy.is_own_record(current_user, leave))
    form = VersionForm()
    if form.validate_on_submit():
        run_action(lambda: ss.cancel_leave(current_user, leave, form.version.data), errors=ss.SelfServiceError,
                   success=lambda _: f"{ss.describe_leave(leave)} cancelled.", on_error=_flash_refusal)
    return redirect(url_for("scheduling.my_leave"))


@bp.route("/leave/<int:leave_id>", methods=["GET", "POST"])
@login_required
def decide_leave(leave_id: int):
    leave = _get_or_404(Leave, leave_id)
    _require(policy.can_decide_leave(current_user, leave))
    form = LeaveDecisionForm()
    if request.method == "GET":
        form.version.data = str(leave.version)
    if form.validate_on_submit():
        approve = bool(form.approve.data)
        decided = run_action(
            lambda: ss.decide_leave(current_user, leave, approve=approve, note=form.note.data or "",
                                    version=form.version.data),
            errors=ss.SelfServiceError, on_error=_flash_refusal,
            success=lambda _: f"{ss.describe_leave(leave)} for {leave.staff.display_name} {leave.status.value}.")
        if not decided.committed:
            return redirect(url_for("scheduling.decide_leave", leave_id=leave.id))
        return redirect(url_for("scheduling.decisions"))
    return render_template("scheduling/self_leave_decision.html", leave=leave, form=form,
                           conflicts=ss.leave_conflicts(leave), describe=ss.describe_leave)


@bp.route("/availability/<int:item_id>/decide", methods=["POST"])
@login_required
def decide_availability(item_id: int):
    item = _get_or_404(RecurringAvailability, item_id)
    _require(policy.can_decide_availability(current_user, item))
    if ConfirmForm().validate_on_submit():
        approve = request.form.get("decision") == "approve"
        run_action(
            lambda: ss.decide_availability(current_user, item, approve=approve), errors=ss.SelfServiceError,
            success=lambda _: f"“{ss.describe_availability(item)}” for {item.staff.display_name} {item.status.value}.",
            on_error=_flash_refusal)
    return redirect(url_for("scheduling.decisions"))


# --- the manager's decisions -------------------------------------------------------------------


@bp.route("/decisions")
@policy.manager_required
def decisions():
    if current_user.is_admin:
        wards = db.session.scalars(db.select(Ward).where(Ward.is_active).order_by(Ward.name)).all()
    else:
        wards = db.session.scalars(db.select(Ward).where(Ward.id.in_(current_user.managed_ward_ids))
                                   .order_by(Ward.name)).all()
    return render_template("scheduling/self_decisions.html", boards=[ss.ward_decisions(w) for w in wards],
                           confirm=ConfirmForm(), describe_leave=ss.describe_leave,
                           describe_availability=ss.describe_availability, describe_swap=ss.describe_swap,
                           reasons=ss.REASON_LABELS, active_claims=ss.active_claims, refusal_form=SwapRefusalForm())


# --- swaps -----------------------------------------------------------------------------------


def _swap_choices(form: SwapForm, staff: Any) -> None:
    today = local_today()
    mine = [s for s in ss.published_shifts(staff, today + timedelta(days=1), today + timedelta(weeks=10),
                                           with_colleagues=False)]
    form.give.choices = choices([("", "Choose one of your shifts")] + [
        (f"{s.period.id}:{s.day.isoformat()}", f"{ss.day_label(s.day)} · {s.shift_type.name} "
         f"{s.shift_type.start_time:%H:%M}–{s.shift_type.end_time:%H:%M}") for s in mine])
    people = {p.id: p for ward in ss.current_wards(staff) for p in ss.ward_colleagues(ward) if p.id != staff.id}
    form.colleague.choices = choices([("", "Choose a colleague")] + [
        (p.id, p.display_name) for p in sorted(people.values(), key=lambda p: p.display_name)])


@bp.route("/my/swaps", methods=["GET", "POST"])
@policy.staff_required
def my_swaps():
    staff = current_user.staff
    form = SwapForm()
    _swap_choices(form, staff)
    refusal = None
    if form.validate_on_submit():
        period_id, _, day_text = form.give.data.partition(":")
        period = db.session.get(RosterPeriod, int(period_id)) if period_id.isdigit() else None
        colleague = db.session.get(StaffMember, form.colleague.data)

        def propose() -> None:
            if period is None or colleague is None:
                raise ss.SelfServiceError("Choose one of your shifts and a colleague.", field="give")
            ss.propose_swap(current_user, staff, period=period, give_day=date.fromisoformat(day_text),
                            colleague=colleague, take_day=form.take_day.data, message=form.message.data or "")

        proposed = run_action(
            propose, errors=ss.SelfServiceError, on_error=_attach_to_form(form),
            success=lambda _: f"Swap proposed to {colleague.display_name}. You will hear when they answer.")
        if proposed.committed:
            return redirect(url_for("scheduling.my_swaps"))
        refusal = proposed.refusal if proposed.refusal.reasons or not proposed.refusal.field else None
    return render_template("scheduling/my_swaps.html", form=form, refusal=refusal, swaps=ss.swaps_for(staff),
                           wards=ss.current_wards(staff),
                           staff=staff, describe=ss.describe_swap, action_form=VersionForm(), SwapStatus=SwapStatus)


def _swap_action(swap_id: int, allowed: Any, action: Any, done: str, back: str = "scheduling.my_swaps"):
    swap = _get_or_404(SwapRequest, swap_id)
    _require(allowed(current_user, swap))
    form = VersionForm()
    if form.validate_on_submit():
        if run_action(lambda: action(current_user, swap, form.version.data), errors=ss.SelfServiceError,
                      on_error=_flash_refusal).committed:
            if swap.status == SwapStatus.REFUSED:
                flash(f"The swap cannot be made: {swap.outcome}", "error")
            else:
                flash(done.format(status=swap.status.value), "success")
    return redirect(url_for(back))


@bp.route("/swaps/<int:swap_id>/accept", methods=["POST"])
@policy.staff_required
def accept_swap(swap_id: int):
    return _swap_action(swap_id, policy.can_answer_swap, ss.accept_swap,
                        "Swap accepted ({status}).")


@bp.route("/swaps/<int:swap_id>/decline", methods=["POST"])
@policy.staff_required
def decline_swap(swap_id: int):
    return _swap_action(swap_id, policy.can_answer_swap, ss.decline_swap, "Swap declined.")


@bp.route("/swaps/<int:swap_id>/cancel", methods=["POST"])
@policy.staff_required
def cancel_swap(swap_id: int):
    return _swap_action(swap_id, policy.can_cancel_swap, ss.cancel_swap, "Swap withdrawn.")


@bp.route("/swaps/<int:swap_id>/approve", methods=["POST"])
@login_required
def approve_swap(swap_id: int):
    return _swap_action(swap_id, policy.can_decide_swap, ss.approve_swap,
                        "Swap approved and published.", back="scheduling.decisions")


@bp.route("/swaps/<int:swap_id>/refuse", methods=["POST"])
@login_required
def refuse_swap(swap_id: int):
    swap = _get_or_404(SwapRequest, swap_id)
    _require(policy.can_decide_swap(current_user, swap))
    form = SwapRefusalForm()
    if form.validate_on_submit():
        run_action(lambda: ss.refuse_swap(current_user, swap, form.version.data, form.note.data or ""),
                   errors=ss.SelfServiceError, success="Swap not approved; both nurses have been told.",
                   on_error=_flash_refusal)
    return redirect(url_for("scheduling.decisions"))


# --- open shifts -----------------------------------------------------------------------------


@bp.route("/my/open-shifts")
@policy.staff_required
def my_open_shifts():
    staff = current_user.staff
    items = ss.open_shifts_for_wards(ss.current_ward_ids(staff))
    rows = [(item, ss.open_shift_eligibility(item, staff), ss.has_claimed(item, staff)) for item in items]
    return render_template("scheduling/my_open_shifts.html", rows=rows, confirm=ConfirmForm())


@bp.route("/open-shifts/<int:open_shift_id>/claim", methods=["POST"])
@policy.staff_required
def claim_open_shift(open_shift_id: int):
    item = _get_or_404(OpenShift, open_shift_id)
    _require(policy.can_claim_open_shift(current_user, item))
    if ConfirmForm().validate_on_submit():
        run_action(lambda: ss.claim_open_shift(current_user, current_user.staff, item), errors=ss.SelfServiceError,
                   success="Thank you: your offer is with the ward manager, who confirms one person.",
                   on_error=_flash_refusal)
    return redirect(url_for("scheduling.my_open_shifts"))


@bp.route("/open-shifts/<int:open_shift_id>/withdraw", methods=["POST"])
@policy.staff_required
def withdraw_open_shift_claim(open_shift_id: int):
    item = _get_or_404(OpenShift, open_shift_id)
    _require(policy.can_claim_open_shift(current_user, item))
    if ConfirmForm().validate_on_submit():
        run_action(lambda: ss.withdraw_claim(current_user, current_user.staff, item), errors=ss.SelfServiceError,
                   success="Your offer is withdrawn.", on_error=_flash_refusal)
    return redirect(url_for("scheduling.my_open_shifts"))


@bp.route("/wards/<int:ward_id>/open-shifts", methods=["GET", "POST"])
@policy.ward_manager_required
def ward_open_shifts(ward: Ward):
    form = OpenShiftForm()
    form.shift_type_id.choices = choices([("", "Choose a shift")] + [
        (s.id, f"{s.name} ({s.start_time:%H:%M}–{s.end_time:%H:%M})") for s in ward.shift_types if s.is_active])
    skills = db.session.scalars(db.select(Skill).where(Skill.is_active).order_by(Skill.name)).all()
    form.skill_id.choices = choices([("", "No particular skill")] + [(s.id, s.name) for s in skills])
    refusal = None
    if request.method == "GET":
        # Prefilled from "post an open shift" on a leave decision.
        form.day.data = request.args.get("day", type=date.fromisoformat) or form.day.data
        form.shift_type_id.data = request.args.get("shift", type=int)
    if form.validate_on_submit():
        posted = run_action(
            lambda: ss.post_open_shift(current_user, ward, day=form.day.data, shift_type_id=form.shift_type_id.data,
                                       skill_id=form.skill_id.data, note=form.note.data or ""),
            errors=ss.SelfServiceError, success="Open shift posted; the ward's staff have been told.",
            on_error=_attach_to_form(form))
        if posted.committed:
            return redirect(url_for("scheduling.ward_open_shifts", ward_id=ward.id))
        refusal = posted.refusal if not (posted.refusal.field and posted.refusal.field in form) else None
    items = ss.open_shifts_for_wards([ward.id], include_closed=True)
    claims = {item.id: [(c, ss.open_shift_eligibility(item, c.staff)) for c in ss.active_claims(item)]
              for item in items if item.status.value == "open"}
    return render_template("scheduling/self_open_shifts.html", ward=ward, form=form, refusal=refusal, items=items,
                           claims=claims, confirm=ConfirmForm())


@bp.route("/open-shifts/<int:open_shift_id>/confirm", methods=["POST"])
@login_required
def confirm_open_shift(open_shift_id: int):
    item = _get_or_404(OpenShift, open_shift_id)
    _require(policy.can_manage_open_shift(current_user, item))
    form = ConfirmClaimForm()
    if form.validate_on_submit() and form.staff_id.data.isdigit():
        run_action(lambda: ss.confirm_open_shift(current_user, item, int(form.staff_id.data), form.version.data),
                   errors=ss.SelfServiceError, success="Shift filled and the roster published.",
                   on_error=_flash_refusal)
    return redirect(url_for("scheduling.ward_open_shifts", ward_id=item.period.ward_id))


@bp.route("/open-shifts/<int:open_shift_id>/cancel", methods=["POST"])
@login_required
def cancel_open_shift(open_shift_id: int):
    item = _get_or_404(OpenShift, open_shift_id)
    _require(policy.can_manage_open_shift(current_user, item))
    form = VersionForm()
    if form.validate_on_submit():
        run_action(lambda: ss.cancel_open_shift(current_user, item, form.version.data), errors=ss.SelfServiceError,
                   success="Open shift withdrawn.", on_error=_flash_refusal)
    return redirect(url_for("scheduling.ward_open_shifts", ward_id=item.period.ward_id))
