"""The ``portal`` command: init, create-admin, demo, run, worker (and Flask's shell, routes, db)."""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from portal import create_app


def _create_app():
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Ward staff wellbeing and scheduling portal."""


def init_database() -> None:
    """Bring the database schema to the latest migration and make sure an organisation exists."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from portal import MIGRATIONS_DIR
    from portal.extensions import db
    from portal.models import Organisation

    upgrade(directory=str(MIGRATIONS_DIR))
    if db.session.scalar(select(Organisation).limit(1)) is None:
        db.session.add(Organisation(name=current_app.config["PORTAL_ORGANISATION"],
                                    timezone=current_app.config["PORTAL_TIMEZONE"]))
        db.session.commit()


@main.command("init")
@with_appcontext
def init_command() -> None:
    """Create or migrate the database."""
    init_database()
    click.echo("Database is up to date.")


@main.command("create-admin")
@click.option("--email", prompt="Administrator e-mail")
@click.option("--password", default=None, help="Read from a prompt when not given.")
@with_appcontext
def create_admin_command(email: str, password: str | None) -> None:
    """Create an administrator account (or give an existing account the admin role)."""
    from portal.accounts.services import AccountError, find_user_by_email, set_password
    from portal.extensions import db
    from portal.models import Role, RoleAssignment, User

    init_database()
    if password is None:
        password = getpass.getpass("Password: ")
    user = find_user_by_email(email)
    if user is None:
        user = User(email=email.strip().lower())
        db.session.add(user)
        db.session.flush()
    try:
        set_password(user, password)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    if not user.is_admin:
        user.roles.append(RoleAssignment(role=Role.ADMIN))
    db.session.commit()
    click.echo(f"Administrator {user.email} is ready.")


@main.command("demo")
@click.option("--reset", is_flag=True, help="Drop all data and build the demo again.")
@with_appcontext
def demo_command(reset: bool) -> None:
    """Fill an empty database with a realistic demo hospital and print the demo sign-ins."""
    from portal.demo import DEMO_LOGINS, build_demo, has_demo
    from portal.extensions import db

    if reset:
        db.drop_all()
        from sqlalchemy import text

        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    init_database()
    if has_demo():
        click.echo("The demo hospital is already loaded.")
    else:
        build_demo()
        db.session.commit()
        click.echo("Demo hospital created.")
    click.echo("\nDemo sign-ins (demo only; change them before real use):")
    for role, email, password in DEMO_LOGINS:
        click.echo(f"  {role:<8} {email:<32} {password}")


@main.command("worker")
@click.option("--workers", default=2, show_default=True, help="Job threads in this process.")
@with_appcontext
def worker_command(workers: int) -> None:
    """Run the background job worker (optimiser runs, imports) until stopped."""
    from portal.jobs import run_worker

    run_worker(current_app._get_current_object(), workers=workers)


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--web-workers", default=2, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Do not start a job worker beside the web server.")
@with_appcontext
def run_command(host: str, port: int, web_workers: int, no_worker: bool) -> None:
    """Serve the portal with gunicorn, with a job worker beside it."""
    init_database()
    worker = None
    if not no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "portal.cli", "worker"], env=os.environ.copy())
    click.echo(f"Portal running on http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        _serve(host, port, web_workers)
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()


def _serve(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class PortalServer(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 120)

        def load(self):
            return create_app()

    PortalServer().run()


if __name__ == "__main__":
    main()
