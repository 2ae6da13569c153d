"""Reddit as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

# What the simulator accepts: one script app, the company's account u/AcmeOfficial, its subreddit r/acmeapp.
SIM_CLIENT_ID, SIM_CLIENT_SECRET = "sim-reddit-app-7Qm2", "sim-reddit-app-secret-b41e"
SIM_USERNAME, SIM_PASSWORD, SIM_SUBREDDIT = "AcmeOfficial", "sim-reddit-password-93c1", "acmeapp"
CAPABILITIES = Capabilities(streams=("posts",), effects=("reply",), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="reddit", summary="Reddit: read what customers say to the company, answer in their thread",
    config="connectors.reddit.config:RedditConfig", connector="connectors.reddit.connector:RedditConnector",
    capabilities=CAPABILITIES, default_connection="continuum_reddit",
    # A "script" app (reddit.com/prefs/apps) acting as the company's account: password grant, no browser step.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {"host": "API URL", "login": "Reddit username", "password": "Account password",
                       "extra": "App and subreddit"},
        "placeholders": {"host": "https://oauth.reddit.com", "login": "AcmeOfficial", "password": "the account's",
                         "extra": '{"client_id": "…", "client_secret": "…", "subreddit": "acmeapp"}'}}},
    simulator="connectors.reddit.simulator:RedditSimulator", seed="connectors.reddit.seed:seed",
    simulator_credentials={"login": SIM_USERNAME, "password": SIM_PASSWORD,
                           "extra": {"client_id": SIM_CLIENT_ID, "client_secret": SIM_CLIENT_SECRET,
                                     "subreddit": SIM_SUBREDDIT}},
    contract="connectors.reddit.contract:RedditHarness",
)
