"""The migration chain builds exactly the schema the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from portal import MIGRATIONS_DIR
from portal.extensions import db
from tests.conftest import make_test_app
from tests.support import drop_database, fresh_database


def test_migrations_match_the_models(tmp_path, instance_path):
    url = fresh_database(tmp_path, "migrations")
    try:
        app = make_test_app(url, instance_path)
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, db.metadata)
            db.engine.dispose()
        assert differences == [], "Models and migrations differ; run 'portal db migrate':\n" + "\n".join(
            map(str, differences)
        )
    finally:
        drop_database(url)
