"""Continuum as an Airflow provider: its connection types, for the UI's connection form.

``pyproject.toml`` registers :func:`get_provider_info` under the
``apache_airflow_provider`` entry point.  Each registered connector plugin
declares its connection form (form fields, relabelled standard fields), so
the core names no system.

Every Airflow process asks for provider info, so plugins are read without
importing the connectors themselves (whose client libraries are slow to
import); the hook class is made only when Airflow needs it.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

DISTRIBUTION = "continuum-hub"


def connection_types() -> list[dict[str, Any]]:
    """One form per registered connector (reading plugins imports no vendor library)."""
    from continuum.kit.plugin import hook_class_name
    from continuum.kit.registry import plugins

    return [found.airflow_connection_type(f"continuum.orchestration.hooks.{hook_class_name(name)}")
            for name, found in plugins().items()]


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0.0.0"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": DISTRIBUTION,
        "name": "Continuum",
        "description": "Social CRM integration hub: connection types for the systems Continuum syncs.",
        "versions": [_version()],
        "connection-types": connection_types(),
    }
