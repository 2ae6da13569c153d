"""A thin client for the few Slack Web API methods the connector needs.

Everything goes through :func:`continuum.http.new_session`, so retries,
throttling, timeouts and call counting are the same as for every other
system.  Slack answers rate limits with HTTP 429 and ``Retry-After``; the
shared layer waits and retries those (a 429 means Slack did not act, so even
``chat.postMessage`` is safe to resend).  Almost every other error is an
HTTP 200 whose body says ``{"ok": false, "error": "<code>"}``; this client
turns both into :class:`SlackError`.

The token goes in an ``Authorization: Bearer`` header, never in a URL or a
form body.  Methods are called the way Slack's Web API description declares
them: ``auth.test``, ``conversations.*`` reads and ``users.lookupByEmail`` as
GET with query parameters, ``chat.postMessage`` and ``conversations.open`` as
POST with an ``application/x-www-form-urlencoded`` body.  Nothing touches the
network until a method is called.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from continuum.http import new_session
from connectors.slack.config import SlackConfig

JSON = dict[str, Any]

# Errors that mean the credentials, not the request, are wrong.
AUTH_ERRORS = frozenset({"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive",
                         "no_permission", "missing_scope", "not_allowed_token_type"})
_HINTS = {
    "not_authed": "no token was sent",
    "invalid_auth": "the bot token is not valid for this workspace; check the connection's password",
    "token_revoked": "the bot token was revoked; reinstall the app and update the connection",
    "token_expired": "the bot token expired; rotate it and update the connection",
    "account_inactive": "the bot user or workspace is deactivated",
    "channel_not_found": "no such channel, or the bot cannot see it",
    "not_in_channel": "the bot is not a member of the channel; invite it with /invite @bot",
    "is_archived": "the channel is archived",
    "msg_too_long": "the text is longer than Slack accepts",
    "no_text": "the message has no text",
    "users_not_found": "no user in the workspace has that e-mail address",
    "ratelimited": "Slack is rate limiting this token; the call will be retried later",
}


class SlackError(Exception):
    """A Slack answer that is not a success: an ``ok: false`` code or an HTTP failure."""

    def __init__(self, method: str, error: str, status: int | None = None, detail: str = "") -> None:
        hint = _HINTS.get(error, "")
        parts = [f"Slack {method}: {error}"]
        if status is not None and status != 200:
            parts[0] += f" (HTTP {status})"
        if detail:
            parts.append(detail)
        if hint:
            parts.append(hint)
        super().__init__(" - ".join(parts))
        self.method = method
        self.error = error
        self.status = status

    @property
    def is_auth_error(self) -> bool:
        return self.error in AUTH_ERRORS or self.status in (401, 403)


class SlackClient:
    def __init__(self, config: SlackConfig, session: requests.Session | None = None) -> None:
        self.api_url = config.url + "/api/"
        self.session = session or new_session("slack")
        self.session.headers.update({
            "Authorization": f"Bearer {config.bot_token.get_secret_value()}",
            "Accept": "application/json",
        })

    def call(self, method: str, http_method: str = "GET", params: JSON | None = None, form: JSON | None = None) -> JSON:
        """Call one Web API method; return the body of an ``ok: true`` answer."""
        try:
            response = self.session.request(http_method, self.api_url + method,
                                            params=_encode(params), data=_encode(form))
        except requests.RequestException as exc:
            raise SlackError(method, "request_failed", None, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 429:
            # The shared layer already waited and retried; this is what was left.
            after = response.headers.get("Retry-After", "?")
            raise SlackError(method, "ratelimited", 429, f"Retry-After {after}s")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            text = (response.text or response.reason or "").strip()[:200]
            raise SlackError(method, "invalid_response", response.status_code, f"answer is not a JSON object: {text!r}")
        if response.status_code >= 400 or body.get("ok") is not True:
            error = str(body.get("error") or f"http_{response.status_code}")
            detail = ""
            if body.get("needed"):  # missing_scope says which scope is needed
                detail = f"needs scope {body['needed']} (token has {body.get('provided', '?')})"
            raise SlackError(method, error, response.status_code, detail)
        return body

    # -- the methods ----------------------------------------------------------
    def auth_test(self) -> JSON:
        return self.call("auth.test")

    def post_message(self, channel: str, text: str, metadata: JSON | None = None,
                     mrkdwn: bool = True, unfurl: bool = False) -> JSON:
        form: JSON = {"channel": channel, "text": text, "mrkdwn": mrkdwn,
                      "unfurl_links": unfurl, "unfurl_media": unfurl}
        if metadata is not None:
            # Form bodies carry structured values as URL-encoded JSON strings.
            form["metadata"] = json.dumps(metadata, separators=(",", ":"))
        return self.call("chat.postMessage", "POST", form=form)

    def history(self, channel: str, cursor: str | None = None, limit: int = 200,
                include_all_metadata: bool = True) -> JSON:
        params: JSON = {"channel": channel, "limit": limit, "include_all_metadata": include_all_metadata}
        if cursor:
            params["cursor"] = cursor
        return self.call("conversations.history", params=params)

    def list_conversations(self, cursor: str | None = None, limit: int = 200,
                           types: str = "public_channel,private_channel") -> JSON:
        params: JSON = {"types": types, "exclude_archived": True, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self.call("conversations.list", params=params)

    def open_dm(self, user_id: str) -> JSON:
        return self.call("conversations.open", "POST", form={"users": user_id})

    def lookup_user_by_email(self, email: str) -> JSON:
        return self.call("users.lookupByEmail", params={"email": email})


def _encode(values: JSON | None) -> JSON | None:
    """Booleans as Slack spells them ("true"/"false"), not Python's "True"."""
    if values is None:
        return None
    return {k: ("true" if v else "false") if isinstance(v, bool) else v for k, v in values.items() if v is not None}
