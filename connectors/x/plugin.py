"""X (Twitter) as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_ACCOUNT, SIM_TOKEN = "acme_app", "sim-x-user-token-7d2e41"  # what the simulator accepts for the company
CAPABILITIES = Capabilities(streams=("posts",), effects=("reply",), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="x", summary="X (Twitter): read what customers say to the company, answer in their thread",
    config="connectors.x.config:XConfig", connector="connectors.x.connector:XConnector",
    capabilities=CAPABILITIES, default_connection="continuum_x",
    # An OAuth 2.0 user token of the company account (scopes tweet.read tweet.write users.read, and dm.read
    # dm.write with the direct_messages option); the host is X's API unless a proxy sits in between.  Reading
    # options (page size, recheck window, direct messages) are sync options.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "extra"],
        "relabeling": {"host": "API URL (optional)", "login": "Company @handle", "password": "OAuth 2.0 user token"},
        "placeholders": {"host": "https://api.x.com", "login": "acme_app",
                         "password": "tweet.read tweet.write users.read"}}},
    simulator="connectors.x.simulator:XSimulator", seed="connectors.x.seed:seed",
    simulator_credentials={"login": SIM_ACCOUNT, "password": SIM_TOKEN},
    contract="connectors.x.contract:HARNESS",
    webhook="connectors.x.webhook:VERIFIER",
)
