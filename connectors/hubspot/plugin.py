"""HubSpot CRM as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_TOKEN = "pat-na1-sim-hubspot-4d2e"  # what the simulator accepts (a private app's access token)
BATCH = 100  # HubSpot's batch endpoints take at most 100 inputs a call
CAPABILITIES = Capabilities(
    streams=("contacts", "tickets"),
    effects=("log", "update_contact", "create_contact", "create", "update", "comment", "delete_log"),
    bulk_sizes={"log": BATCH, "update_contact": BATCH})

PLUGIN = ConnectorPlugin(
    name="hubspot", summary="HubSpot CRM: contacts feed identity; interactions logged as notes; cases as tickets",
    config="connectors.hubspot.config:HubspotConfig", connector="connectors.hubspot.connector:HubspotConnector",
    capabilities=CAPABILITIES, default_connection="continuum_hubspot",
    # A private app's access token with crm.objects.contacts.read/write and tickets scopes.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "login"],
        "relabeling": {"host": "API URL", "password": "Private app access token"},
        "placeholders": {"host": "https://api.hubapi.com", "password": "pat-na1-… (contacts, tickets scopes)"},
    }, "conn-fields": {}},
    simulator="connectors.hubspot.simulator:HubspotSimulator", seed="connectors.hubspot.seed:seed",
    simulator_credentials={"password": SIM_TOKEN},
    contract="connectors.hubspot.contract:HARNESS",
)
