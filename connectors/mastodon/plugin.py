"""Mastodon as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_ACCOUNT, SIM_TOKEN = "acme@mastodon.example", "sim-mastodon-token-7c21e4"  # what the simulator accepts
CAPABILITIES = Capabilities(streams=("posts",), effects=("reply",), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="mastodon", summary="Mastodon: read what customers say to the company, answer in their thread",
    config="connectors.mastodon.config:MastodonConfig", connector="connectors.mastodon.connector:MastodonConnector",
    capabilities=CAPABILITIES, default_connection="continuum_mastodon",
    # An application's access token (Preferences -> Development) for the company's account; no OAuth dance.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "extra"],
        "relabeling": {"host": "Server URL", "login": "Company handle", "password": "Access token"},
        "placeholders": {"host": "https://mastodon.social", "login": "acme@mastodon.social",
                         "password": "Preferences → Development → your application"}}},
    simulator="connectors.mastodon.simulator:MastodonSimulator", seed="connectors.mastodon.seed:seed",
    simulator_credentials={"login": SIM_ACCOUNT, "password": SIM_TOKEN},
    contract="connectors.mastodon.contract:HARNESS",
)
