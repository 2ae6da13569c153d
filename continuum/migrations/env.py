"""Alembic environment: runs on the connection handed over by continuum.store.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from continuum.store.db import default_url
from continuum.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # plain `alembic` invocation: use the configured URL
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or default_url())
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    # render_as_batch: SQLite cannot ALTER most things in place; batch mode copies tables.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
