"""Slack as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_TOKEN = "xoxb-1000000001-2000000002-simcontinuumslack"

CAPABILITIES = Capabilities(streams=("messages",), effects=("notify", "reply"), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="slack",
    summary="Slack: notify a person or a team channel, listen to channels and DMs, answer in threads",
    config="connectors.slack.config:SlackConfig",
    connector="connectors.slack.connector:SlackConnector",
    capabilities=CAPABILITIES,
    default_connection="continuum_slack",
    # Only the bot token is needed (no host: slack.com; channels are sync options), as in Slack's own provider.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "login", "extra"],
        "relabeling": {"host": "Slack API base URL (optional)", "password": "Bot token"},
        "placeholders": {"host": "https://slack.com", "password": "xoxb-…"},
    }},
    simulator="connectors.slack.simulator:SlackSimulator",
    seed="connectors.slack.seed:seed",
    simulator_credentials={"password": SIM_TOKEN},
    contract="connectors.slack.contract:HARNESS",
    webhook="connectors.slack.webhook:VERIFIER",
)
