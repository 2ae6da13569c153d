"""Confluence as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_LOGIN, SIM_TOKEN = "continuum-bot@example.com", "sim-confluence-api-token-41b7"  # what the simulator accepts
SIM_SPACE = "SUP"  # the simulator's support space
SIM_PARENT = "65537"  # its "Customers" page, under which the hub's pages go
CAPABILITIES = Capabilities(streams=(), effects=("publish", "delete", "prune"), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="confluence",
    summary="Confluence: each customer's history and the feature requests, as pages staff read",
    config="connectors.confluence.config:ConfluenceConfig",
    connector="connectors.confluence.connector:ConfluenceConnector",
    capabilities=CAPABILITIES,
    default_connection="continuum_confluence",
    # An Atlassian account (a service account is best) with an API token, allowed to add pages in the space.
    connection_form={
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {"host": "Site URL", "login": "Account e-mail", "password": "API token"},
            "placeholders": {
                "host": "https://your-site.atlassian.net",
                "login": "support-bot@example.com",
                "password": "an API token of that account",
            },
        },
        "conn-fields": {
            "space": {
                "label": "Space key",
                "schema": {"type": ["string", "null"]},
                "description": "The space the hub's pages go into (the hub config's options win in syncs).",
            },
            "parent_id": {
                "label": "Parent page id",
                "schema": {"type": ["string", "null"]},
                "description": "The page the hub's pages hang under (empty: the space's home page).",
            },
        },
    },
    simulator="connectors.confluence.simulator:ConfluenceSimulator",
    seed="connectors.confluence.seed:seed",
    simulator_credentials={
        "login": SIM_LOGIN,
        "password": SIM_TOKEN,
        "extra": {"space": SIM_SPACE, "parent_id": SIM_PARENT},
    },
    contract="connectors.confluence.contract:HARNESS",
)
