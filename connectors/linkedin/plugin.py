"""LinkedIn as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

# What the simulator accepts: one member token that administers the company page "Acme App".
SIM_ORGANIZATION, SIM_TOKEN = "urn:li:organization:1001", "sim-linkedin-token-5d2a"
CAPABILITIES = Capabilities(streams=("posts",), effects=("reply",), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="linkedin", summary="LinkedIn: read what customers say to the company, answer in their thread",
    config="connectors.linkedin.config:LinkedInConfig", connector="connectors.linkedin.connector:LinkedInConnector",
    capabilities=CAPABILITIES, default_connection="continuum_linkedin",
    # A page administrator's 3-legged OAuth token (Community Management API); the organization is its URN or id.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {"host": "API URL", "login": "Organization URN", "password": "Access token",
                       "extra": "Options"},
        "placeholders": {"host": "https://api.linkedin.com", "login": "urn:li:organization:1001",
                         "password": "OAuth 2.0 access token (60 days)", "extra": '{"api_version": "202511"}'}}},
    simulator="connectors.linkedin.simulator:LinkedInSimulator", seed="connectors.linkedin.seed:seed",
    simulator_credentials={"login": SIM_ORGANIZATION, "password": SIM_TOKEN},
    contract="connectors.linkedin.contract:LinkedInHarness",
)
