"""Salesforce as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from typing import Any

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

# What the simulator accepts: a connected app's consumer key and secret, and the integration user's login.
SIM_CLIENT_ID, SIM_CLIENT_SECRET = "sim-sf-consumer-key-3Mvg9", "sim-sf-consumer-secret-81c2"
SIM_USERNAME, SIM_PASSWORD = "continuum@acme.example", "sim-sf-password-and-token"
BULK_SIZE = 200  # sObject collections take at most 200 records a call
CAPABILITIES = Capabilities(
    streams=("contacts", "cases"),
    effects=("log", "update_contact", "create_contact", "create", "update", "comment", "delete_log"),
    bulk_sizes={"log": BULK_SIZE, "update_contact": BULK_SIZE, "delete_log": BULK_SIZE, "create": BULK_SIZE})



class SalesforcePlugin(ConnectorPlugin):
    def simulator_connection(self, base_url: str) -> dict[str, Any]:
        """The simulator speaks HTTPS with its own certificate: the connection trusts exactly that one."""
        from connectors.salesforce.simtls import certificate  # only ever called with a simulator running

        made = super().simulator_connection(base_url)
        return {**made, "extra": {**made.get("extra", {}), "ca_bundle": str(certificate()[0])}}


PLUGIN = SalesforcePlugin(
    name="salesforce", summary="Salesforce: contacts and leads in; interactions logged as Tasks; Cases for issues",
    config="connectors.salesforce.config:SalesforceConfig",
    connector="connectors.salesforce.connector:SalesforceConnector",
    capabilities=CAPABILITIES, default_connection="continuum_salesforce",
    # A connected app (OAuth: username-password, or client credentials with a run-as user).
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {"host": "Login URL", "login": "Username (empty: client credentials)",
                       "password": "Password + security token"},
        "placeholders": {"host": "https://login.salesforce.com (or https://MYDOMAIN.my.salesforce.com)",
                         "login": "integration@acme.example", "password": "password followed by the security token"},
    }, "conn-fields": {
        "client_id": {"label": "Consumer key", "schema": {"type": ["string", "null"]}},
        "client_secret": {"label": "Consumer secret", "schema": {"type": ["string", "null"]}},
    }},
    simulator="connectors.salesforce.simulator:SalesforceSimulator", seed="connectors.salesforce.seed:seed",
    simulator_credentials={"login": SIM_USERNAME, "password": SIM_PASSWORD,
                           "extra": {"client_id": SIM_CLIENT_ID, "client_secret": SIM_CLIENT_SECRET}},
    contract="connectors.salesforce.contract:HARNESS",
)
