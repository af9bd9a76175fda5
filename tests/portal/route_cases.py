"""Route cases for the foundation's blueprints (main, accounts, admin).

Every feature's tests folder has a ``route_cases.py`` with a ``CASES`` list; the permission
matrix in ``test_permissions.py`` collects them all and fails for any route without one.
"""

from __future__ import annotations

from tests.permissions import ADMIN_ONLY, ANYONE, MANAGER_OF_WARD, SIGNED_IN, RouteCase

CASES = [
    RouteCase("main.home", "GET", lambda c: "/", SIGNED_IN),
    RouteCase("main.notifications", "GET", lambda c: "/notifications", SIGNED_IN),
    RouteCase("main.mark_notifications_read", "POST", lambda c: "/notifications/read", SIGNED_IN),
    RouteCase("main.healthz", "GET", lambda c: "/healthz", ANYONE),
    RouteCase("static", "GET", lambda c: "/static/css/portal.css", ANYONE),
    RouteCase("accounts.login", "GET", lambda c: "/account/sign-in", ANYONE),
    RouteCase("accounts.logout", "POST", lambda c: "/account/sign-out", ANYONE, lands_on_login=True),
    RouteCase("accounts.change_password", "GET", lambda c: "/account/password", SIGNED_IN),
    RouteCase("accounts.accept_invite", "GET", lambda c: f"/account/invite/{c.invite_secret}", ANYONE),
    RouteCase("accounts.reset_password", "GET", lambda c: f"/account/reset/{c.reset_secret}", ANYONE),
    RouteCase("admin.index", "GET", lambda c: "/admin/", ADMIN_ONLY),
    RouteCase("admin.wards", "GET", lambda c: "/admin/wards", ADMIN_ONLY),
    RouteCase("admin.edit_ward", "GET", lambda c: f"/admin/wards/{c.ward.id}", ADMIN_ONLY),
    RouteCase("admin.shift_types", "GET", lambda c: f"/admin/wards/{c.ward.id}/shift-types", MANAGER_OF_WARD),
    RouteCase("admin.edit_shift_type", "GET", lambda c: f"/admin/shift-types/{c.ward.shift_types[0].id}", MANAGER_OF_WARD),
    RouteCase("admin.skills", "GET", lambda c: "/admin/skills", ADMIN_ONLY),
    RouteCase("admin.toggle_skill", "POST", lambda c: f"/admin/skills/{c.skill.id}/toggle", ADMIN_ONLY),
    RouteCase("admin.staff_list", "GET", lambda c: "/admin/staff", ADMIN_ONLY),
    RouteCase("admin.new_staff", "GET", lambda c: "/admin/staff/new", ADMIN_ONLY),
    RouteCase("admin.edit_staff", "GET", lambda c: f"/admin/staff/{c.users['nurse'].staff.id}", ADMIN_ONLY),
    RouteCase("admin.toggle_staff_active", "POST", lambda c: f"/admin/staff/{c.spare_staff.id}/active", ADMIN_ONLY),
    RouteCase("admin.grant_role", "POST", lambda c: f"/admin/staff/{c.spare_staff.id}/roles", ADMIN_ONLY),
    RouteCase("admin.revoke_role", "POST", lambda c: f"/admin/roles/{c.spare_manager_role.id}/revoke", ADMIN_ONLY),
    RouteCase("admin.create_link", "POST", lambda c: f"/admin/staff/{c.spare_staff.id}/link", ADMIN_ONLY),
    RouteCase("admin.import_staff", "GET", lambda c: "/admin/staff/import", ADMIN_ONLY),
    RouteCase("admin.confirm_import", "POST", lambda c: "/admin/staff/import/confirm", ADMIN_ONLY),
    RouteCase("admin.audit_log", "GET", lambda c: "/admin/audit", ADMIN_ONLY),
    # POST sides of the forms above (empty forms: access is checked before validation).
    RouteCase("accounts.login", "POST", lambda c: "/account/sign-in", ANYONE),
    RouteCase("accounts.change_password", "POST", lambda c: "/account/password", SIGNED_IN),
    RouteCase("accounts.accept_invite", "POST", lambda c: f"/account/invite/{c.invite_secret}", ANYONE),
    RouteCase("accounts.reset_password", "POST", lambda c: f"/account/reset/{c.reset_secret}", ANYONE),
    RouteCase("admin.wards", "POST", lambda c: "/admin/wards", ADMIN_ONLY),
    RouteCase("admin.edit_ward", "POST", lambda c: f"/admin/wards/{c.ward.id}", ADMIN_ONLY),
    RouteCase("admin.shift_types", "POST", lambda c: f"/admin/wards/{c.ward.id}/shift-types", MANAGER_OF_WARD),
    RouteCase("admin.edit_shift_type", "POST", lambda c: f"/admin/shift-types/{c.ward.shift_types[0].id}", MANAGER_OF_WARD),
    RouteCase("admin.skills", "POST", lambda c: "/admin/skills", ADMIN_ONLY),
    RouteCase("admin.new_staff", "POST", lambda c: "/admin/staff/new", ADMIN_ONLY),
    RouteCase("admin.edit_staff", "POST", lambda c: f"/admin/staff/{c.users['nurse'].staff.id}", ADMIN_ONLY),
    RouteCase("admin.import_staff", "POST", lambda c: "/admin/staff/import", ADMIN_ONLY),
]
