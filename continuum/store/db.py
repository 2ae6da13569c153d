"""Database engine, migrations, and opening the store.

SQLite (a file in the data directory) is the default so that the demo needs
nothing installed; ``CONTINUUM_DB_URL`` selects PostgreSQL in production.

The data directory is ``CONTINUUM_DATA_DIR`` (an absolute path) or the
user's data folder (``$XDG_DATA_HOME/continuum``, by default
``~/.local/share/continuum``): never relative to the working directory, which
differs between a shell, an Airflow worker and a scheduler.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATION_LOCK = 0x636F6E74  # "cont": the advisory lock key that serialises migrations on PostgreSQL


def utcnow() -> datetime:
    return datetime.now(UTC)


class StoreSettingError(ValueError):
    """A store setting (``CONTINUUM_DATA_DIR``, ``CONTINUUM_DB_URL``) that cannot work; says which and why."""


def data_dir() -> Path:
    configured = os.environ.get("CONTINUUM_DATA_DIR", "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not path.is_absolute():
            raise StoreSettingError(f"CONTINUUM_DATA_DIR={configured!r} is a relative path; give an absolute one "
                                    "(Airflow's processes and the CLI run in different working directories)")
    else:
        base = os.environ.get("XDG_DATA_HOME", "").strip()
        path = (Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share") / "continuum"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_url() -> str:
    return os.environ.get("CONTINUUM_DB_URL") or f"sqlite:///{data_dir() / 'continuum.db'}"


def _normalise(url: str) -> str:
    # psycopg 3 is the driver we install; plain "postgresql://" would ask for psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = _normalise(url or default_url())
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the CLI read status while a sync writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the store is at (None: no schema yet)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()  # type: ignore[no-any-return]


def migrate(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to ``revision`` with Alembic (safe to run every time); returns (before, after)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Two first runs at once (a DAG's task and a CLI) must not both create the schema.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        from alembic.runtime.migration import MigrationContext

        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return before, schema_revision(engine)


def open_store(url: str | None = None, migrate_schema: bool = True) -> Engine:
    """The store the CLI, the demo and Airflow's tasks use (tasks pass ``migrate_schema=False``)."""
    engine = make_engine(url)
    if migrate_schema:
        migrate(engine)
    return engine
