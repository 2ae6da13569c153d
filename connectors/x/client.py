"""The X API v2 calls the connector needs, through X's official SDK (``xdk``) on the shared HTTP layer.

``xdk.Client`` takes the base URL and keeps a plain ``requests.Session`` in ``.session``; we swap in the
shared layer's session (retries, 429s, the rate-limit window, call counts), so every call is ours to govern
while xdk builds the requests and loads each answer into its models (generated from X's description).
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import requests
from xdk import Client  # type: ignore[import-untyped]
from xdk.direct_messages.models import CreateByConversationIdRequest  # type: ignore[import-untyped]
from xdk.posts.models import CreateRequest  # type: ignore[import-untyped]

from connectors.x.config import XConfig
from connectors.x.oauth import token_keeper
from continuum.http import new_session
from continuum.kit import JSON, ClientError, Fetched, RateLimitHeaders
from continuum.kit.oauth import RotatingTokens

# X answers every call with its 15-minute window for that endpoint and token; the reset is epoch seconds.
RATE_LIMITS = RateLimitHeaders(remaining="x-rate-limit-remaining", reset="x-rate-limit-reset")
# id, text and edit_history_post_ids always come; each expansion also puts its field on the post (author_id...).
POST_FIELDS = ["conversation_id", "created_at", "edit_controls"]
EXPANSIONS = ["author_id", "referenced_posts", "in_reply_to_user_id"]
USER_FIELDS = ["name", "username"]
# id, event_type and text always come; expansions=sender_id puts sender_id on the event and the sender in includes.
DM_FIELDS = ["created_at", "dm_conversation_id"]
DM_EXPANSIONS = ["sender_id"]


class XError(ClientError):
    # A 403 is not always the credentials: X refuses a duplicate post, a reply it may not make, or a message
    # to someone who does not take them (or a conversation we are not in) with it too.
    not_auth: ClassVar[frozenset[str]] = frozenset({"duplicate", "reply-refused", "dm-refused"})

    @property
    def is_auth_error(self) -> bool:
        return self.status == 401 or (self.status == 403 and self.code not in self.not_auth)


def _explain(response: requests.Response) -> tuple[str, str | None]:
    """The answer's own words (problem ``detail``/``title``, or ``errors[].message``) and our code for it."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return (response.text or response.reason or "no answer")[:300], None
    errors: list[Any] = body["errors"] if isinstance(body.get("errors"), list) else []
    text = str(body.get("detail") or body.get("title") or "; ".join(
        str(e.get("message") or e.get("detail")) for e in errors if isinstance(e, dict)) or body)[:300]
    lowered = text.lower()
    code = "duplicate" if "duplicate" in lowered else "reply-refused" if "reply" in lowered else None
    if code is None and ("messages to" in lowered or "participant" in lowered):
        code = "dm-refused"
    return text, code


class XClient:
    def __init__(self, config: XConfig, session: requests.Session | None = None) -> None:
        fixed = config.access_token.get_secret_value() if config.access_token else ""
        self.sdk = Client(base_url=config.url, access_token=fixed or "unset")
        self.sdk.session = session or new_session("x", rate_limits=RATE_LIMITS)
        # With a refresh token, the access token is the store's (rotated), fetched before each call.
        self.tokens: RotatingTokens | None = token_keeper(config, self.sdk.session)

    def _call(self, what: str, call: Any, *args: Any, **kwargs: Any) -> JSON:
        """One SDK call (a page for a paged one) as JSON; failures become one line naming X.

        With rotating tokens, a 401 (X revoked the token early, or another process's clock differs) gets one
        new token and one more try; a second 401 is the credentials' failure as usual."""
        for attempt in (1, 2):
            if self.tokens is not None:
                self.sdk.access_token = self.tokens.access_token()
            try:
                return self._once(what, call, *args, **kwargs)
            except XError as exc:
                if exc.status != 401 or self.tokens is None or attempt == 2:
                    raise
                self.tokens.after_unauthorized(self.sdk.access_token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, what: str, call: Any, *args: Any, **kwargs: Any) -> JSON:
        try:
            answer = call(*args, **kwargs)
            if inspect.isgenerator(answer):  # xdk pages on its own; we take one page and page with `walk`
                answer = next(answer, None)
        except ClientError:
            raise  # the shared layer's own (a spent window)
        except requests.HTTPError as exc:
            text, code = _explain(exc.response)
            raise XError("x", text, status=exc.response.status_code, code=code, path=what) from None
        except requests.RequestException as exc:
            raise XError("x", f"{type(exc).__name__}: {exc}", path=what) from None
        dumped = answer.model_dump(mode="json", by_alias=True, exclude_none=True) if answer is not None else {}
        return dumped if isinstance(dumped, dict) else {}

    def me(self) -> JSON:
        return dict(self._call("/2/users/me", self.sdk.users.get_me, user_fields=USER_FIELDS).get("data") or {})

    def timeline(self, which: str, user_id: str, params: JSON) -> Fetched:
        """One page of the account's mentions (``which="mentions"``) or own posts, newest first, authors included."""
        call = self.sdk.users.get_mentions if which == "mentions" else self.sdk.users.get_posts
        return Fetched(self._call(f"/2/users/{user_id}/{which}", call, user_id, post_fields=POST_FIELDS,
                                  expansions=EXPANSIONS, user_fields=USER_FIELDS, **params))

    def lookup(self, ids: list[str]) -> JSON:
        """Up to 100 posts by id: ``data`` for those that exist, ``errors`` (resource-not-found) for the rest."""
        return self._call("/2/tweets", self.sdk.posts.get_by_ids, ids, post_fields=POST_FIELDS,
                          expansions=EXPANSIONS, user_fields=USER_FIELDS)

    def create(self, text: str, reply_to: str) -> JSON:
        body = CreateRequest(text=text, reply={"in_reply_to_tweet_id": reply_to})
        data = self._call("POST /2/tweets", self.sdk.posts.create, body).get("data")
        if not isinstance(data, dict) or not str(data.get("id", "")).isdigit():
            raise XError("x", f"unexpected answer to a new post: {str(data)[:200]}", status=201)
        return data

    def dm_events(self, params: JSON, conversation: str | None = None) -> Fetched:
        """One page of the account's message events (of one conversation if named), newest first, senders
        included.  Joins and leaves are not asked for: only what people wrote."""
        dms = self.sdk.direct_messages
        fields: JSON = {"event_types": ["MessageCreate"], "dm_event_fields": DM_FIELDS, "expansions": DM_EXPANSIONS,
                        "user_fields": USER_FIELDS, **params}
        if conversation is None:
            return Fetched(self._call("/2/dm_events", dms.get_events, **fields))
        return Fetched(self._call(f"/2/dm_conversations/{conversation}/dm_events", dms.get_events_by_conversation_id,
                                  conversation, **fields))

    def send_dm(self, conversation: str, text: str) -> str:
        """A message into the conversation, as the company account; the new event's id."""
        body = CreateByConversationIdRequest(text=text)
        data = self._call(f"POST /2/dm_conversations/{conversation}/messages",
                          self.sdk.direct_messages.create_by_conversation_id, conversation, body).get("data")
        if not isinstance(data, dict) or not str(data.get("dm_event_id", "")).isdigit():
            raise XError("x", f"unexpected answer to a new direct message: {str(data)[:200]}", status=201)
        return str(data["dm_event_id"])
