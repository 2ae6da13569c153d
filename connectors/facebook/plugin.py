"""Facebook Pages (and Messenger) as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_PAGE_ID, SIM_PAGE_TOKEN = "104738291654321", "sim-facebook-page-token-7e21b4"  # what the simulator accepts
CAPABILITIES = Capabilities(streams=("posts",), effects=("reply",), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="facebook", summary="Facebook Pages: read what customers say to the company, answer in their thread",
    config="connectors.facebook.config:FacebookConfig", connector="connectors.facebook.connector:FacebookConnector",
    capabilities=CAPABILITIES, default_connection="continuum_facebook",
    # A Page access token (never a user token): from Meta's Graph API Explorer or a system user of the business.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {"host": "Graph API URL", "login": "Page id", "password": "Page access token"},
        "placeholders": {"host": "https://graph.facebook.com", "login": "104738291654321",
                         "password": "EAAG… (Page token)", "extra": '{"api_version": "v21.0"}'}}},
    simulator="connectors.facebook.simulator:FacebookSimulator", seed="connectors.facebook.seed:seed",
    simulator_credentials={"login": SIM_PAGE_ID, "password": SIM_PAGE_TOKEN},
    contract="connectors.facebook.contract:FacebookHarness",
    webhook="connectors.facebook.webhook:VERIFIER",
)
