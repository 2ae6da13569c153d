"""Credentials: from Airflow Connections or the environment, masked before anything can log them.

The environment form is Airflow's own: ``AIRFLOW_CONN_<CONN_ID>`` holding a
JSON object (``{"conn_type", "host", "login", "password", "extra"}``) or a
connection URI.  Inside an Airflow task the same id resolves through
Airflow's secrets backends, so the hub config only ever names connection ids.
"""

from __future__ import annotations

import json
import os
from typing import Any

from continuum.connector import ConnectionInfo

SECRET_EXTRA_KEYS = ("token", "key", "password", "secret", "pat")


class ConnectionProblem(LookupError):
    """A connection is missing or unreadable; the message names it and what to set (never its value)."""

    def __init__(self, conn_id: str, problem: str, system: str | None = None) -> None:
        self.conn_id, self.problem, self.system = conn_id, problem, system
        super().__init__(self.describe())

    def describe(self) -> str:
        who = f"system {self.system!r}: " if self.system else ""
        return f"{who}connection {self.conn_id!r} {self.problem}"

    def for_system(self, system: str) -> ConnectionProblem:
        return type(self)(self.conn_id, self.problem, system)

    def __str__(self) -> str:
        return self.describe()


class MissingConnection(ConnectionProblem):
    """No ``AIRFLOW_CONN_<ID>`` and no Airflow Connection of that id."""


def _mask(value: Any) -> None:
    """Register a secret with Airflow's masker, so no Airflow log line can show it."""
    if not value:
        return
    from airflow.sdk.log import mask_secret

    mask_secret(value)


def _from_env(conn_id: str) -> dict[str, Any] | None:
    raw = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except ValueError:
            # Never echo the value: it holds the secret.
            raise ConnectionProblem(conn_id, f"is unreadable: AIRFLOW_CONN_{conn_id.upper()} is not valid JSON "
                                             "(it starts with '{'); fix the quoting") from None
        if not isinstance(data, dict):
            raise ConnectionProblem(conn_id, f"is unreadable: AIRFLOW_CONN_{conn_id.upper()} is not a JSON object")
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            try:
                extra = json.loads(extra) if extra else {}
            except ValueError:
                raise ConnectionProblem(conn_id, f"is unreadable: the extra of AIRFLOW_CONN_{conn_id.upper()} "
                                                 "is not valid JSON") from None
        return {"host": data.get("host") or "", "login": data.get("login"), "password": data.get("password"),
                "extra": extra, "port": data.get("port"), "schema": data.get("schema")}
    from airflow.models.connection import Connection

    conn = Connection(conn_id=conn_id, uri=raw)
    return {"host": conn.host or "", "login": conn.login, "password": conn.password,
            "extra": conn.extra_dejson, "port": conn.port, "schema": conn.schema}


def _from_airflow(conn_id: str) -> dict[str, Any]:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    return {"host": conn.host or "", "login": conn.login, "password": conn.password,
            "extra": conn.extra_dejson, "port": conn.port, "schema": conn.schema}


def resolve_connection(conn_id: str) -> ConnectionInfo:
    data = _from_env(conn_id)
    if data is None:
        try:
            data = _from_airflow(conn_id)
        except Exception:
            raise MissingConnection(
                conn_id, f"is not set: export AIRFLOW_CONN_{conn_id.upper()}='{{\"conn_type\": ..., \"host\": "
                         f"\"https://...\", \"login\": ..., \"password\": ...}}' or create it in Airflow "
                         "(Admin > Connections)") from None
    _mask(data.get("password"))
    extra = dict(data.get("extra") or {})
    for key, value in extra.items():
        if any(marker in key.lower() for marker in SECRET_EXTRA_KEYS):
            _mask(value)
    host = str(data["host"])
    if data.get("port") and "://" in host and host.count(":") == 1:
        host = f"{host}:{data['port']}"
    if data.get("schema") and "://" not in host:
        host = f"{data['schema']}://{host}"
    return ConnectionInfo(conn_id=conn_id, host=host.rstrip("/"), login=data.get("login"),
                          password=data.get("password"), extra=extra)
