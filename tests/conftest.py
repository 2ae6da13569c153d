"""Shared fixtures: stores on SQLite and on a real PostgreSQL, and the specs folder."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text

from continuum.simkit.contract import specs_dir
from continuum.store.db import make_engine, migrate

# The kind model is built from the shipped examples once per test session (a few seconds), not once
# per test's fresh data folder: every store, and every subprocess that inherits this, reuses it.
os.environ.setdefault("CONTINUUM_MODEL_CACHE", tempfile.mkdtemp(prefix="continuum-models-"))

PG_ADMIN_URL = os.environ.get("CONTINUUM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# The store's default home is the user's data folder; a test run without CONTINUUM_DATA_DIR (make test sets
# it) gets a throwaway one, so nothing a test writes (a retrained model, a store) outlives the run.
os.environ.setdefault("CONTINUUM_DATA_DIR", tempfile.mkdtemp(prefix="continuum-test-data-"))
# Under pytest-xdist (`make test` runs two workers) each worker gets a data folder of its own, so two tests
# running at once never share a store or a retrained model.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["CONTINUUM_DATA_DIR"] = os.path.join(os.environ["CONTINUUM_DATA_DIR"], os.environ["PYTEST_XDIST_WORKER"])
    os.makedirs(os.environ["CONTINUUM_DATA_DIR"], exist_ok=True)


def _pg_admin() -> Engine | None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception:
        engine.dispose()
        return None
    return engine


_PG_ADMIN: Engine | bool | None = False


def pg_admin() -> Engine | None:
    global _PG_ADMIN
    if _PG_ADMIN is False:
        _PG_ADMIN = _pg_admin()
    return _PG_ADMIN  # type: ignore[return-value]


@pytest.fixture
def sqlite_db(tmp_path: object) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/store.db")  # type: ignore[str-bytes-safe]
    migrate(engine)
    yield engine
    engine.dispose()


def require_pg(why: str) -> Engine:
    """The admin connection, or a skip that says what needs PostgreSQL."""
    admin = pg_admin()
    if admin is None:
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL.split('@')[-1]}: {why} "
                    "(set CONTINUUM_TEST_PG_URL)")
    return admin


def pg_database_url(name: str) -> str:
    return f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}"


@contextmanager
def throwaway_database(prefix: str, why: str, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (optionally copied from ``template``), dropped afterwards; yields its name."""
    admin = require_pg(why)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with throwaway_database("continuum_t", "the PostgreSQL store tests need it") as name:
        yield pg_database_url(name)


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest) -> Engine:
    """Runs a test once on SQLite and once on PostgreSQL."""
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def specs_available() -> None:
    if not (specs_dir() / "jira-platform-v3.swagger-v3.v3.json").exists():
        pytest.skip(f"the vendor API descriptions are not at {specs_dir()} (../shared/specs); contract tests skipped")
