"""One run per pipeline at a time: a lock held for the whole run.

Two runs of the same pipeline would both pick up the same pending effects
and both send them.  So a run first takes the pipeline's lock and fails
fast with :class:`AnotherRunHoldsTheLock` when another run has it:

* PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a 64-bit
  hash of the pipeline name, held on a dedicated connection for the run.
  PostgreSQL releases it when that connection ends, so a killed worker never
  leaves a stale lock behind.
* SQLite: an exclusive ``flock`` on a small file next to the database file.
  The kernel releases it when the process dies, for the same reason.

Different pipelines do not exclude each other; they may touch the same
customers at once, and the store's unique keys plus row claims settle that.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

# The CLI's exit status when the lock is taken: EX_TEMPFAIL ("try again later").
EXIT_LOCKED = 75


class AnotherRunHoldsTheLock(RuntimeError):
    """Another run of this pipeline is in progress; this one did nothing."""

    def __init__(self, pipeline: str, where: str) -> None:
        super().__init__(f"another run holds the lock for pipeline {pipeline!r} ({where}); "
                         "this run did nothing; try again when it has finished")
        self.pipeline = pipeline


def lock_key(pipeline: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` (same on every host and Python)."""
    digest = hashlib.sha256(f"continuum:pipeline:{pipeline}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def pipeline_lock(db: Engine, pipeline: str) -> Iterator[None]:
    """Hold the pipeline's run lock for the ``with`` block, or raise :class:`AnotherRunHoldsTheLock`."""
    dialect = db.dialect.name
    if dialect == "postgresql":
        with _pg_lock(db, pipeline):
            yield
    elif dialect == "sqlite":
        with _file_lock(_sqlite_lock_path(db, pipeline), pipeline):
            yield
    else:  # pragma: no cover - other databases are not supported
        raise RuntimeError(f"no run lock for database dialect {dialect!r}")


@contextmanager
def _pg_lock(db: Engine, pipeline: str) -> Iterator[None]:
    key = lock_key(pipeline)
    # A connection of its own, in autocommit: the run's transactions come and go
    # on other connections while this session keeps the lock.
    with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one()
        if not got:
            raise AnotherRunHoldsTheLock(pipeline, f"PostgreSQL advisory lock {key}")
        try:
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            except Exception:  # the connection is gone, and with it the lock
                pass


def _sqlite_lock_path(db: Engine, pipeline: str) -> Path | None:
    database = db.url.database
    if not database or database == ":memory:":
        return None  # a private in-memory store: nobody else can run against it
    name = hashlib.sha256(pipeline.encode()).hexdigest()[:16]
    return Path(f"{database}.run-{name}.lock")


@contextmanager
def _file_lock(path: Path | None, pipeline: str) -> Iterator[None]:
    if path is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no flock; runs are not serialised there
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AnotherRunHoldsTheLock(pipeline, f"lock file {path.name}") from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
