"""Jira Cloud (REST v3) connector, its simulator, and the demo seed.

``create_connector`` is what the engine loads by name (``connectors.jira``);
``SIMULATOR``, ``seed`` and ``simulator_connection`` are what tests, the demo and ``continuum
simulate`` use.
"""

from __future__ import annotations

from typing import Any

from connectors.jira.config import JiraConfig
from connectors.jira.connector import JiraConnector
from connectors.jira.simulator import SIM_LOGIN, SIM_PAT, SIM_PROJECT, SIM_TOKEN, JiraSimulator
from continuum.connector import ConnectionInfo

SIMULATOR = JiraSimulator

__all__ = ["JiraConfig", "JiraConnector", "JiraSimulator", "SIMULATOR", "SIM_LOGIN", "SIM_PAT", "SIM_PROJECT",
           "SIM_TOKEN", "create_connector", "seed", "simulator_connection"]


def create_connector(conn: ConnectionInfo, options: dict[str, Any]) -> JiraConnector:
    """Build a connector from a resolved connection and the sync's options (``project`` at least)."""
    return JiraConnector(JiraConfig.from_connection(conn, options))


def seed(sim: JiraSimulator) -> None:
    """Demo state: only the project; issues arrive through the hub."""
    sim.create_project(SIM_PROJECT, "Product feedback")


def simulator_connection(base_url: str) -> dict[str, Any]:
    """The Airflow connection (JSON form) that points a connector at a running simulator."""
    return {"conn_type": "jira", "host": base_url, "login": SIM_LOGIN, "password": SIM_TOKEN}
