"""The portal command: init, create-admin and the demo hospital on an empty database."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.cli import main
from portal.demo import DEMO_LOGINS
from portal.extensions import db
from portal.models import Role, ShiftType, StaffMember, User, Ward
from portal.scheduling import self_service
from portal.scheduling.models import RequestKind, ShiftRequest
from tests.conftest import make_test_app
from tests.support import drop_database, fresh_database


def _runner_app(tmp_path, instance_path):
    url = fresh_database(tmp_path, "cli")
    return make_test_app(url, instance_path), url


def test_demo_builds_a_hospital_on_an_empty_database(tmp_path, instance_path):
    app, url = _runner_app(tmp_path, instance_path)
    try:
        result = app.test_cli_runner().invoke(main, args=["demo"])
        assert result.exit_code == 0, result.output
        for _, email, password in DEMO_LOGINS:
            assert email in result.output and password in result.output
        with app.app_context():
            wards = db.session.scalars(select(Ward).order_by(Ward.code)).all()
            assert [w.code for w in wards] == ["W12", "W7"]
            sizes = {w.code: len(w.memberships) for w in wards}
            assert sizes == {"W7": 45, "W12": 30}
            codes = {s.code for s in db.session.scalars(select(ShiftType).where(ShiftType.ward_id == wards[1].id))}
            assert codes == {"E", "L", "LD", "N"}
            grades = {s.grade.code for s in db.session.scalars(select(StaffMember))}
            assert grades == {"CN", "RN", "NA", "HCA"}
            part_time = db.session.scalar(
                select(func.count(StaffMember.id)).where(StaffMember.contracts.any(minutes_per_week=1800))
            )
            assert part_time > 0
            manager = db.session.scalar(select(User).where(User.email == DEMO_LOGINS[1][1]))
            assert wards[1].id in manager.managed_ward_ids
            admin = db.session.scalar(select(User).where(User.email == DEMO_LOGINS[2][1]))
            assert any(r.role == Role.ADMIN for r in admin.roles)
            # The demo's wishes are ones the portal accepts: no shift its nurse can never be rostered on.
            wishes = db.session.scalars(select(ShiftRequest).where(ShiftRequest.kind == RequestKind.WORK_SHIFT)).all()
            assert wishes
            for wish in wishes:
                shift = db.session.get(ShiftType, wish.shift_type_id)
                assert self_service._why_never_rostered(wish.staff, wish.day, shift) is None, wish
            db.engine.dispose()
        again = app.test_cli_runner().invoke(main, args=["demo"])
        assert again.exit_code == 0 and "already loaded" in again.output
    finally:
        drop_database(url)


def test_init_and_create_admin(tmp_path, instance_path):
    app, url = _runner_app(tmp_path, instance_path)
    try:
        runner = app.test_cli_runner()
        assert runner.invoke(main, args=["init"]).exit_code == 0
        short = runner.invoke(main, args=["create-admin", "--email", "boss@example.test", "--password", "short"])
        assert short.exit_code != 0 and "at least 10 characters" in short.output
        ok = runner.invoke(main, args=["create-admin", "--email", "boss@example.test", "--password", "long-enough-pass"])
        assert ok.exit_code == 0, ok.output
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == "boss@example.test"))
            assert user.is_admin
            db.engine.dispose()
    finally:
        drop_database(url)
