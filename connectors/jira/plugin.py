"""Jira Cloud (REST v3) as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_LOGIN, SIM_TOKEN = "continuum-bot@example.com", "sim-jira-api-token"  # what the simulator accepts
BULK_CREATE_LIMIT = 50  # /rest/api/3/issue/bulk takes at most 50 issues a call
CAPABILITIES = Capabilities(streams=("issues",), effects=("create", "update", "comment", "transition"),
                            bulk_sizes={"create": BULK_CREATE_LIMIT})

PLUGIN = ConnectorPlugin(
    name="jira", summary="Jira: issues for what customers report and ask for; staff comments become answers",
    config="connectors.jira.config:JiraConfig", connector="connectors.jira.connector:JiraConnector",
    capabilities=CAPABILITIES, default_connection="continuum_jira",
    # Cloud: the bot account's e-mail and an API token; Data Center: its user name, a personal access token, auth=pat.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {"host": "Jira URL", "login": "E-mail (Cloud) or user name (Data Center)",
                       "password": "API token or personal access token"},
        "placeholders": {"host": "https://acme.atlassian.net", "login": "hub-bot@acme.com",
                         "password": "API token (Cloud) or personal access token (Data Center)"},
    }, "conn-fields": {
        "auth": {"label": "Authentication", "schema": {"type": ["string", "null"], "enum": ["basic", "pat"],
                                                       "default": "basic"},
                 "description": "basic: e-mail + API token (Jira Cloud). pat: personal access token (Data Center)."},
        "project": {"label": "Default project key", "schema": {"type": ["string", "null"]},
                    "description": "Used by the Test button; the hub config's options win in syncs."},
    }},
    simulator="connectors.jira.simulator:JiraSimulator", seed="connectors.jira.seed:seed",
    simulator_credentials={"login": SIM_LOGIN, "password": SIM_TOKEN},
    contract="connectors.jira.contract:HARNESS",
    webhook="connectors.jira.webhook:VERIFIER",
)
