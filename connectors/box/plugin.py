"""Box as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_TOKEN = "sim-box-access-token-5d2a"  # what the simulator accepts
SIM_ROOT_FOLDER = "300000001"  # the simulator's "Customer attachments" folder
CAPABILITIES = Capabilities(streams=(), effects=("store",), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="box", summary="Box: customers' attachments stored once, a folder per customer, linked from tickets",
    config="connectors.box.config:BoxConfig", connector="connectors.box.connector:BoxConnector",
    capabilities=CAPABILITIES, default_connection="continuum_box",
    # An access token of a Box app (Client Credentials Grant: the service account's token) with read and write.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "login"],
        "relabeling": {"host": "API URL (optional)", "password": "Access token"},
        "placeholders": {"host": "https://api.box.com", "password": "the app's access token"},
    }, "conn-fields": {
        "root_folder_id": {"label": "Root folder id", "schema": {"type": ["string", "null"]},
                           "description": "The folder that holds a folder per customer (the hub config's "
                                          "options win in syncs)."},
    }},
    simulator="connectors.box.simulator:BoxSimulator", seed="connectors.box.seed:seed",
    simulator_credentials={"password": SIM_TOKEN, "extra": {"root_folder_id": SIM_ROOT_FOLDER}},
    contract="connectors.box.contract:HARNESS",
    webhook="connectors.box.webhook:VERIFIER",
)
