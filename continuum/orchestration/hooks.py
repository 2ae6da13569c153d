"""The Airflow Hook behind every Continuum connection type.

A system's ``connectors/<name>/airflow.py`` subclasses :class:`ContinuumHook`
with four class attributes (``conn_type``, ``hook_name``,
``default_conn_name``, ``connector``); the hook builds that system's
connector from the Connection, lazily, and ``test_connection`` (the UI's
*Test* button) calls the connector's ``check()``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.sdk import BaseHook


class ContinuumHook(BaseHook):
    conn_name_attr = "conn_id"
    default_conn_name = ""
    conn_type = ""
    hook_name = ""
    connector: ClassVar[str] = ""  # the folder under connectors/

    def __init__(self, conn_id: str | None = None, options: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.conn_id = conn_id or self.default_conn_name
        self._options = options

    def options(self) -> dict[str, Any]:
        """Connector options: given, or those of the hub-config system that uses this connection."""
        if self._options is not None:
            return dict(self._options)
        try:
            from continuum.config import load_config

            hub = load_config()
        except Exception:  # no hub config where the UI runs: the connection's extras must do
            return {}
        for system in hub.systems.values():
            if system.connection == self.conn_id and system.connector == self.connector:
                return dict(system.options)
        return {}

    def get_conn(self) -> Any:
        """The system's connector (``continuum.connector.Connector``); nothing is called yet."""
        from continuum.connections import resolve_connection
        from continuum.connector import load_connector_factory

        factory = load_connector_factory(self.connector)
        return factory(resolve_connection(self.conn_id), self.options())

    def test_connection(self) -> tuple[bool, str]:
        try:
            connector = self.get_conn()
            connector.check()
        except Exception as exc:  # the UI shows the message; connectors never put secrets in errors
            return False, f"{type(exc).__name__}: {exc}"
        account = getattr(connector, "account", None)
        return True, f"{self.hook_name}: reachable" + (f" as {account}" if account else "")
