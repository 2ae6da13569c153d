"""The ``jira`` library client, built lazily and wired into the shared HTTP layer.

Why these constructor arguments:

* ``rest_api_version="3"``: the library defaults to v2 (wiki markup bodies);
  we talk v3 so that every body is ADF and customer text stays literal.
* ``max_retries=0``: the library's ``ResilientSession`` would otherwise retry
  429/503 with its own sleeps *on top of* our adapter; one retry policy only.
* ``get_server_info=False``: no ``/serverInfo`` call at construction; the
  client is built on first use and must not touch the network by itself.

A few operations go through the library's session directly (:func:`rest`)
because the library method adds calls the API does not need or cannot send
what we need (see ``connector.py`` for each case).
"""

from __future__ import annotations

import json
from typing import Any

import jira
from jira.utils import json_loads

from connectors.jira.config import JiraConfig
from continuum.http import RetryPolicy, mount

SYSTEM = "jira"


def build_client(config: JiraConfig, policy: RetryPolicy | None = None) -> jira.JIRA:
    options: dict[str, Any] = {
        "rest_api_version": "3",
        "check_update": False,
        # The library's default headers ask for no-cache and skip XSRF checks; keep them.
    }
    token = config.api_token.get_secret_value()
    auth: dict[str, Any]
    if config.auth == "pat":
        auth = {"token_auth": token}
    else:
        auth = {"basic_auth": (config.login, token)}
    client = jira.JIRA(
        server=config.url,
        options=options,
        max_retries=0,
        get_server_info=False,
        **auth,
    )
    # With get_server_info=False the library does not know it talks to Cloud,
    # and its @cloud_api methods (enhanced_search_issues among them) then
    # return None after a log line instead of calling the API.  We only
    # support Cloud (REST v3), so say so rather than spend a /serverInfo call.
    client.deploymentType = "Cloud"
    # Every request the library makes now goes through our throttling,
    # retries, timeouts and per-system counters.
    mount(client._session, SYSTEM, policy)
    return client


def rest(client: jira.JIRA, method: str, path: str, *, params: dict[str, Any] | None = None,
         body: Any = None) -> Any:
    """Call ``/rest/api/3/<path>`` on the library's session and return the JSON (``{}`` if empty).

    Non-2xx answers raise ``jira.JIRAError`` (the session's own check), just
    like the library's methods, so callers handle one error type.
    """
    url = client._get_url(path)
    data = None if body is None else json.dumps(body)
    response = client._session.request(method.upper(), url, params=params, data=data)
    return json_loads(response)
