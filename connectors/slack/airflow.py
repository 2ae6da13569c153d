"""Slack as an Airflow connection type: the hook and the connection form.

Only the bot token (``xoxb-…``) is needed; the host stays empty for
slack.com.  The field layout matches the official Slack provider's ``slack``
connection, so a connection made with either form works for both.
"""

from __future__ import annotations

from continuum.orchestration.hooks import ContinuumHook

CONNECTION_TYPE = {
    "connection-type": "slack",
    "hook-class-name": "connectors.slack.airflow.SlackHook",
    "hook-name": "Slack (Continuum)",
    "ui-field-behaviour": {
        # Channels are sync options in the hub config (default_channel), not credentials.
        "hidden-fields": ["schema", "port", "login", "extra"],
        "relabeling": {"host": "Slack API base URL (optional)", "password": "Bot token"},
        "placeholders": {"host": "https://slack.com", "password": "xoxb-…"},
    },
}


class SlackHook(ContinuumHook):
    conn_type = "slack"
    hook_name = "Slack (Continuum)"
    default_conn_name = "continuum_slack"
    connector = "slack"
