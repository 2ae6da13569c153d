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
    # dm.write with the direct_messages option), or the refresh flow's refresh token and client id (scope
    # offline.access): the hub then keeps the rotated pair in its store.  The host is X's API unless a proxy
    # sits in between.  Reading options (page size, recheck window, direct messages) are sync options.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "extra"],
        "relabeling": {"host": "API URL (optional)", "login": "Company @handle",
                       "password": "OAuth 2.0 user token (or leave empty and give a refresh token)"},
        "placeholders": {"host": "https://api.x.com", "login": "acme_app",
                         "password": "tweet.read tweet.write users.read"}},
        "conn-fields": {
            "refresh_token": {"label": "Refresh token (seed)", "schema": {"type": ["string", "null"],
                                                                          "format": "password"},
                              "description": "From authorising the app with offline.access: taken once; the "
                                             "hub keeps X's rotated ones, encrypted, in its store."},
            "client_id": {"label": "OAuth 2.0 Client ID", "schema": {"type": ["string", "null"]},
                          "description": "The app's Client ID (Keys and tokens); needed with a refresh token."},
            "client_secret": {"label": "OAuth 2.0 Client Secret", "schema": {"type": ["string", "null"],
                                                                              "format": "password"},
                              "description": "Only for a confidential client (Web App, Automated App or bot)."},
        }},
    simulator="connectors.x.simulator:XSimulator", seed="connectors.x.seed:seed",
    simulator_credentials={"login": SIM_ACCOUNT, "password": SIM_TOKEN},
    contract="connectors.x.contract:HARNESS",
    webhook="connectors.x.webhook:VERIFIER",
)
