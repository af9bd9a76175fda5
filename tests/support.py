"""Helpers shared by the test suite: throw-away databases on SQLite or PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def base_database_url() -> str | None:
    """The PostgreSQL (or other) server the suite runs against, if any; None means SQLite."""
    url = os.environ.get("DATABASE_URL") or None
    if url is not None and url.startswith("sqlite"):
        return None
    return url


def _normalise(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def fresh_database(tmp_dir: Path, label: str) -> str:
    """Create an empty database for one purpose and return its URL."""
    base = base_database_url()
    if base is None:
        return f"sqlite:///{tmp_dir / f'{label}-{uuid.uuid4().hex[:8]}.sqlite'}"
    url = make_url(_normalise(base))
    name = f"{url.database}_{label}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database:
            Path(url.database).unlink(missing_ok=True)
        return
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()
