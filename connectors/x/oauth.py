"""X's OAuth 2.0 token refresh: ``POST /2/oauth2/token`` with ``grant_type=refresh_token``.

X spends the refresh token on every use and answers a new one with the new access token (two hours by
default), so the pair lives in the hub's store (:class:`continuum.kit.oauth.RotatingTokens`).  A public
client sends its ``client_id`` in the form; a confidential one authenticates with HTTP Basic
(``client_id:client_secret``), as X's OAuth 2.0 reference says.  The call goes through the shared HTTP layer
(the session the client uses), which never repeats a POST that may have reached X: repeating a refresh
that X already honoured would spend a dead token, and X then revokes the whole chain.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests

from connectors.x.config import XConfig
from continuum.kit.errors import ClientError
from continuum.kit.oauth import Grant, RefreshRefused, RotatingTokens
from continuum.store.db import utcnow

TOKEN_PATH = "/2/oauth2/token"
# X's answers for a refresh token that is revoked, spent or malformed ("Value passed for the token was
# invalid." comes as invalid_request); RFC 6749 names the first.
REFUSALS = frozenset({"invalid_grant", "invalid_request"})


def refused_line(config: XConfig) -> str:
    return (f"X refused the refresh token for @{config.account}: re-authorise the app and put the new refresh "
            f"token in the Connection {config.connection_id or '(the X connection)'}")


def token_keeper(config: XConfig, session: requests.Session) -> RotatingTokens | None:
    """The account's rotating tokens when the Connection gives a refresh token (None: a fixed access token)."""
    if config.refresh_token is None or not config.client_id:
        return None
    return RotatingTokens("x", config.account.lower(), config.refresh_token.get_secret_value(),
                          lambda spent: refresh(config, session, spent))


def refresh(config: XConfig, session: requests.Session, refresh_token: str) -> Grant:
    """Spend ``refresh_token`` for a new pair; a refusal is one line naming the account and the Connection."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": config.client_id}
    secret = config.client_secret.get_secret_value() if config.client_secret else None
    try:
        answer = session.post(config.url + TOKEN_PATH, data=form, auth=(config.client_id, secret) if secret else None,
                              headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise ClientError("x", f"{type(exc).__name__} while refreshing the access token", method="POST",
                          path=TOKEN_PATH) from None
    body = _json(answer)
    if answer.status_code == 400 and str(body.get("error")) in REFUSALS:
        raise RefreshRefused("x", refused_line(config), status=400, code=str(body.get("error")))
    if answer.status_code in (401, 403):  # the client's own credentials: client_id or client_secret
        raise ClientError("x", f"{body.get('error_description') or body.get('error') or 'unauthorized'} (check "
                               "client_id, and client_secret for a confidential client)", status=answer.status_code,
                          method="POST", path=TOKEN_PATH)
    access, rotated, lifetime = body.get("access_token"), body.get("refresh_token"), body.get("expires_in")
    if answer.status_code != 200 or not isinstance(access, str) or not isinstance(rotated, str):
        # Never the body as such: a half-good answer may still hold a token.
        raise ClientError("x", f"unexpected answer to a token refresh ({body.get('error') or 'no tokens in it'})",
                          status=answer.status_code, method="POST", path=TOKEN_PATH)
    seconds = lifetime if isinstance(lifetime, int) and lifetime > 0 else 7200
    return Grant(access, rotated, utcnow() + timedelta(seconds=seconds))


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
