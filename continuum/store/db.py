"""Database engine, migrations, and opening the store.

SQLite (a file in the data directory) is the default so that the demo needs
nothing installed; ``CONTINUUM_DB_URL`` selects PostgreSQL in production.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


def data_dir() -> Path:
    path = Path(os.environ.get("CONTINUUM_DATA_DIR", ".data"))
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


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (safe to run every time)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def open_store(url: str | None = None, migrate_schema: bool = True) -> Engine:
    """The store the CLI, the demo and Airflow's tasks use (tasks pass ``migrate_schema=False``)."""
    engine = make_engine(url)
    if migrate_schema:
        migrate(engine)
    return engine
