"""Discourse as an Airflow connection type: the hook and the connection form.

An admin creates an API key (Admin → API) for the company account that posts
the answers; that account's user name goes with every call.
"""

from __future__ import annotations

from continuum.orchestration.hooks import ContinuumHook

CONNECTION_TYPE = {
    "connection-type": "discourse",
    "hook-class-name": "connectors.discourse.airflow.DiscourseHook",
    "hook-name": "Discourse (Continuum)",
    "ui-field-behaviour": {
        # Categories and page size are sync options in the hub config, not credentials.
        "hidden-fields": ["schema", "port", "extra"],
        "relabeling": {"host": "Discourse URL", "login": "API username", "password": "API key"},
        "placeholders": {
            "host": "https://forum.example.com",
            "login": "support (the account that posts answers)",
            "password": "API key from Admin → API",
        },
    },
}


class DiscourseHook(ContinuumHook):
    conn_type = "discourse"
    hook_name = "Discourse (Continuum)"
    default_conn_name = "continuum_discourse"
    connector = "discourse"
