"""GitHub Issues as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_LOGIN, SIM_TOKEN = "continuum-bot", "sim-github-token-7c1e"  # what the simulator accepts
SIM_REPOSITORY = "acme/sdk"
CAPABILITIES = Capabilities(streams=("issues",), effects=("create", "update", "comment"), bulk_sizes={})

PLUGIN = ConnectorPlugin(
    name="github", summary="GitHub: issues for what customers report and ask for; staff comments become answers",
    config="connectors.github.config:GithubConfig", connector="connectors.github.connector:GithubConnector",
    capabilities=CAPABILITIES, default_connection="continuum_github",
    # A fine-grained token (Issues: read and write; Metadata: read) on the one repository, or an App's token.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {"host": "API URL", "login": "Account login (optional)", "password": "Token"},
        "placeholders": {"host": "https://api.github.com (Enterprise Server: https://HOST/api/v3)",
                         "login": "acme-support-bot", "password": "github_pat_… (Issues: read and write)"},
    }, "conn-fields": {
        "repository": {"label": "Default repository", "schema": {"type": ["string", "null"]},
                       "description": "owner/name; used by the Test button, the hub config's options win in syncs."},
    }},
    simulator="connectors.github.simulator:GithubSimulator", seed="connectors.github.seed:seed",
    simulator_credentials={"login": SIM_LOGIN, "password": SIM_TOKEN, "extra": {"repository": SIM_REPOSITORY}},
    contract="connectors.github.contract:HARNESS",
    webhook="connectors.github.webhook:VERIFIER",
)
