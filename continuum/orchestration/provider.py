"""Continuum as an Airflow provider: its connection types, for the UI's connection form.

``pyproject.toml`` registers :func:`get_provider_info` under the
``apache_airflow_provider`` entry point.  Each connector folder that has an
``airflow.py`` declares its ``CONNECTION_TYPE`` there (hook class, form
fields, relabelled standard fields), so the core names no system.

Every Airflow process asks for provider info, so the declarations are read
without importing the connector packages (whose client libraries are slow to
import); the hook class itself is imported only when Airflow needs it.
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path
from typing import Any

DISTRIBUTION = "continuum-hub"


def connector_dirs() -> list[Path]:
    spec = importlib.util.find_spec("connectors")
    if spec is None or not spec.submodule_search_locations:
        return []
    found = []
    for location in spec.submodule_search_locations:
        found += sorted(p for p in Path(location).iterdir() if (p / "airflow.py").is_file())
    return found


def _declaration(folder: Path) -> dict[str, Any]:
    # A private module name: this is a read of the declaration, not the real
    # connectors.<name>.airflow module (that one is imported when the hook is used).
    spec = importlib.util.spec_from_file_location(f"_continuum_provider_{folder.name}", folder / "airflow.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    declared = getattr(module, "CONNECTION_TYPE", None)
    if not isinstance(declared, dict):
        raise ValueError(f"connectors/{folder.name}/airflow.py declares no CONNECTION_TYPE dict")
    return dict(declared)


def connection_types() -> list[dict[str, Any]]:
    return [_declaration(folder) for folder in connector_dirs()]


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
