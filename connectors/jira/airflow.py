"""Jira as an Airflow connection type: the hook and the connection form.

Cloud: the site URL, the bot account's e-mail and an API token (basic auth).
Data Center / Server: the URL, the account's user name and a personal access
token, with *Authentication* set to ``pat`` (sent as a Bearer token).
"""

from __future__ import annotations

from continuum.orchestration.hooks import ContinuumHook

CONNECTION_TYPE = {
    "connection-type": "jira",
    "hook-class-name": "connectors.jira.airflow.JiraHook",
    "hook-name": "Jira (Continuum)",
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {
            "host": "Jira URL",
            "login": "E-mail (Cloud) or user name (Data Center)",
            "password": "API token or personal access token",
        },
        "placeholders": {
            "host": "https://acme.atlassian.net",
            "login": "hub-bot@acme.com",
            "password": "API token (Cloud) or personal access token (Data Center)",
        },
    },
    "conn-fields": {
        "auth": {
            "label": "Authentication",
            "schema": {"type": ["string", "null"], "enum": ["basic", "pat"], "default": "basic"},
            "description": "basic: e-mail + API token (Jira Cloud). "
                           "pat: personal access token (Jira Data Center / Server).",
        },
        "project": {
            "label": "Default project key",
            "schema": {"type": ["string", "null"]},
            "description": "Used by the Test button; the hub config's options win in syncs.",
        },
    },
}


class JiraHook(ContinuumHook):
    conn_type = "jira"
    hook_name = "Jira (Continuum)"
    default_conn_name = "continuum_jira"
    connector = "jira"
