"""The X simulator's OAuth 2.0 token endpoint: refresh tokens that rotate, access tokens that expire.

X's API description names the token URL (``components.securitySchemes.OAuth2UserToken``) but does not
describe the endpoint, so this follows X's OAuth 2.0 reference and RFC 6749:

* ``POST /2/oauth2/token``, form-encoded, ``grant_type=refresh_token`` with ``refresh_token`` and
  ``client_id``; a confidential client authenticates with HTTP Basic (``client_id:client_secret``) and is
  refused without it (401 ``unauthorized_client``, "Missing valid authorization header", as X answers);
* the answer is ``token_type``, ``expires_in`` (``token_lifetime_s``, two hours by default), ``access_token``,
  ``scope`` and a NEW ``refresh_token``: the one sent is spent;
* a spent, revoked or unknown refresh token is 400 ``invalid_request`` "Value passed for the token was
  invalid." (X's words; RFC 6749 would say ``invalid_grant``); sending a spent one again also revokes every
  token of that chain, as X does when it sees a refresh token replayed;
* an access token it issued works until it expires, then the API endpoints answer 401.

``issue_refresh_token()`` is what a person gets by authorising the app; ``expire_access_tokens()`` lets
two hours pass for the tokens issued so far.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from continuum.simkit import Response, SimRequest, Simulator, route

JSON = dict[str, Any]
SIM_CLIENT_ID = "sim-x-public-client"  # a public client (Native App, PKCE): client_id in the form
SIM_CONFIDENTIAL_ID, SIM_CONFIDENTIAL_SECRET = "sim-x-web-client", "sim-x-web-client-secret-55a1"
SCOPE = "tweet.read tweet.write users.read dm.read dm.write offline.access"
INVALID = "Value passed for the token was invalid."


@dataclass
class SimRefresh:
    client_id: str
    chain: int  # every token of one authorisation
    spent: bool = False


class OAuthTokens(Simulator):
    """Mixed into :class:`~connectors.x.simulator.XSimulator`: the tokens it issues and checks."""

    company_id: int

    if TYPE_CHECKING:  # defined by XSimulator
        def _json(self, body: JSON, status: int = 200, problem: bool = False) -> Response: ...

    clients: ClassVar[dict[str, str | None]] = {SIM_CLIENT_ID: None, SIM_CONFIDENTIAL_ID: SIM_CONFIDENTIAL_SECRET}

    def __init__(self) -> None:
        super().__init__()
        self.token_lifetime_s = 7200
        self._refresh_tokens: dict[str, SimRefresh] = {}
        self._access_tokens: dict[str, tuple[int, float]] = {}  # token -> (its chain, expiry epoch)
        self._revoked: set[int] = set()
        self._chains = 0

    # -- human-side helpers ---------------------------------------------------------
    def issue_refresh_token(self, client_id: str = SIM_CLIENT_ID) -> str:
        """A new authorisation of the app by the company account: a refresh token starting a new chain."""
        with self.lock:
            self._chains += 1
            return self._new_refresh(client_id, self._chains)

    def expire_access_tokens(self) -> None:
        """As if the issued access tokens' lifetime passed."""
        with self.lock:
            self._access_tokens = {t: (chain, 0.0) for t, (chain, _) in self._access_tokens.items()}

    def revoke(self) -> None:
        """The company account revoked the app: every token issued so far stops working."""
        with self.lock:
            self._revoked.update(range(1, self._chains + 1))

    def issued_access(self, token: str) -> str:
        """``"ok"``, ``"expired"`` or ``"unknown"`` for an access token sent to the API."""
        found = self._access_tokens.get(token)
        if found is None or found[0] in self._revoked:
            return "unknown"
        return "ok" if found[1] > time.time() else "expired"

    def _new_refresh(self, client_id: str, chain: int) -> str:
        token = f"sim-x-refresh-{secrets.token_urlsafe(18)}"
        self._refresh_tokens[token] = SimRefresh(client_id, chain)
        return token

    # -- the endpoint -------------------------------------------------------------------
    def _oauth_error(self, status: int, error: str, description: str) -> Response:
        return self._json({"error": error, "error_description": description}, status)

    @route("/2/oauth2/token", "POST", public=True)
    def token(self, request: SimRequest) -> Response:
        form = request.form
        if form.get("grant_type") != "refresh_token":
            return self._oauth_error(400, "unsupported_grant_type", "Only refresh_token is supported here")
        basic = request.basic_credentials()
        client_id = basic[0] if basic else str(form.get("client_id") or "")
        if client_id not in self.clients:
            return self._oauth_error(400, "invalid_request", "Missing required parameter [client_id].")
        secret = self.clients[client_id]
        if secret is not None and (basic is None or basic[1] != secret):
            return self._oauth_error(401, "unauthorized_client", "Missing valid authorization header")
        found = self._refresh_tokens.get(str(form.get("refresh_token") or ""))
        if found is None or found.client_id != client_id or found.chain in self._revoked:
            return self._oauth_error(400, "invalid_request", INVALID)
        if found.spent:
            self._revoked.add(found.chain)  # a replayed refresh token: X ends the whole chain
            return self._oauth_error(400, "invalid_request", INVALID)
        found.spent = True
        self.count("token_refreshes")
        access = f"sim-x-access-{secrets.token_urlsafe(18)}"
        self._access_tokens[access] = (found.chain, time.time() + self.token_lifetime_s)
        return self._json({"token_type": "bearer", "expires_in": self.token_lifetime_s, "access_token": access,
                           "scope": SCOPE, "refresh_token": self._new_refresh(client_id, found.chain)})
