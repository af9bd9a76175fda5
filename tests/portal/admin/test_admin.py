"""Administration: wards, shift types, skills, staff, roles and the staff CSV import."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from portal.admin import services
from portal.extensions import db
from portal.models import AuditEvent, Role, ShiftType, StaffMember, User, Ward
from tests import factories
from tests.conftest import csrf_token_from


def _post(client, url, data, page=None, **kwargs):
    token = csrf_token_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def test_add_ward_and_refuse_a_duplicate_code(login_as, ward):
    client = login_as("admin")
    response = _post(client, "/admin/wards", {"name": "Ward 9", "code": "W9", "is_active": "y"})
    assert response.status_code == 302
    assert db.session.scalar(select(Ward).where(Ward.code == "W9")) is not None
    again = _post(client, "/admin/wards", {"name": "Another", "code": "w7", "is_active": "y"})
    assert again.status_code == 200
    assert "Another ward already uses the code w7." in again.get_data(as_text=True)


def test_edit_ward_detects_a_concurrent_edit(login_as, ward):
    client = login_as("admin")
    page = client.get(f"/admin/wards/{ward.id}").get_data(as_text=True)
    token = csrf_token_from(page)
    stale_version = str(ward.version)
    # Someone else saves first.
    other = _post(client, f"/admin/wards/{ward.id}", {"name": "Ward 7 North", "code": "W7", "is_active": "y",
                                                      "version": stale_version})
    assert other.status_code == 302
    response = client.post(f"/admin/wards/{ward.id}", data={
        "csrf_token": token, "name": "Ward 7 South", "code": "W7", "is_active": "y", "version": stale_version},
        follow_redirects=True)
    assert "Someone else changed this record" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Ward, ward.id).name == "Ward 7 North"


def test_shift_type_crossing_midnight(login_as, ward):
    client = login_as("manager")  # a ward manager sets up their ward's shifts
    response = _post(client, f"/admin/wards/{ward.id}/shift-types", {
        "code": "tw", "name": "Twilight", "start_time": "18:00", "end_time": "02:00",
        "paid_minutes": "450", "colour": "#445566", "is_active": "y"})
    assert response.status_code == 302
    shift = db.session.scalar(select(ShiftType).where(ShiftType.code == "TW"))
    assert shift.crosses_midnight and shift.length_minutes == 480


def test_shift_type_paid_minutes_cannot_exceed_length(login_as, ward):
    client = login_as("manager")
    response = _post(client, f"/admin/wards/{ward.id}/shift-types", {
        "code": "X", "name": "Short", "start_time": "09:00", "end_time": "10:00",
        "paid_minutes": "90", "colour": "#445566", "is_active": "y"})
    assert response.status_code == 200
    assert "cannot exceed the shift&#39;s length (60 minutes)" in response.get_data(as_text=True)


def test_create_staff_with_account_and_contract(login_as, org, ward):
    client = login_as("admin")
    grade_id = factories.grade(org, "RN").id
    response = _post(client, "/admin/staff/new", {
        "full_name": "Pat Newstarter", "known_as": "Pat", "email": "Pat@Example.org", "employee_number": "N100",
        "grade_id": str(grade_id), "ward_id": str(ward.id), "hours_per_week": "30",
        "may_work_nights": "y", "contract_start": "2026-01-05", "is_active": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    staff = db.session.scalar(select(StaffMember).where(StaffMember.employee_number == "N100"))
    assert staff.user.email == "pat@example.org"
    assert staff.contracts[-1].minutes_per_week == 1800
    assert staff.user.password_hash is None  # they set it through an invitation


def test_duplicate_employee_number_is_refused_and_form_kept(login_as, org, ward, users):
    client = login_as("admin")
    number = users["nurse"].staff.employee_number
    response = _post(client, "/admin/staff/new", {
        "full_name": "Dup Licate", "email": "dup@example.org", "employee_number": number,
        "grade_id": str(factories.grade(org, "RN").id), "ward_id": str(ward.id), "hours_per_week": "37.5",
        "contract_start": "2026-01-05"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Employee number {number} already belongs to Nina Nurse." in body
    assert 'value="Dup Licate"' in body


def test_deactivate_keeps_history_and_signs_out(app, login, login_as, users):
    nurse_client = login("nurse@example.test", using=app.test_client())
    client = login_as("admin")
    staff = users["nurse"].staff
    _post(client, f"/admin/staff/{staff.id}/active", {}, page=f"/admin/staff/{staff.id}")
    db.session.expire_all()
    assert db.session.get(StaffMember, staff.id).is_active is False
    assert nurse_client.get("/").status_code == 302
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "staff.deactivated")) == 1


def test_grant_and_revoke_manager_role(login_as, users, ward):
    client = login_as("admin")
    staff = users["nurse"].staff
    _post(client, f"/admin/staff/{staff.id}/roles", {"role": "manager", "ward_id": str(ward.id)},
          page=f"/admin/staff/{staff.id}")
    db.session.expire_all()
    user = db.session.get(User, users["nurse"].id)
    assert ward.id in user.managed_ward_ids
    assignment = next(r for r in user.roles if r.role == Role.MANAGER)
    _post(client, f"/admin/roles/{assignment.id}/revoke", {}, page=f"/admin/staff/{staff.id}")
    db.session.expire_all()
    assert db.session.get(User, users["nurse"].id).managed_ward_ids == set()


def test_admin_cannot_remove_own_admin_role(users):
    admin = users["admin"]
    assignment = next(r for r in admin.roles if r.role == Role.ADMIN)
    try:
        services.revoke_role(admin, assignment)
    except services.AdminError as exc:
        assert "your own administrator role" in str(exc)
    else:
        raise AssertionError("self-demotion was allowed")


GOOD_CSV = (
    "employee_number,full_name,known_as,email,grade,ward,skills,hours_per_week,may_work_nights,contract_start\n"
    "A001,Alex Able,,alex@example.test,RN,W7,IV,37.5,yes,2026-02-01\n"
    "A002,Bea Bright,Bea,bea@example.test,HCA,w12,,22.5,no,2026-02-01\n"
)


def test_staff_import_preview_then_confirm(login_as, ward, other_ward):
    client = login_as("admin")
    response = _post(client, "/admin/staff/import",
                     {"file": (io.BytesIO(GOOD_CSV.encode()), "staff.csv")}, content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert "Ready to import 2 staff" in body
    assert db.session.scalar(select(func.count(StaffMember.id)).where(StaffMember.employee_number.like("A00%"))) == 0
    upload_id = body.split('name="upload_id" type="hidden" value="')[1].split('"')[0]
    token = csrf_token_from(body)
    done = client.post("/admin/staff/import/confirm", data={"csrf_token": token, "upload_id": upload_id})
    assert done.status_code == 302
    imported = db.session.scalars(select(StaffMember).where(StaffMember.employee_number.like("A00%"))).all()
    assert {s.full_name for s in imported} == {"Alex Able", "Bea Bright"}
    bea = next(s for s in imported if s.employee_number == "A002")
    assert bea.contracts[0].may_work_nights is False and bea.memberships[0].ward_id == other_ward.id


def test_bad_staff_csv_changes_nothing_and_lists_each_row(login_as, users, ward):
    bad = (
        "employee_number,full_name,known_as,email,grade,ward,skills,hours_per_week,may_work_nights,contract_start\n"
        "B001,Good Row,,good@example.test,RN,W7,,37.5,yes,2026-02-01\n"
        f"{users['nurse'].staff.employee_number},Clash,,clash@example.test,RN,W7,,37.5,yes,2026-02-01\n"
        "B003,Bad Grade,,bg@example.test,XX,W7,,37.5,yes,2026-02-01\n"
        "B004,Bad Hours,,bh@example.test,RN,W7,,lots,yes,2026-02-01\n"
        "B005,Bad Date,,bd@example.test,RN,W99,NOPE,10,maybe,01/02/2026\n"
        "B006,No Mail,,,RN,W7,,10,yes,2026-02-01\n"
        "B001,Repeat,,repeat@example.test,RN,W7,,10,yes,2026-02-01\n"
    )
    client = login_as("admin")
    before = db.session.scalar(select(func.count(StaffMember.id)))
    body = _post(client, "/admin/staff/import", {"file": (io.BytesIO(bad.encode()), "staff.csv")},
                 content_type="multipart/form-data").get_data(as_text=True)
    assert "Nothing was imported: 6 problems found" in body
    for expected in ("already exists", "unknown grade &#39;XX&#39;", "hours_per_week &#39;lots&#39;",
                     "unknown ward &#39;W99&#39;", "unknown skill &#39;NOPE&#39;", "should be yes or no",
                     "is not a date like 2026-04-01", "Email is empty", "repeats line 2"):
        assert expected.lower() in body.lower(), expected
    assert db.session.scalar(select(func.count(StaffMember.id))) == before
    assert "upload_id" not in body


def test_staff_csv_with_wrong_encoding_or_missing_columns(app, org, ward):
    preview = services.parse_staff_csv("employee_number,full_name\nA1,Zoë\n".encode("latin-1"))
    assert "not UTF-8" in preview.errors[0].message
    preview = services.parse_staff_csv(b"employee_number,full_name\nA1,Someone\n")
    assert preview.errors[0].line == 1 and "Missing column(s): email, grade, ward" in preview.errors[0].message


def test_import_is_all_or_nothing_in_the_service(app, users, ward):
    actor = users["admin"]
    csv_bytes = GOOD_CSV.replace("W7", "W7").encode() + b"A003,Late Clash,,alex@example.test,RN,W7,,10,yes,2026-02-01\n"
    before = db.session.scalar(select(func.count(StaffMember.id)))
    try:
        services.import_staff(actor, csv_bytes)
    except services.AdminError:
        pass
    else:
        raise AssertionError("a file with a repeated e-mail was imported")
    assert db.session.scalar(select(func.count(StaffMember.id))) == before


def test_audit_log_lists_admin_actions(login_as, ward):
    client = login_as("admin")
    _post(client, "/admin/wards", {"name": "Ward 3", "code": "W3", "is_active": "y"})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "ward.created" in page and "account.signed_in" in page
