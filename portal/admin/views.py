"""Administration views: load, check access, validate, call one service, commit once."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from portal.actions import attach_to, run_action
from portal.admin import bp
from portal.admin import services
from portal.admin.forms import (
    ImportConfirmForm,
    ImportForm,
    RoleForm,
    ShiftTypeForm,
    SkillForm,
    StaffForm,
    WardForm,
)
from portal.extensions import db
from portal.forms import ConfirmForm, choices
from portal.models import (
    AuditEvent,
    Role,
    RoleAssignment,
    ShiftType,
    Skill,
    StaffMember,
    TokenPurpose,
    User,
    Ward,
)
from portal.policy import admin_required, can_manage_ward, ward_manager_required

PAGE_SIZE = 50


def _get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _unless_stale(obj, version: str | None, save: Callable[[], object]) -> Callable[[], None]:
    """Return an action that refuses when ``obj`` changed since its form was opened, else calls ``save``."""

    def action() -> None:
        services.check_version(obj, version)
        save()

    return action


@bp.route("/")
@admin_required
def index():
    counts = {
        "wards": db.session.scalar(select(func.count(Ward.id)).where(Ward.is_active)),
        "staff": db.session.scalar(select(func.count(StaffMember.id)).where(StaffMember.is_active)),
        "skills": db.session.scalar(select(func.count(Skill.id)).where(Skill.is_active)),
        "shift_types": db.session.scalar(select(func.count(ShiftType.id)).where(ShiftType.is_active)),
    }
    return render_template("admin/index.html", counts=counts)


# --- wards -----------------------------------------------------------------------------

@bp.route("/wards", methods=["GET", "POST"])
@admin_required
def wards():
    form = WardForm()
    if form.validate_on_submit():
        added = run_action(lambda: services.save_ward(current_user, None, **_ward_values(form)),
                           errors=services.AdminError, success=lambda ward: f"Ward {ward.name} added.",
                           on_error=attach_to(form.code))
        if added.committed:
            return redirect(url_for("admin.wards"))
    all_wards = db.session.scalars(select(Ward).order_by(Ward.is_active.desc(), Ward.name)).all()
    return render_template("admin/wards.html", wards=all_wards, form=form)


@bp.route("/wards/<int:ward_id>", methods=["GET", "POST"])
@admin_required
def edit_ward(ward_id: int):
    ward = _get_or_404(Ward, ward_id)
    form = WardForm(obj=ward)
    if request.method == "GET":
        form.version.data = str(ward.version)
    if form.validate_on_submit():
        save = _unless_stale(ward, form.version.data,
                             lambda: services.save_ward(current_user, ward, **_ward_values(form)))
        if run_action(save, errors=services.AdminError, success=lambda _: f"Ward {ward.name} saved.").committed:
            return redirect(url_for("admin.wards"))
        return redirect(url_for("admin.edit_ward", ward_id=ward_id))
    return render_template("admin/ward_edit.html", ward=ward, form=form)


def _ward_values(form: WardForm) -> dict:
    return {"name": form.name.data, "code": form.code.data, "description": form.description.data or "",
            "is_active": form.is_active.data}


# --- shift types -----------------------------------------------------------------------

@bp.route("/wards/<int:ward_id>/shift-types", methods=["GET", "POST"])
@ward_manager_required
def shift_types(ward: Ward):
    form = ShiftTypeForm()
    if form.validate_on_submit():
        added = run_action(lambda: services.save_shift_type(current_user, ward, None, **_shift_values(form)),
                           errors=services.AdminError, on_error=attach_to(form.code),
                           success=lambda _: f"Shift type {form.code.data.upper()} added to {ward.name}.")
        if added.committed:
            return redirect(url_for("admin.shift_types", ward_id=ward.id))
    return render_template("admin/shift_types.html", ward=ward, form=form)


@bp.route("/shift-types/<int:shift_type_id>", methods=["GET", "POST"])
@login_required
def edit_shift_type(shift_type_id: int):
    shift = _get_or_404(ShiftType, shift_type_id)
    if not can_manage_ward(current_user, shift.ward_id):
        abort(403)
    form = ShiftTypeForm(obj=shift)
    if request.method == "GET":
        form.version.data = str(shift.version)
    if form.validate_on_submit():
        save = _unless_stale(shift, form.version.data,
                             lambda: services.save_shift_type(current_user, shift.ward, shift, **_shift_values(form)))
        if run_action(save, errors=services.AdminError, success=lambda _: f"Shift type {shift.code} saved.").committed:
            return redirect(url_for("admin.shift_types", ward_id=shift.ward_id))
        return redirect(url_for("admin.edit_shift_type", shift_type_id=shift_type_id))
    return render_template("admin/shift_type_edit.html", shift=shift, form=form)


def _shift_values(form: ShiftTypeForm) -> dict:
    return {
        "code": form.code.data, "name": form.name.data, "start_time": form.start_time.data,
        "end_time": form.end_time.data, "paid_minutes": form.paid_minutes.data,
        "colour": form.colour.data, "is_night": form.is_night.data, "is_active": form.is_active.data,
    }


# --- skills ----------------------------------------------------------------------------

@bp.route("/skills", methods=["GET", "POST"])
@admin_required
def skills():
    form = SkillForm()
    if form.validate_on_submit():
        added = run_action(lambda: services.add_skill(current_user, form.code.data, form.name.data),
                           errors=services.AdminError, success=f"Skill {form.name.data} added.",
                           on_error=attach_to(form.code))
        if added.committed:
            return redirect(url_for("admin.skills"))
    all_skills = db.session.scalars(select(Skill).order_by(Skill.is_active.desc(), Skill.name)).all()
    return render_template("admin/skills.html", skills=all_skills, form=form, confirm=ConfirmForm())


@bp.route("/skills/<int:skill_id>/toggle", methods=["POST"])
@admin_required
def toggle_skill(skill_id: int):
    skill = _get_or_404(Skill, skill_id)
    if ConfirmForm().validate_on_submit():
        services.set_skill_active(current_user, skill, not skill.is_active)
        db.session.commit()
        flash(f"Skill {skill.name} {'restored' if skill.is_active else 'retired'}.", "success")
    return redirect(url_for("admin.skills"))


# --- staff -----------------------------------------------------------------------------

@bp.route("/staff")
@admin_required
def staff_list():
    query = request.args.get("q", "").strip()
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = select(StaffMember).order_by(StaffMember.is_active.desc(), StaffMember.full_name)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.outerjoin(User, StaffMember.user_id == User.id).where(
            or_(func.lower(StaffMember.full_name).like(like), func.lower(StaffMember.employee_number).like(like),
                func.lower(User.email).like(like))
        )
    pagination = db.paginate(stmt, page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/staff_list.html", pagination=pagination, query=query)


def _staff_form_choices(form: StaffForm) -> None:
    form.grade_id.choices = choices([(g.id, g.name) for g in services.grades()])
    form.ward_id.choices = choices([(w.id, w.name) for w in db.session.scalars(select(Ward).where(Ward.is_active).order_by(Ward.name))])
    form.skill_ids.choices = choices([(s.id, s.name) for s in db.session.scalars(select(Skill).where(Skill.is_active).order_by(Skill.name))])


def _staff_values(form: StaffForm) -> services.StaffValues:
    return services.StaffValues(
        full_name=form.full_name.data, known_as=form.known_as.data or "", email=form.email.data,
        employee_number=form.employee_number.data, grade_id=form.grade_id.data, ward_id=form.ward_id.data,
        skill_ids=list(form.skill_ids.data or []), minutes_per_week=int(Decimal(form.hours_per_week.data) * 60),
        may_work_nights=form.may_work_nights.data, contract_start=form.contract_start.data,
        contract_end=form.contract_end.data, is_active=form.is_active.data,
    )


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_required
def new_staff():
    form = StaffForm()
    _staff_form_choices(form)
    if form.validate_on_submit():
        added = run_action(
            lambda: services.save_staff(current_user, None, _staff_values(form)),
            errors=services.AdminError, on_error=attach_to(form.employee_number),
            success=lambda staff: f"{staff.full_name} added. Send them an invitation link from their page.")
        if added.committed:
            return redirect(url_for("admin.edit_staff", staff_id=added.value.id))
    return render_template("admin/staff_edit.html", form=form, staff=None)


@bp.route("/staff/<int:staff_id>", methods=["GET", "POST"])
@admin_required
def edit_staff(staff_id: int):
    staff = _get_or_404(StaffMember, staff_id)
    form = StaffForm()
    _staff_form_choices(form)
    if request.method == "GET":
        _fill_staff_form(form, staff)
    if form.validate_on_submit():
        save = _unless_stale(staff, form.version.data,
                             lambda: services.save_staff(current_user, staff, _staff_values(form)))
        run_action(save, errors=services.AdminError, success=lambda _: f"{staff.full_name} saved.")
        return redirect(url_for("admin.edit_staff", staff_id=staff_id))
    wards = db.session.scalars(select(Ward).where(Ward.is_active).order_by(Ward.name)).all()
    role_form = RoleForm()
    role_form.ward_id.choices = choices([(w.id, w.name) for w in wards])
    return render_template("admin/staff_edit.html", form=form, staff=staff, role_form=role_form,
                           confirm=ConfirmForm(), link=session.pop("admin_link", None))


def _fill_staff_form(form: StaffForm, staff: StaffMember) -> None:
    form.full_name.data, form.known_as.data = staff.full_name, staff.known_as
    form.email.data = staff.user.email if staff.user else ""
    form.employee_number.data, form.grade_id.data = staff.employee_number, staff.grade_id
    current = [m for m in staff.memberships if m.end_date is None]
    form.ward_id.data = current[0].ward_id if current else None
    form.skill_ids.data = [s.id for s in staff.skills]
    contract = staff.contracts[-1] if staff.contracts else None
    if contract is not None:
        form.hours_per_week.data = Decimal(contract.minutes_per_week) / 60
        form.may_work_nights.data = contract.may_work_nights
        form.contract_start.data, form.contract_end.data = contract.start_date, contract.end_date
    form.is_active.data = staff.is_active
    form.version.data = str(staff.version)


@bp.route("/staff/<int:staff_id>/active", methods=["POST"])
@admin_required
def toggle_staff_active(staff_id: int):
    staff = _get_or_404(StaffMember, staff_id)
    if ConfirmForm().validate_on_submit():
        services.set_staff_active(current_user, staff, not staff.is_active)
        db.session.commit()
        flash(f"{staff.full_name} {'reactivated' if staff.is_active else 'deactivated; their history is kept'}.", "success")
    return redirect(url_for("admin.edit_staff", staff_id=staff_id))


@bp.route("/staff/<int:staff_id>/roles", methods=["POST"])
@admin_required
def grant_role(staff_id: int):
    staff = _get_or_404(StaffMember, staff_id)
    form = RoleForm()
    form.ward_id.choices = choices([(w.id, w.name) for w in db.session.scalars(select(Ward))])
    if form.validate_on_submit() and staff.user is not None:
        ward = db.session.get(Ward, form.ward_id.data) if form.role.data == "manager" else None
        run_action(lambda: services.grant_role(current_user, staff.user, Role(form.role.data), ward),
                   errors=services.AdminError, success="Role granted.")
    else:
        flash("Choose a role (and a ward for a manager).", "error")
    return redirect(url_for("admin.edit_staff", staff_id=staff_id))


@bp.route("/roles/<int:assignment_id>/revoke", methods=["POST"])
@admin_required
def revoke_role(assignment_id: int):
    assignment = _get_or_404(RoleAssignment, assignment_id)
    staff = assignment.user.staff
    if ConfirmForm().validate_on_submit():
        run_action(lambda: services.revoke_role(current_user, assignment), errors=services.AdminError,
                   success="Role removed.")
    return redirect(url_for("admin.edit_staff", staff_id=staff.id) if staff else url_for("admin.index"))


@bp.route("/staff/<int:staff_id>/link", methods=["POST"])
@admin_required
def create_link(staff_id: int):
    staff = _get_or_404(StaffMember, staff_id)
    if staff.user is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        purpose = TokenPurpose.RESET if staff.user.password_hash else TokenPurpose.INVITE
        secret = services.create_link(current_user, staff.user, purpose, current_app.config["TOKEN_LIFETIME_HOURS"])
        db.session.commit()
        endpoint = "accounts.accept_invite" if purpose == TokenPurpose.INVITE else "accounts.reset_password"
        # Shown once on the next page; only its hash is stored.
        session["admin_link"] = {"url": url_for(endpoint, secret=secret, _external=True), "purpose": purpose.value,
                                 "hours": current_app.config["TOKEN_LIFETIME_HOURS"]}
    return redirect(url_for("admin.edit_staff", staff_id=staff_id))


# --- staff import ----------------------------------------------------------------------

def _upload_path(upload_id: str) -> Path:
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(exist_ok=True)
    return folder / f"staff-{upload_id}.csv"


@bp.route("/staff/import", methods=["GET", "POST"])
@admin_required
def import_staff():
    form = ImportForm()
    preview, confirm = None, None
    if form.validate_on_submit():
        data = form.file.data.read()
        preview = services.parse_staff_csv(data)
        if preview.is_valid:
            upload_id = secrets.token_hex(16)
            _upload_path(upload_id).write_bytes(data)
            session["staff_import"] = upload_id
            confirm = ImportConfirmForm(upload_id=upload_id)
    grades = {g.id: g for g in services.grades()}
    wards = {w.id: w for w in db.session.scalars(select(Ward))}
    return render_template("admin/staff_import.html", form=form, preview=preview, confirm=confirm,
                           grades=grades, wards=wards, columns=services.IMPORT_COLUMNS)


@bp.route("/staff/import/confirm", methods=["POST"])
@admin_required
def confirm_import():
    form = ImportConfirmForm()
    upload_id = form.upload_id.data if form.validate_on_submit() else None
    if not upload_id or session.get("staff_import") != upload_id or not _upload_path(upload_id).exists():
        flash("That import has expired. Upload the file again.", "error")
        return redirect(url_for("admin.import_staff"))
    path = _upload_path(upload_id)
    imported = run_action(
        lambda: services.import_staff(current_user, path.read_bytes()), errors=services.AdminError,
        success=lambda created: f"Imported {len(created)} staff. Send each an invitation link from their page.",
        on_error=lambda exc: flash(f"{exc} Upload the file again to see why.", "error"))
    if not imported.committed:
        return redirect(url_for("admin.import_staff"))
    path.unlink(missing_ok=True)
    session.pop("staff_import", None)
    return redirect(url_for("admin.staff_list"))


# --- audit -----------------------------------------------------------------------------

@bp.route("/audit")
@admin_required
def audit_log():
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=100, error_out=False)
    return render_template("admin/audit.html", pagination=pagination)
