"""Alembic environment: online migrations against the configured database."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

from gis_core.db import to_sqlalchemy_url
from migrations.env_compare import include_object
from migrations.schema import metadata

config = context.config


def run_migrations_online() -> None:
    """Run the migrations in one transaction."""
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(to_sqlalchemy_url(config.attributes["database_url"]))
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


run_migrations_online()
