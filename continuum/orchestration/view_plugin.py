"""The Continuum view as an Airflow plugin: its FastAPI app mounted in Airflow's own API server.

``pyproject.toml`` registers :class:`ContinuumViewPlugin` under the ``airflow.plugins`` entry point, so
installing the package is all it takes; no second web server runs.  The ``external_views`` entry puts
"Continuum" in the Airflow UI's navigation, shown inside the UI (same origin, so the UI's session cookie
reaches the pages, which check the user themselves: see continuum.view.auth).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/continuum"


def _app() -> Any:
    from continuum.view.app import create_app

    return create_app()


class ContinuumViewPlugin(AirflowPlugin):
    name = "continuum_view"

    # Built when Airflow's API server asks, not when a plugin is loaded: every task process loads the plugins
    # too (for their listeners), and building the view there cost each task start most of a second.
    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        if self._apps is None:
            self._apps = [{"app": _app(), "url_prefix": URL_PREFIX, "name": "Continuum"}]
        return self._apps

    _apps: list[dict[str, Any]] | None = None
    external_views = [{"name": "Continuum", "href": f"{URL_PREFIX}/", "destination": "nav",
                       "url_route": "continuum"}]
