"""Every-day errors as one line and a documented exit code (the CLI's; the Airflow Test button's text).

A person who mistyped a pipeline, forgot a connection or started the sync
before the simulator needs to read what to do, not a traceback.  Each kind of
problem has its own exit code, so scripts and schedulers can tell "fix the
config" from "the system is down" from "the run finished but some records
failed".  No message here holds a secret: connectors build theirs from the
answer, never the request, and :func:`scrub` removes any credential value the
environment holds, should one slip into a library's message anyway.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1  # the command failed outright
EXIT_CONFIG = 2  # a usage or configuration mistake: a file, a setting, a pipeline or connector name
EXIT_CONNECTION = 3  # a connection is missing, unreadable, or its credentials were refused
EXIT_UNREACHABLE = 4  # a system could not be reached, or answered with an error
EXIT_STORE = 5  # the store cannot be opened or used (its URL, its server, its schema)
EXIT_DEAD_LETTERS = 6  # the run finished, but records or effects failed (see `continuum dead-letters`)
EXIT_RECONCILE = 7  # a target holds hub-made objects the store does not know: `continuum reconcile` first
EXIT_LOCKED = 75  # another run of the pipeline holds its lock; nothing was done (EX_TEMPFAIL)

EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_FAILED: "the command failed outright",
    EXIT_CONFIG: "a configuration or usage mistake (a file, setting, pipeline or connector name)",
    EXIT_CONNECTION: "a connection is missing or unreadable, or its credentials were refused",
    EXIT_UNREACHABLE: "a system could not be reached or answered with an error",
    EXIT_STORE: "the store cannot be opened or used (CONTINUUM_DB_URL, its server, its schema)",
    EXIT_DEAD_LETTERS: "the run finished but dead-lettered records or effects (more than "
                       "--max-dead-letters / CONTINUUM_MAX_DEAD_LETTERS, default 0)",
    EXIT_RECONCILE: "a target holds objects the hub made that the store does not know (a lost or restored "
                    "store): back it up, then `continuum reconcile`",
    EXIT_LOCKED: "another run of the pipeline holds its lock; nothing was done",
}


class SettingError(ValueError):
    """An environment setting or a command argument is wrong; the message names it and the fix."""


# The hub config the command loaded (the CLI sets it), so a message can name a system's connection.
LOADED_HUB: list[Any] = []


@dataclass(frozen=True)
class Problem:
    code: int
    lines: tuple[str, ...]
    style: str = "red"
    label: str = "error"


def describe(exc: BaseException) -> Problem | None:
    """The one line (and exit code) for an every-day problem; unknown errors are one line too."""
    from continuum.config import UnknownPipeline
    from continuum.connections import ConnectionProblem
    from continuum.engine.apply import UnknownHubObjects
    from continuum.kit.config import ConfigError as ConnectorConfigError
    from continuum.kit.errors import ClientError
    from continuum.kit.oauth import RefreshRefused
    from continuum.kit.registry import UnknownConnector
    from continuum.mapping import ConfigError
    from continuum.store.db import StoreSettingError
    from continuum.store.locking import AnotherRunHoldsTheLock

    if isinstance(exc, ConfigError):
        return Problem(EXIT_CONFIG, tuple(exc.problems))
    if isinstance(exc, (UnknownPipeline, UnknownConnector, SettingError)):
        return Problem(EXIT_CONFIG, (str(exc),))
    if isinstance(exc, (ConnectionProblem, ConnectorConfigError)):
        return Problem(EXIT_CONNECTION, (str(exc),))
    if isinstance(exc, UnknownHubObjects):
        return Problem(EXIT_RECONCILE, (str(exc),), style="yellow", label="refused")
    if isinstance(exc, StoreSettingError):
        return Problem(EXIT_STORE, (str(exc),))
    if isinstance(exc, AnotherRunHoldsTheLock):
        return Problem(EXIT_LOCKED, (str(exc),), style="yellow", label="busy")
    if isinstance(exc, RefreshRefused):  # its line already names the account and the Connection to fix
        return Problem(EXIT_CONNECTION, (str(exc),))
    if isinstance(exc, ClientError):
        return _client_problem(exc)
    store = _store_problem(exc)
    if store is not None:
        return store
    text = str(exc).strip().splitlines()
    return Problem(EXIT_FAILED, (f"{type(exc).__name__}: {text[0] if text else 'no details'}",))


def _connection_of(system: str) -> str | None:
    """The connection id the loaded hub config gives a connector, for the hint."""
    hub = LOADED_HUB[0] if LOADED_HUB else None
    for configured in (hub.systems.values() if hub else []):
        if configured.connector == system:
            return str(configured.connection)
    return None


def _client_problem(exc: Any) -> Problem:
    conn = _connection_of(exc.system)
    where = f" (connection {conn!r}: AIRFLOW_CONN_{conn.upper()} or the Airflow Connection)" if conn else ""
    if exc.is_auth_error:
        return Problem(EXIT_CONNECTION, (f"{exc.system} refused the credentials{where}: {exc.message}; check the "
                                         "login and the key or token",))
    if exc.status is None:
        reason = str(exc.message)
        if "refused" in reason.lower() or "Max retries exceeded" in reason:
            reason = "nothing is listening there" if "refused" in reason.lower() else reason
        return Problem(EXIT_UNREACHABLE, (f"{exc.system} could not be reached{where}: {_short(reason)}; is it "
                                          "running, and is the host (URL) right?",))
    return Problem(EXIT_UNREACHABLE, (f"{exc}{where}",))


def _short(text: str) -> str:
    return text if len(text) <= 300 else text[:300] + "…"


def _store_problem(exc: BaseException) -> Problem | None:
    try:
        from sqlalchemy import exc as sa
    except ImportError:  # pragma: no cover
        return None
    url = _store_url()
    if isinstance(exc, (sa.ArgumentError, sa.NoSuchModuleError)):
        return Problem(EXIT_STORE, (f"the store URL ({url}) is not one SQLAlchemy understands: {_first(exc)}; "
                                    "set CONTINUUM_DB_URL to sqlite:////absolute/path.db or "
                                    "postgresql://user@host/database",))
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith("psycopg"):
        return Problem(EXIT_STORE, ("the PostgreSQL driver is not installed: pip install 'continuum-hub[postgres]'",))
    if isinstance(exc, sa.DBAPIError):
        reason = _first(getattr(exc, "orig", None) or exc)
        if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
            return Problem(EXIT_STORE, (f"the store ({url}) has no schema yet ({reason}): run `continuum migrate`",))
        return Problem(EXIT_STORE, (f"the store ({url}) cannot be used: {reason}; check CONTINUUM_DB_URL and that "
                                    "the database server is running",))
    return None


def _first(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return _short(lines[0]) if lines else type(exc).__name__


def _store_url() -> str:
    """The store URL without its password."""
    raw = os.environ.get("CONTINUUM_DB_URL")
    if not raw:
        return "the SQLite file under CONTINUUM_DATA_DIR"
    try:
        from sqlalchemy.engine import make_url

        return str(make_url(raw).render_as_string(hide_password=True))
    except Exception:
        return "CONTINUUM_DB_URL"


def _secrets() -> Iterator[str]:
    """Every credential value the environment holds: connection passwords and secret extras, the store's."""
    from continuum.connections import SECRET_EXTRA_KEYS

    for key, raw in os.environ.items():
        if key.startswith("AIRFLOW_CONN_") and raw.strip().startswith("{"):
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            yield str(data.get("password") or "")
            extra = data.get("extra")
            if not isinstance(extra, dict):
                extra = {}
            yield from (str(v) for k, v in extra.items() if any(m in k.lower() for m in SECRET_EXTRA_KEYS))
        elif key.startswith("AIRFLOW_CONN_") and "@" in raw:
            userinfo = raw.split("://", 1)[-1].split("@", 1)[0]
            yield userinfo.partition(":")[2]
    yield from os.environ.get("CONTINUUM_SECRET_KEY", "").split(",")  # the key that seals the store's tokens
    raw_db = os.environ.get("CONTINUUM_DB_URL")
    if raw_db:
        try:
            from sqlalchemy.engine import make_url

            yield str(make_url(raw_db).password or "")
        except Exception:
            pass


def scrub(text: str) -> str:
    for secret in _secrets():
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
