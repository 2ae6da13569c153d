"""Discourse as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_API_USERNAME, SIM_API_KEY = "continuum", "sim-discourse-key-0f3c9a"  # what the simulator accepts
CAPABILITIES = Capabilities(streams=("posts",), effects=("reply",), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="discourse", summary="Discourse: read forum topics and posts, answer them as the company's account",
    config="connectors.discourse.config:DiscourseConfig", connector="connectors.discourse.connector:DiscourseConnector",
    capabilities=CAPABILITIES, default_connection="continuum_discourse",
    # The key comes from Admin -> API, for the account that posts answers; categories are sync options, not extras.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "extra"],
        "relabeling": {"host": "Discourse URL", "login": "API username", "password": "API key"},
        "placeholders": {"host": "https://forum.example.com", "login": "support", "password": "Admin → API"}}},
    simulator="connectors.discourse.simulator:DiscourseSimulator", seed="connectors.discourse.seed:seed",
    simulator_credentials={"login": SIM_API_USERNAME, "password": SIM_API_KEY},
    contract="connectors.discourse.contract:HARNESS",
    webhook="connectors.discourse.webhook:VERIFIER",
)
