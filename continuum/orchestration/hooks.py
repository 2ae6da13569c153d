"""The Airflow Hook behind every Continuum connection type.

One hook class per registered connector, made here from its plugin: Airflow
asks for ``continuum.orchestration.hooks.<Name>Hook`` (the provider info
names it) and the module builds it on first access.  The hook builds that
system's connector from the Connection, lazily, and ``test_connection`` (the
UI's *Test* button) calls the connector's ``check()``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.sdk import BaseHook

from continuum.kit.plugin import hook_class_name


class ContinuumHook(BaseHook):
    conn_name_attr = "conn_id"
    default_conn_name = ""
    conn_type = ""
    hook_name = ""
    connector: ClassVar[str] = ""  # the registered plugin's name

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
        from continuum.kit.registry import plugin

        return plugin(self.connector).create(resolve_connection(self.conn_id), self.options())

    def missing_options(self) -> list[str]:
        """Required settings neither the hub config's options nor the Connection's extra give (e.g. Jira's
        project), so the form says what to fill in instead of showing a validation dump."""
        from continuum.connections import resolve_connection
        from continuum.kit.registry import plugin

        config = plugin(self.connector).config_class()
        given = set(self.options()) | set(resolve_connection(self.conn_id).extra)
        return [name for name, field in config.model_fields.items()
                if field.is_required() and name not in config.connection_fields.values() and name not in given]

    def test_connection(self) -> tuple[bool, str]:
        try:
            missing = self.missing_options()
            if missing:
                fields = ", ".join(f'"{name}": "..."' for name in missing)
                return False, (f"{self.hook_name}: connection {self.conn_id!r} needs {', '.join(missing)}: add "
                               f"{{{fields}}} to its Extra (or set it under systems.<name>.options in the hub config)")
            connector = self.get_conn()
            connector.check()
        except Exception as exc:  # the UI shows the message; connectors never put secrets in errors
            from continuum.ops.problems import describe, scrub

            problem = describe(exc)
            return False, scrub(problem.lines[0] if problem else f"{type(exc).__name__}: {exc}")
        account = getattr(connector, "account", None)
        return True, f"{self.hook_name}: reachable" + (f" as {account}" if account else "")


_made: dict[str, type[ContinuumHook]] = {}


def hook_for(connector: str) -> type[ContinuumHook]:
    """The hook class of a registered connector (made once per process)."""
    if connector not in _made:
        from continuum.kit.registry import plugin

        found = plugin(connector)
        name = hook_class_name(connector)
        _made[connector] = type(name, (ContinuumHook,), {
            "__module__": __name__, "__qualname__": name,
            "conn_type": found.connection_type, "hook_name": found.airflow_connection_type("")["hook-name"],
            "default_conn_name": found.default_connection or f"continuum_{connector}", "connector": connector,
        })
    return _made[connector]


def __getattr__(name: str) -> type[ContinuumHook]:
    # Airflow imports hook classes by dotted path; ours exist once a plugin is registered.
    if name.endswith("Hook") and name != "ContinuumHook":
        from continuum.kit.registry import plugins

        for connector in plugins():
            if hook_class_name(connector) == name:
                return hook_for(connector)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
