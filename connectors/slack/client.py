"""A thin client for the Slack Web API methods the connector calls, on the shared HTTP layer.

That layer waits out and retries a 429 (Slack did not act, so even a post may
be resent).  Most other errors come as HTTP 200 with ``"ok": false``.  Reads are
GET, writes POST a form, as Slack's description declares; the token goes only in a header.
"""

from __future__ import annotations

from collections.abc import Iterator

import requests

from connectors.slack.config import SlackConfig
from continuum.connector import JSON
from continuum.http import new_session
from continuum.kit.errors import ClientError
from continuum.kit.pagination import CursorPaginator, Fetched, dig, walk
from continuum.kit.ratelimit import RateLimitHeaders, parse_retry_after

_HINTS = {
    "invalid_auth": "the bot token is not valid for this workspace; check the connection's password",
    "token_revoked": "the bot token was revoked; reinstall the app and update the connection",
    "token_expired": "the bot token expired; rotate it and update the connection",
    "channel_not_found": "no such channel, or the bot cannot see it",
    "not_in_channel": "the bot is not a member of the channel; invite it with /invite @bot",
    "ratelimited": "Slack is rate limiting this token; replay the effect later",
}


# Slack sends only a 429 with Retry-After; declaring it makes a wait over a minute stop the run cleanly (the
# next run resumes at the cursor) instead of holding a worker: history reads are allowed once a minute.
RATE_LIMITS = RateLimitHeaders()


class SlackError(ClientError):
    """A Slack answer that is not a success; ``code`` is Slack's error string (``invalid_auth``)."""

    auth_codes = frozenset({"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive",
                            "no_permission", "missing_scope", "not_allowed_token_type"})

    def __init__(self, method: str, code: str, detail: str = "", status: int | None = None,
                 retry_after: float | None = None) -> None:
        message = " - ".join(part for part in (code, detail, _HINTS.get(code, "")) if part)
        super().__init__("slack", message, status=status, code=code, method=method, retry_after=retry_after)


def need(body: JSON, method: str, path: str) -> str:
    """One value of an answer (``user.id``); an answer without it is an error, never an empty id."""
    value = dig(body, path)
    if not isinstance(value, str) or not value:
        raise SlackError(method, "invalid_response", f"no {path} in the answer")
    return value


class SlackClient:
    def __init__(self, config: SlackConfig) -> None:
        self.api_url = config.url.removesuffix("/api") + "/api/"  # people paste the API base
        self.session = new_session("slack", rate_limits=RATE_LIMITS)
        self.session.headers["Authorization"] = f"Bearer {config.bot_token.get_secret_value()}"

    def call(self, method: str, http_method: str = "GET", params: JSON | None = None, form: JSON | None = None) -> JSON:
        """Call one Web API method; return the body of an ``ok: true`` answer."""
        try:
            response = self.session.request(http_method, self.api_url + method, params=params, data=form)
        except requests.RequestException as exc:
            raise SlackError(method, "request_failed", f"{type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        status, after = response.status_code, response.headers.get("Retry-After")
        if isinstance(body, dict) and body.get("ok") is True and status < 400:
            return body
        if status == 429:  # what is left after the shared layer waited and retried
            code, detail = "ratelimited", f"Retry-After {after}s"
        elif isinstance(body, dict):  # missing_scope says which scope it needs
            code, needed = str(body.get("error") or f"http_{status}"), body.get("needed")
            detail = f"needs scope {needed} (token has {body.get('provided', '?')})" if needed else ""
        else:
            code, detail = "invalid_response", f"not a JSON object: {(response.text or '')[:200]!r}"
        raise SlackError(method, code, detail, status, parse_retry_after(after))

    def pages(self, method: str, params: JSON) -> Iterator[JSON]:
        """Each page of a cursor-paged read, fetched only when asked for; a cursor that comes back fails loudly."""
        paginator = CursorPaginator("slack", params=params)
        return (page.body for page in walk(lambda request: Fetched(self.call(method, params=request)), paginator))
