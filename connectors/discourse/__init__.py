"""Discourse: read forum topics and posts, answer them as the company's account."""

from __future__ import annotations

from typing import Any

from continuum.connector import ConnectionInfo
from connectors.discourse.config import DiscourseConfig
from connectors.discourse.connector import DiscourseConnector
from connectors.discourse.seed import seed
from connectors.discourse.simulator import SIM_API_KEY, SIM_API_USERNAME, DiscourseSimulator

SIMULATOR = DiscourseSimulator


def create_connector(conn: ConnectionInfo, options: dict[str, Any]) -> DiscourseConnector:
    """Build a connector from a resolved connection and the sync's options.

    ``conn.host`` is the forum's base URL, ``conn.login`` the API username (the
    company account) and ``conn.password`` the API key; ``options`` may carry
    ``categories`` (slugs) and ``page_size``.
    """
    config = DiscourseConfig(
        url=conn.host,
        api_username=conn.login or "",
        api_key=conn.password or "",
        **options,
    )
    return DiscourseConnector(config)


def simulator_connection(base_url: str) -> dict[str, Any]:
    """The Airflow connection (JSON form) that points a connector at a running simulator."""
    return {"conn_type": "discourse", "host": base_url, "login": SIM_API_USERNAME, "password": SIM_API_KEY}


__all__ = [
    "SIMULATOR",
    "SIM_API_KEY",
    "SIM_API_USERNAME",
    "DiscourseConfig",
    "DiscourseConnector",
    "DiscourseSimulator",
    "create_connector",
    "seed",
    "simulator_connection",
]
