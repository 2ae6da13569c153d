"""Discourse as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

# The company account and key the simulator accepts (the demo's and the tests' credentials).
SIM_API_USERNAME = "continuum"
SIM_API_KEY = "sim-discourse-key-0f3c9a"

CAPABILITIES = Capabilities(streams=("posts",), effects=("reply",), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="discourse",
    summary="Discourse: read forum topics and posts, answer them as the company's account",
    config="connectors.discourse.config:DiscourseConfig",
    connector="connectors.discourse.connector:DiscourseConnector",
    capabilities=CAPABILITIES,
    default_connection="continuum_discourse",
    # An admin creates an API key (Admin -> API) for the company account that posts the answers.
    connection_form={
        "ui-field-behaviour": {
            # Categories and page size are sync options in the hub config, not credentials.
            "hidden-fields": ["schema", "port", "extra"],
            "relabeling": {"host": "Discourse URL", "login": "API username", "password": "API key"},
            "placeholders": {
                "host": "https://forum.example.com",
                "login": "support (the account that posts answers)",
                "password": "API key from Admin → API",
            },
        },
    },
    simulator="connectors.discourse.simulator:DiscourseSimulator",
    seed="connectors.discourse.seed:seed",
    simulator_credentials={"login": SIM_API_USERNAME, "password": SIM_API_KEY},
    contract="connectors.discourse.contract:HARNESS",
)
