"""Slack: notify a person or a team channel (HR questions to #hr, SLA alerts to a team)."""

from __future__ import annotations

from typing import Any

from continuum.connector import ConnectionInfo
from connectors.slack.client import SlackClient, SlackError
from connectors.slack.config import SlackConfig
from connectors.slack.connector import SlackConnector
from connectors.slack.markup import escape_text
from connectors.slack.seed import seed
from connectors.slack.simulator import SIM_TOKEN, SlackSimulator

SIMULATOR = SlackSimulator


def create_connector(conn: ConnectionInfo, options: dict[str, Any]) -> SlackConnector:
    """Build a connector from a resolved connection and the sync's options.

    ``conn.password`` is the bot token (``xoxb-…``); ``conn.host`` is Slack's
    base URL (empty means ``https://slack.com``; the API is at ``<host>/api/``).
    ``options`` may carry ``default_channel`` ("#support"), ``history_pages``,
    ``history_page_size``, ``mrkdwn`` and ``unfurl``.
    """
    settings: dict[str, Any] = {"bot_token": conn.password or "", **options}
    if conn.host:
        settings["url"] = conn.host
    return SlackConnector(SlackConfig(**settings))


def simulator_connection(base_url: str) -> dict[str, Any]:
    """The Airflow connection (JSON form) that points a connector at a running simulator."""
    return {"conn_type": "slack", "host": base_url, "password": SIM_TOKEN}


__all__ = [
    "SIMULATOR",
    "SIM_TOKEN",
    "SlackClient",
    "SlackConfig",
    "SlackConnector",
    "SlackError",
    "SlackSimulator",
    "create_connector",
    "escape_text",
    "seed",
    "simulator_connection",
]
