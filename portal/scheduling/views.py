"""Manager-side scheduling views: ward set-up, optimise, review and edit drafts, publish, sick calls.

Thin views: load, check access (``portal.policy``), validate the form, call one service in
``portal.scheduling.services``, commit once, then render or redirect. Refusals re-render the
form with what was typed and the reasons.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select

from portal import register_nav
from portal.actions import attach_to, run_action
from portal.extensions import db
from portal.forms import ConfirmForm, choices
from portal.models import Grade, Skill, StaffMember, Ward
from portal.policy import can_see_rosters_menu, roster_object_required, ward_manager_required
from portal.scheduling import bp, services
from portal.scheduling.forms import (
    DAY_TYPE_LABELS,
    KIND_LABELS,
    CellForm,
    CopyCoverForm,
    CoverForm,
    OptimiseForm,
    PeriodForm,
    PublishForm,
    RequestWindowForm,
    RulesForm,
    SickCallForm,
    weights_form,
)
from portal.scheduling.models import DayType, OptimiserRun, RequirementKind, Roster, RosterKind, RosterPeriod
from portal.timeutil import local_today

# --- registration ----------------------------------------------------------------------------


def _nav(user: Any) -> list[tuple[str, str]]:
    return [("scheduling.rosters", "Rosters")] if can_see_rosters_menu(user) else []


def text_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (WCAG relative luminance)."""
    try:
        red, green, blue = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    except (ValueError, TypeError, IndexError):
        return "#000000"

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"


def grid_cells(row: services.GridRow, editable: bool = False, cell_url: str = "") -> Markup:
    """The day cells of one grid row as HTML.

    Built here rather than in Jinja because the grid has staff × days cells (1,680 for 60 × 28)
    and per-cell template expressions dominated the page's server time.
    """
    parts = []
    pid = row.staff.id
    for day, shift, locked in row.cells:
        css = f"c s{shift.id}" if shift is not None else "c"
        code = escape(shift.code) if shift is not None else ""
        if not editable:
            parts.append(f'<td class="{css}">{code}</td>')
            continue
        label = code or '<span aria-hidden="true">·</span><span class="visually-hidden">off</span>'
        lock = '<span class="lock" aria-hidden="true">*</span><span class="visually-hidden"> locked</span>' if locked else ""
        parts.append(f'<td class="{css}"><a href="{cell_url}?staff_id={pid}&amp;day={day.isoformat()}">{label}{lock}</a></td>')
    return Markup("".join(parts))


@bp.record_once
def _register(state: Any) -> None:
    register_nav(state.app, _nav)
    state.app.add_template_filter(text_on, "text_on")
    state.app.add_template_global(grid_cells, "grid_cells")
    state.app.jinja_env.globals.setdefault("rule_labels", services.RULE_LABELS)


def _managed_wards() -> list[Ward]:
    stmt = select(Ward).where(Ward.is_active).order_by(Ward.name)
    if not current_user.is_admin:
        stmt = stmt.where(Ward.id.in_(current_user.managed_ward_ids or {-1}))
    return list(db.session.scalars(stmt))


def _flash_reasons(exc: services.SchedulingError) -> None:
    for reason in exc.reasons:
        flash(reason, "error")


def _reasons(exc: services.SchedulingError) -> list[str]:
    return exc.reasons


# --- overview and set-up -------------------------------------------------------------------------

@bp.route("/rosters")
@login_required
def rosters():
    if not can_see_rosters_menu(current_user):
        abort(403)
    today = local_today()
    wards = [(ward, services.ward_periods(ward)[:6]) for ward in _managed_wards()]
    return render_template("scheduling/roster_index.html", wards=wards, today=today,
                           status=services.period_status)


@bp.route("/wards/<int:ward_id>/rules", methods=["GET", "POST"])
@ward_manager_required
def edit_rules(ward: Ward):
    rules = services.ward_rules(ward)
    form = RulesForm(obj=rules)
    weights = weights_form(services.DEFAULT_WEIGHTS, services.WEIGHT_LABELS,
                           data=services.weights_of(rules), formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.version.data = str(rules.version)
        form.forbidden_sequences.data = ", ".join(" ".join(p) for p in rules.forbidden_sequences or [])
    if form.validate_on_submit() and weights.validate():
        def save() -> None:
            sequences = services.parse_sequences(form.forbidden_sequences.data or "")
            values = {name: getattr(form, name).data for name in services.RULE_FIELDS}
            services.save_rules(current_user, ward, version=form.version.data, forbidden_sequences=sequences,
                                weights={name: getattr(weights, f"w_{name}").data for name in services.DEFAULT_WEIGHTS},
                                **values)

        saved = run_action(save, errors=services.SchedulingError, success=lambda _: f"Rules for {ward.name} saved.",
                           on_error=attach_to(form.forbidden_sequences, _reasons))
        if saved.committed:
            return redirect(url_for("scheduling.edit_rules", ward_id=ward.id))
    db.session.commit()  # ward_rules may have created the row
    return render_template("scheduling/setup_rules.html", ward=ward, form=form, weights=weights)


@bp.route("/wards/<int:ward_id>/cover", methods=["GET", "POST"])
@ward_manager_required
def cover(ward: Ward):
    grades = list(db.session.scalars(select(Grade).where(Grade.organisation_id == ward.organisation_id)
                                     .order_by(Grade.rank.desc())))
    skills = list(db.session.scalars(select(Skill).where(Skill.organisation_id == ward.organisation_id, Skill.is_active)
                                     .order_by(Skill.name)))
    shift_types = [s for s in ward.shift_types if s.is_active]
    form = CoverForm()
    form.fill(shift_types, grades, skills)
    copy_form = CopyCoverForm()
    copy_form.fill()
    if form.validate_on_submit():
        added = run_action(
            lambda: services.add_cover(current_user, ward, shift_type_id=form.shift_type_id.data,
                                       day_type=DayType(form.day_type.data), kind=RequirementKind(form.kind.data),
                                       grade_id=form.grade_id.data or None, skill_id=form.skill_id.data or None,
                                       minimum=form.minimum.data, ideal=form.ideal.data),
            errors=services.SchedulingError, success="Cover row saved.", on_error=attach_to(form.minimum, _reasons))
        if added.committed:
            return redirect(url_for("scheduling.cover", ward_id=ward.id))
    rows = services.cover_rows(ward)
    grade_map, skill_map = {g.id: g for g in grades}, {s.id: s for s in skills}
    table = {}
    for row in rows:
        table.setdefault(row.day_type, []).append((row, services.describe_cover(row, grade_map, skill_map)))
    for items in table.values():
        items.sort(key=lambda pair: (pair[0].shift_type.start_time, pair[0].kind.value))
    return render_template("scheduling/setup_cover.html", ward=ward, form=form, copy_form=copy_form, table=table,
                           day_labels=DAY_TYPE_LABELS, kind_labels=KIND_LABELS, confirm=ConfirmForm())


@bp.route("/cover/<int:cover_id>/remove", methods=["POST"])
@roster_object_required("CoverRequirement", "cover_id")
def remove_cover(cover):
    ward_id = cover.ward_id
    if ConfirmForm().validate_on_submit():
        services.remove_cover(current_user, cover)
        db.session.commit()
        flash("Cover row removed.", "success")
    return redirect(url_for("scheduling.cover", ward_id=ward_id))


@bp.route("/wards/<int:ward_id>/cover/copy", methods=["POST"])
@ward_manager_required
def copy_cover(ward: Ward):
    form = CopyCoverForm()
    form.fill()
    if form.validate_on_submit():
        source, target = DayType(form.source.data), DayType(form.target.data)
        run_action(lambda: services.copy_cover(current_user, ward, source, target), errors=services.SchedulingError,
                   success=lambda count: f"{count} cover rows copied.", on_error=_flash_reasons)
    return redirect(url_for("scheduling.cover", ward_id=ward.id))


@bp.route("/wards/<int:ward_id>/periods", methods=["GET", "POST"])
@ward_manager_required
def periods(ward: Ward):
    today = local_today()
    form = PeriodForm()
    if request.method == "GET":
        start, opens, closes = services.suggest_next_period(ward, today)
        form.start_date.data, form.days.data = start, 28
        form.requests_open_on.data, form.requests_close_on.data = opens, closes
    if form.validate_on_submit():
        created = run_action(
            lambda: services.create_period(current_user, ward, start_date=form.start_date.data, days=form.days.data,
                                           requests_open_on=form.requests_open_on.data,
                                           requests_close_on=form.requests_close_on.data),
            errors=services.SchedulingError, on_error=attach_to(form.start_date, _reasons),
            success=lambda added: f"Period {added.start_date:%-d %b} – {added.end_date:%-d %b %Y} added.")
        if created.committed:
            return redirect(url_for("scheduling.period", period_id=created.value.id))
    return render_template("scheduling/period_list.html", ward=ward, form=form, periods=services.ward_periods(ward),
                           today=today, status=services.period_status)


# --- a period: overview, optimiser -------------------------------------------------------------

@bp.route("/periods/<int:period_id>", methods=["GET", "POST"])
@roster_object_required("RosterPeriod", "period_id")
def period(period: RosterPeriod):
    window = RequestWindowForm(obj=period)
    if request.method == "GET":
        window.version.data = str(period.version)
    if window.validate_on_submit():
        saved = run_action(
            lambda: services.update_request_window(current_user, period, version=window.version.data,
                                                   requests_open_on=window.requests_open_on.data,
                                                   requests_close_on=window.requests_close_on.data),
            errors=services.SchedulingError, success="Request window saved.",
            on_error=attach_to(window.requests_close_on, _reasons))
        if saved.committed:
            return redirect(url_for("scheduling.period", period_id=period.id))
    rules = services.ward_rules(period.ward)
    optimise = OptimiseForm(time_limit_s=rules.optimiser_time_limit_s)
    db.session.commit()
    return render_template(
        "scheduling/period_detail.html", period=period, window=window, optimise=optimise,
        versions=services.published_versions(period), draft=services.draft_roster(period),
        run=services.latest_run(period), active=services.active_run(period),
        status=services.period_status(period, local_today()), today=local_today(),
    )


@bp.route("/periods/<int:period_id>/optimise", methods=["POST"])
@roster_object_required("RosterPeriod", "period_id")
def start_optimiser(period: RosterPeriod):
    form = OptimiseForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("scheduling.period", period_id=period.id))
    # The action returns the run's id, read before the commit: _enqueue must follow it touching no row.
    started = run_action(
        lambda: services.start_optimisation(period, current_user, time_limit_s=form.time_limit_s.data).id,
        errors=services.SchedulingError, on_error=_flash_reasons)
    if not started.committed:
        return redirect(url_for("scheduling.period", period_id=period.id))
    _enqueue(started.value)
    return redirect(url_for("scheduling.run_progress", run_id=started.value))


def _enqueue(run_id: int) -> None:
    """Queue the optimiser after the commit, touching no row: with JOBS_IMMEDIATE the job runs
    right here, and a transaction this request opened afterwards would hide its work."""
    from portal.jobs import enqueue
    from portal.scheduling.tasks import run_optimiser

    enqueue(run_optimiser, run_id)


@bp.route("/runs/<int:run_id>")
@roster_object_required("OptimiserRun", "run_id")
def run_progress(run: OptimiserRun):
    return render_template("scheduling/run_progress.html", run=run, period=run.period, confirm=ConfirmForm(),
                           is_active=services.run_is_active(run), chart=_progress_chart(run.progress or []))


@bp.route("/runs/<int:run_id>/status")
@roster_object_required("OptimiserRun", "run_id")
def run_status(run: OptimiserRun):
    best = run.progress[-1] if run.progress else None
    return jsonify({
        "status": run.status.value, "is_active": services.run_is_active(run), "found": len(run.progress or []),
        "best": best[1] if best else None, "bound": best[2] if best else None,
        "elapsed": best[0] if best else None, "message": run.message,
    })


@bp.route("/runs/<int:run_id>/stop", methods=["POST"])
@roster_object_required("OptimiserRun", "run_id")
def stop_run(run: OptimiserRun):
    if ConfirmForm().validate_on_submit():
        run_action(lambda: services.request_stop(run, current_user), errors=services.SchedulingError,
                   success="Stopping: the best roster found so far will be kept.", category="info",
                   on_error=_flash_reasons)
    return redirect(url_for("scheduling.run_progress", run_id=run.id))


def _progress_chart(points: list[list[float]]) -> dict[str, Any] | None:
    """Coordinates of a small SVG step chart of the best score over time (lower is better)."""
    if not points:
        return None
    width, height, pad = 560, 200, 60
    points = [[t, best, max(0, low if low is not None else best)] for t, best, low in points]
    times = [p[0] for p in points]
    values = [p[1] for p in points] + [p[2] for p in points]
    t_max = max(max(times), 1.0)
    v_min, v_max = min(values), max(values)
    span = (v_max - v_min) or 1

    def xy(t: float, v: float) -> tuple[float, float]:
        return (pad + (width - pad - 10) * t / t_max, 10 + (height - pad - 10) * (1 - (v - v_min) / span))

    best, bound = [], []
    for index, (t, value, low) in enumerate(points):
        if index:
            best.append(xy(t, points[index - 1][1]))
        best.append(xy(t, value))
        bound.append(xy(t, low))
    return {"width": width, "height": height, "pad": pad, "t_max": t_max, "v_min": int(v_min), "v_max": int(v_max),
            "best": " ".join(f"{x:.1f},{y:.1f}" for x, y in best),
            "bound": " ".join(f"{x:.1f},{y:.1f}" for x, y in bound)}


# --- draft review, edits, publishing ---------------------------------------------------------

@bp.route("/periods/<int:period_id>/draft")
@roster_object_required("RosterPeriod", "period_id")
def review_draft(period: RosterPeriod):
    draft = services.draft_roster(period)
    if draft is None:
        flash("There is no draft yet: optimise the period first.", "info")
        return redirect(url_for("scheduling.period", period_id=period.id))
    grid = services.roster_grid(period, draft)
    problems, by_rule, objective = services.draft_score(period, draft)
    current = services.current_published_roster(period)
    diff = services.diff_cells(services.roster_cells(current), services.roster_cells(draft), period.ward_id) \
        if current else []
    run = db.session.get(OptimiserRun, draft.source_run_id) if draft.source_run_id else None
    staff_names = {row.staff.id: row.staff.display_name for row in grid.rows}
    publish = PublishForm(version=str(draft.version))
    return render_template("scheduling/roster_draft.html", period=period, draft=draft, grid=grid, problems=problems,
                           by_rule=by_rule, objective=objective, current=current, diff=diff, run=run,
                           staff_names=staff_names, publish=publish, confirm=ConfirmForm(), editable=True)


@bp.route("/periods/<int:period_id>/draft/cell", methods=["GET", "POST"])
@roster_object_required("RosterPeriod", "period_id")
def edit_cell(period: RosterPeriod):
    draft = services.draft_roster(period)
    staff = db.session.get(StaffMember, request.args.get("staff_id", type=int) or 0)
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = None
    if draft is None or staff is None or day is None or not period.start_date <= day <= period.end_date:
        abort(404)
    cells = services.roster_cells(draft)
    shifts = [s for s in period.ward.shift_types if s.is_active]
    form = CellForm()
    form.shift_type_id.choices = choices([(0, "Day off")] + [(s.id, f"{s.name} ({s.code}) "
                                          f"{s.start_time:%H:%M}–{s.end_time:%H:%M}") for s in shifts])
    locks = services.locked_cells(draft)
    if request.method == "GET":
        form.shift_type_id.data = cells.get((staff.id, day), 0)
        form.is_locked.data = (staff.id, day) in locks
        form.version.data = str(draft.version)
    reasons: list[str] | None = None
    if form.validate_on_submit():
        shift_id = form.shift_type_id.data or None
        if form.check.data:
            reasons = services.check_roster_change(period, [(staff.id, day, shift_id)], base=draft)
            db.session.rollback()
        else:
            edited = run_action(
                lambda: services.edit_draft(period, current_user, staff_id=staff.id, day=day, shift_type_id=shift_id,
                                            is_locked=bool(form.is_locked.data), version=form.version.data),
                errors=services.SchedulingError, success=lambda _: f"Saved {staff.display_name} on {day:%a %-d %b}.",
                on_error=attach_to(form.shift_type_id, lambda _: ["This change breaks the rules below."]))
            if edited.committed:
                return redirect(url_for("scheduling.review_draft", period_id=period.id) + f"#staff-{staff.id}")
            reasons = edited.refusal.reasons
    week = [day + timedelta(days=i) for i in range(-3, 4) if period.start_date <= day + timedelta(days=i) <= period.end_date]
    by_id = {s.id: s for s in period.ward.shift_types}
    context = [(d, by_id.get(cells.get((staff.id, d)))) for d in week]
    return render_template("scheduling/roster_cell.html", period=period, staff=staff, day=day, form=form,
                           reasons=reasons, context=context)


@bp.route("/periods/<int:period_id>/draft/check", methods=["POST"])
@roster_object_required("RosterPeriod", "period_id")
def check_cell(period: RosterPeriod):
    """Live check of a draft edit (used by the cell page's script); changes nothing."""
    form = CellForm()
    form.shift_type_id.choices = choices([(0, "Day off")] + [(s.id, s.code) for s in period.ward.shift_types])
    draft = services.draft_roster(period)
    staff_id = request.args.get("staff_id", type=int)
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = None
    if draft is None or staff_id is None or day is None or not form.validate_on_submit():
        return jsonify({"ok": False, "reasons": ["Reload the page and try again."]}), 400
    try:
        reasons = services.check_roster_change(period, [(staff_id, day, form.shift_type_id.data or None)], base=draft)
    except services.SchedulingError as exc:
        reasons = exc.reasons
    db.session.rollback()
    return jsonify({"ok": not reasons, "reasons": reasons})


@bp.route("/periods/<int:period_id>/publish", methods=["POST"])
@roster_object_required("RosterPeriod", "period_id")
def publish_roster(period: RosterPeriod):
    form = PublishForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("scheduling.review_draft", period_id=period.id))
    published = run_action(
        lambda: services.publish_draft(period, current_user, version=form.version.data, note=form.note.data or ""),
        errors=services.SchedulingError, on_error=_flash_reasons,
        success=lambda roster: f"Version {roster.number} published; staff have been notified.")
    if not published.committed:
        return redirect(url_for("scheduling.review_draft", period_id=period.id))
    return redirect(url_for("scheduling.roster_version", roster_id=published.value.id))


@bp.route("/periods/<int:period_id>/draft/reset", methods=["POST"])
@roster_object_required("RosterPeriod", "period_id")
def reset_draft(period: RosterPeriod):
    form = PublishForm()
    if form.validate_on_submit():
        run_action(lambda: services.reset_draft(period, current_user, version=form.version.data),
                   errors=services.SchedulingError, on_error=_flash_reasons,
                   success="The draft is now a copy of the current published version.")
    return redirect(url_for("scheduling.review_draft", period_id=period.id))


# --- published versions, diffs, exports ---------------------------------------------------------

@bp.route("/rosters/<int:roster_id>")
@roster_object_required("Roster", "roster_id")
def roster_version(roster: Roster):
    if roster.kind != RosterKind.PUBLISHED:
        return redirect(url_for("scheduling.review_draft", period_id=roster.period_id))
    period = roster.period
    grid = services.roster_grid(period, roster)
    current = services.current_published_roster(period)
    return render_template("scheduling/roster_version.html", period=period, roster=roster, grid=grid,
                           current=current, editable=False)


@bp.route("/rosters/<int:roster_id>/diff")
@roster_object_required("Roster", "roster_id")
def roster_diff(roster: Roster):
    period = roster.period
    other_id = request.args.get("against", type=int) or roster.based_on_id
    other = db.session.get(Roster, other_id) if other_id else None
    if other is not None and other.period_id != period.id:
        abort(404)
    lines = services.diff_rosters(other, roster)
    return render_template("scheduling/roster_diff.html", period=period, roster=roster, other=other, lines=lines,
                           versions=services.published_versions(period))


@bp.route("/periods/<int:period_id>/sick-call", methods=["GET", "POST"])
@roster_object_required("RosterPeriod", "period_id")
def sick_call(period: RosterPeriod):
    current = services.current_published_roster(period)
    if current is None:
        flash("Publish a roster first: a sick call repairs a published roster.", "info")
        return redirect(url_for("scheduling.period", period_id=period.id))
    grid = services.roster_grid(period, current, with_requests=False)
    form = SickCallForm()
    form.staff_id.choices = choices([(0, "Choose a person")] + [(row.staff.id, row.staff.display_name)
                                                                  for row in grid.rows])
    if request.method == "GET":
        today = local_today()
        form.start_date.data = form.end_date.data = min(max(today, period.start_date), period.end_date)
        form.time_limit_s.data = min(services.ward_rules(period.ward).optimiser_time_limit_s, 30)
        form.base_roster_id.data = str(current.id)
    if form.validate_on_submit():
        staff = db.session.get(StaffMember, form.staff_id.data)

        def record() -> int:
            if form.base_roster_id.data and int(form.base_roster_id.data) != current.id:
                raise services.SchedulingError(
                    f"Version {current.number} was published after you opened this page. Check the person and "
                    "dates below against it, then record the absence again.")
            _leave, run = services.record_sick_call(period, current_user, staff, start=form.start_date.data,
                                                    end=form.end_date.data, note=form.note.data or "",
                                                    time_limit_s=form.time_limit_s.data)
            return run.id  # read before the commit: _enqueue must follow it touching no row

        recorded = run_action(
            record, errors=services.SchedulingError, on_error=attach_to(form.staff_id, _reasons),
            success=f"{staff.display_name} is recorded as absent. The repair keeps every other shift it can.")
        if recorded.committed:
            _enqueue(recorded.value)
            return redirect(url_for("scheduling.run_progress", run_id=recorded.value))
        form.base_roster_id.data = str(current.id)
    db.session.commit()
    return render_template("scheduling/roster_sick_call.html", period=period, current=current, form=form)


@bp.route("/rosters/<int:roster_id>/roster.csv")
@roster_object_required("Roster", "roster_id")
def export_csv(roster: Roster):
    period = roster.period
    name = f"{period.ward.code}-{period.start_date.isoformat()}-v{roster.number or 'draft'}.csv"
    return Response(services.roster_csv(period, roster), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/rosters/<int:roster_id>/roster.ics")
@roster_object_required("Roster", "roster_id")
def export_ics(roster: Roster):
    period = roster.period
    body = services.roster_ics(period, roster, current_app.config["PORTAL_TIMEZONE"])
    name = f"{period.ward.code}-{period.start_date.isoformat()}-v{roster.number or 'draft'}.ics"
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/rosters/<int:roster_id>/print")
@roster_object_required("Roster", "roster_id")
def print_roster(roster: Roster):
    period = roster.period
    grid = services.roster_grid(period, roster, with_requests=False)
    return render_template("scheduling/roster_print.html", period=period, roster=roster, grid=grid)
