"""Slack as a Continuum system: notify a person or a team channel.

The hub uses Slack to tell people things: an HR question goes to #hr, an
SLA breach to the team's channel, a hand-over to one person.  So the
connector has one effect, ``notify``, and no streams yet.

Slack has no idempotency key.  Each message carries Slack *message metadata*
``{"event_type": "continuum_effect", "event_payload": {"key": <effect key>}}``;
it is invisible in the client.  A retry of a maybe-applied notification first
reads the channel's recent history with ``include_all_metadata=true`` (a few
pages, newest first: a retry follows its first attempt closely) and returns
the message it finds instead of posting a second one.

Targets (``fields["channel"]``, or the configured default):

* ``#name``: resolved to its id once per connector with ``conversations.list``;
* ``C…``/``G…``/``D…``: a conversation id, used as is;
* ``U…``/``W…``: a user id; Slack delivers it as a direct message from the app;
* ``person@example.com``: looked up with ``users.lookupByEmail``, then as above.

Scopes: ``chat:write``; ``channels:read`` (``groups:read`` for private channels)
to resolve names; ``channels:history``/``groups:history``/``im:history`` for
retries; ``im:write`` to find a person's DM on a retry; ``users:read.email``
for e-mail targets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from continuum.connector import Capabilities, Effect, EffectResult, Page
from connectors.slack.client import SlackClient, SlackError
from connectors.slack.config import SlackConfig, valid_target
from connectors.slack.markup import escape_text

log = logging.getLogger(__name__)

JSON = dict[str, Any]

EVENT_TYPE = "continuum_effect"
OBJECT_TYPE = "message"
MAX_TEXT = 40_000  # Slack truncates longer text; we refuse rather than lose the end


def effect_metadata(key: str) -> JSON:
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


def carries_key(message: JSON, key: str) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("key") == key


class SlackConnector:
    system = "slack"
    capabilities = Capabilities(streams=(), effects=("notify",), bulk_sizes={})

    def __init__(self, config: SlackConfig, client: SlackClient | None = None) -> None:
        self.config = config
        self.client = client or SlackClient(config)
        self._identity: JSON | None = None
        self._channel_ids: dict[str, str] | None = None  # "name" -> id, loaded on first "#name"
        self._missing: set[str] = set()  # names not found even after a reload
        self._user_ids: dict[str, str] = {}  # e-mail -> user id
        self._dm_ids: dict[str, str] = {}  # user id -> DM conversation id

    # -- identity -------------------------------------------------------------
    def _whoami(self) -> JSON:
        if self._identity is None:
            self._identity = self.client.auth_test()
        return self._identity

    @property
    def account(self) -> str | None:
        """The bot's user id (``U…``), from ``auth.test`` on first use; None if Slack cannot say."""
        try:
            user_id = self._whoami().get("user_id")
        except SlackError as exc:
            log.warning("slack: cannot tell who the bot is: %s", exc)
            return None
        return str(user_id) if user_id else None

    def check(self) -> None:
        """Raise :class:`SlackError` unless the token works and is a bot token."""
        self._identity = None
        identity = self._whoami()
        if not identity.get("bot_id"):
            raise SlackError("auth.test", "not_a_bot_token", 200,
                             f"the token acts as user {identity.get('user')!r}, not as a bot")

    # -- reading ------------------------------------------------------------
    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        raise ValueError(f"Slack has no stream {stream!r}: this connector only sends notifications "
                         f"(streams: {', '.join(self.capabilities.streams) or 'none'})")

    # -- writing ------------------------------------------------------------
    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        # chat.postMessage takes one message per call: one call per effect, each
        # failure reported on its own effect so the rest of the batch still goes out.
        return [self._write_one(effect) for effect in effects]

    def _write_one(self, effect: Effect) -> EffectResult:
        try:
            if effect.action != "notify":
                raise ValueError(f"Slack supports only 'notify', not {effect.action!r}")
            if effect.object_type != OBJECT_TYPE:
                raise ValueError(f"Slack notifications are messages, not {effect.object_type!r}")
            target = str(effect.fields.get("channel") or effect.target_id or self.config.default_channel or "")
            if not target:
                raise ValueError("fields['channel'] is missing and the connection has no default_channel")
            if not valid_target(target):
                raise ValueError(f"channel {target!r} is not '#name', a channel or user id, or an e-mail address")
            text = effect.fields.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ValueError("fields['text'] must be non-empty text")
            if len(text) > MAX_TEXT:
                raise ValueError(f"fields['text'] has {len(text)} characters; Slack takes at most {MAX_TEXT}")
            post_to = self._resolve(target)
            if effect.maybe_applied:
                found = self._find_own_message(post_to, effect.key)
                if found is not None:
                    channel_id, message = found
                    return self._result(effect, channel_id, message, found_existing=True)
            answer = self.client.post_message(post_to, text, effect_metadata(effect.key),
                                              mrkdwn=self.config.mrkdwn, unfurl=self.config.unfurl)
            channel_id, ts = answer.get("channel"), answer.get("ts")
            if not isinstance(channel_id, str) or not isinstance(ts, str):
                raise SlackError("chat.postMessage", "invalid_response", 200, "no channel or ts in the answer")
            return self._result(effect, channel_id, answer.get("message") or {"ts": ts})
        except (SlackError, ValueError) as exc:
            log.warning("slack: effect %s failed: %s", effect.key, exc)
            return EffectResult(key=effect.key, ok=False, object_type=OBJECT_TYPE, error=f"effect {effect.key}: {exc}")
        except Exception as exc:  # an odd answer must not lose the results of the rest of the batch
            log.exception("slack: effect %s failed unexpectedly", effect.key)
            return EffectResult(key=effect.key, ok=False, object_type=OBJECT_TYPE,
                                error=f"effect {effect.key}: unexpected {type(exc).__name__}: {exc}")

    def _result(self, effect: Effect, channel_id: str, message: JSON, found_existing: bool = False) -> EffectResult:
        ts = str(message.get("ts"))
        return EffectResult(
            key=effect.key,
            ok=True,
            external_id=f"{channel_id}:{ts}",
            object_type=OBJECT_TYPE,
            version=ts,
            url=self._permalink(channel_id, ts),
            found_existing=found_existing,
        )

    def _permalink(self, channel_id: str, ts: str) -> str | None:
        """``https://<workspace>.slack.com/archives/<channel>/p<ts without dot>``, Slack's permalink form."""
        try:
            base = str(self._whoami().get("url") or "")
        except SlackError:
            return None
        if not base:
            return None
        return f"{base.rstrip('/')}/archives/{channel_id}/p{ts.replace('.', '')}"

    # -- targets --------------------------------------------------------------
    def _resolve(self, target: str) -> str:
        """What to give ``chat.postMessage``: a conversation id or a user id."""
        if target.startswith("#"):
            return self._channel_id(target[1:])
        if "@" in target:
            return self._user_id(target)
        return target

    def _channel_id(self, name: str) -> str:
        name = name.lower()
        if self._channel_ids is None or (name not in self._channel_ids and name not in self._missing):
            # Loaded on first use, and reloaded once per unknown name (a channel made since).
            self._channel_ids = self._load_channels()
        if name not in self._channel_ids:
            self._missing.add(name)
            raise SlackError("conversations.list", "channel_not_found", None, f"#{name}")
        return self._channel_ids[name]

    def _load_channels(self) -> dict[str, str]:
        found: dict[str, str] = {}
        cursor: str | None = None
        while True:
            page = self.client.list_conversations(cursor)
            for channel in page.get("channels") or []:
                if isinstance(channel, dict) and channel.get("id") and channel.get("name"):
                    found[str(channel["name"]).lower()] = str(channel["id"])
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return found

    def _user_id(self, email: str) -> str:
        key = email.lower()
        if key not in self._user_ids:
            user = self.client.lookup_user_by_email(email).get("user") or {}
            if not user.get("id"):
                raise SlackError("users.lookupByEmail", "invalid_response", 200, "no user id in the answer")
            self._user_ids[key] = str(user["id"])
        return self._user_ids[key]

    def _history_channel(self, post_to: str) -> str:
        """The conversation whose history holds what we posted to ``post_to``."""
        if post_to[:1] in ("U", "W"):  # a person: the app's DM with them
            if post_to not in self._dm_ids:
                channel = self.client.open_dm(post_to).get("channel") or {}
                if not channel.get("id"):
                    raise SlackError("conversations.open", "invalid_response", 200, "no channel id in the answer")
                self._dm_ids[post_to] = str(channel["id"])
            return self._dm_ids[post_to]
        return post_to

    def _find_own_message(self, post_to: str, key: str) -> tuple[str, JSON] | None:
        """The message carrying ``key`` in the last few history pages, with its channel id."""
        channel_id = self._history_channel(post_to)
        cursor: str | None = None
        for _ in range(self.config.history_pages):
            page = self.client.history(channel_id, cursor, limit=self.config.history_page_size)
            for message in page.get("messages") or []:
                if isinstance(message, dict) and carries_key(message, key):
                    return channel_id, message
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not page.get("has_more") or not cursor:
                return None
        log.info("slack: no message with key %s in the last %d history pages of %s; posting",
                 key, self.config.history_pages, channel_id)
        return None

    # -- markup -------------------------------------------------------------
    def escape_text(self, text: str) -> str:
        return escape_text(text)
