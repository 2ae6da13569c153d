"""Slack as a Continuum system: ``notify`` a person or a team channel, read the ``messages`` stream, ``reply``.

Slack has no idempotency key, so each message carries the effect's key in its *message metadata*
(invisible in the client).  A maybe-applied retry first reads a few pages of recent history (newest
first: a retry follows its first attempt closely) and returns the message with its key, if there.
Scopes: chat:write, channels:read, groups:read, users:read.email; for retries and listening *:history, im:write.
Listening (``listen.py``): the app's events wake a run, which reads ``conversations.history`` from the cursor.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import suppress
from itertools import islice
from typing import Any

from connectors.slack.client import SlackClient, SlackError, need
from connectors.slack.config import TARGET, SlackConfig
from connectors.slack.listen import MESSAGES, MessageReader
from connectors.slack.markup import escape_text
from connectors.slack.plugin import CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page
from continuum.kit.dispatch import EffectDispatcher, succeeded
from continuum.kit.pagination import dig

log = logging.getLogger(__name__)

EVENT_TYPE = "continuum_effect"
MAX_TEXT = 40_000  # Slack truncates longer text; we refuse rather than lose the end


def carries_key(message: Any, key: str) -> bool:
    return bool(dig(message, "metadata.event_type") == EVENT_TYPE and dig(message, "metadata.event_payload.key") == key)


class SlackConnector:
    system = "slack"
    capabilities = CAPABILITIES

    def __init__(self, config: SlackConfig, client: SlackClient | None = None) -> None:
        self.config = config
        self.client = client or SlackClient(config)
        self.dispatch = EffectDispatcher(self.system, {"notify": self._notify, "reply": self._reply})
        # The bot user (U…) and workspace, from auth.test after check() or the first post: building the
        # connector, or isinstance() (which reads every member on Python 3.11), must call nothing.
        self.account: str | None = None
        self._identity: JSON | None = None
        # Once per connector: "#name" -> channel id ("" = not found after a reload), e-mail -> user, user -> DM.
        self._ids: dict[str, str] = {}

    def check(self) -> None:
        """Raise :class:`SlackError` unless the token works and is a bot token."""
        identity = self.client.call("auth.test")
        self._identity, self.account = identity, str(identity.get("user_id") or "") or None
        if not identity.get("bot_id"):
            raise SlackError("auth.test", "not_a_bot_token", f"the token acts as user {identity.get('user')!r}")

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        if stream != MESSAGES.name:
            raise ValueError(f"Slack has no stream {stream!r}; it has {MESSAGES.name!r}")
        if self._identity is None:
            self.check()  # who the bot is: its own messages are not a customer's
        reader = MessageReader(self.client, self.config.history_limit, self.config.history_limit, self._is_own,
                               self._permalink, self.config.watch_threads)
        yield from reader.read(self._listened(), cursor)

    def _listened(self) -> list[str]:
        """The configured channels as ids, or every channel the bot is a member of."""
        if self.config.listen_channels:
            return [self._resolve(c) if c.startswith("#") else c for c in self.config.listen_channels]
        pages = self.client.pages("conversations.list", {"types": "public_channel,private_channel",
                                                         "exclude_archived": "true", "limit": 200})
        return sorted(str(c["id"]) for page in pages for c in page.get("channels") or [] if c.get("is_member"))

    def _is_own(self, message: JSON) -> bool:
        bot = str((self._identity or {}).get("bot_id") or "")
        return bool(bot and message.get("bot_id") == bot) or bool(self.account and message.get("user") == self.account)

    def _permalink(self, channel_id: str, ts: str) -> str | None:
        base = str((self._identity or {}).get("url") or "").rstrip("/")
        return f"{base}/archives/{channel_id}/p{ts.replace('.', '')}" if base else None

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)  # chat.postMessage takes one message per call

    def escape_text(self, text: str) -> str:
        return escape_text(text)

    def _notify(self, effect: Effect) -> EffectResult:
        target = str(effect.fields.get("channel") or effect.target_id or self.config.default_channel or "")
        text = effect.fields.get("text")
        if not TARGET.match(target):
            raise ValueError(f"channel {target!r} is not '#name', a channel or user id, or an e-mail address" if target
                             else "fields['channel'] is missing and the connection has no default_channel")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise ValueError(f"fields['text'] must be non-empty text of at most {MAX_TEXT} characters")
        post_to = self._resolve(target)
        if effect.maybe_applied and (found := self._find_own_message(post_to, effect.key)):
            return self._result(effect, *found, found_existing=True)
        # json.dumps spells booleans as Slack does ("true"); a form carries the metadata as a JSON string.
        metadata = json.dumps({"event_type": EVENT_TYPE, "event_payload": {"key": effect.key}}, separators=(",", ":"))
        answer = self.client.call("chat.postMessage", "POST", form={
            "channel": post_to, "text": text, "metadata": metadata, "mrkdwn": json.dumps(self.config.mrkdwn),
            "unfurl_links": json.dumps(self.config.unfurl), "unfurl_media": json.dumps(self.config.unfurl)})
        return self._result(effect, need(answer, "chat.postMessage", "channel"), need(answer, "chat.postMessage", "ts"))

    def _reply(self, effect: Effect) -> EffectResult:
        """An answer in the customer's thread: ``target_id`` is the thread, ``<channel>:<thread ts>``."""
        channel, _, thread_ts = str(effect.target_id or "").partition(":")
        text = effect.fields.get("text")
        if not channel or not thread_ts:
            raise ValueError(f"a reply needs the thread '<channel>:<ts>' as target_id, not {effect.target_id!r}")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise ValueError(f"fields['text'] must be non-empty text of at most {MAX_TEXT} characters")
        if effect.maybe_applied and (found := self._find_in_thread(channel, thread_ts, effect.key)):
            return self._result(effect, channel, found, found_existing=True)
        metadata = json.dumps({"event_type": EVENT_TYPE, "event_payload": {"key": effect.key}}, separators=(",", ":"))
        answer = self.client.call("chat.postMessage", "POST", form={
            "channel": channel, "thread_ts": thread_ts, "text": text, "metadata": metadata,
            "mrkdwn": json.dumps(self.config.mrkdwn), "unfurl_links": json.dumps(self.config.unfurl),
            "unfurl_media": json.dumps(self.config.unfurl)})
        return self._result(effect, need(answer, "chat.postMessage", "channel"), need(answer, "chat.postMessage", "ts"))

    def _find_in_thread(self, channel: str, thread_ts: str, key: str) -> str | None:
        params = {"channel": channel, "ts": thread_ts, "limit": self.config.history_page_size,
                  "include_all_metadata": "true"}
        for page in islice(self.client.pages("conversations.replies", params), self.config.history_pages):
            for message in page.get("messages") or []:
                if carries_key(message, key):
                    return need(message, "conversations.replies", "ts")
        return None

    def _result(self, effect: Effect, channel_id: str, ts: str, found_existing: bool = False) -> EffectResult:
        if self._identity is None:  # the permalink is on the workspace URL that auth.test gives
            with suppress(SlackError):  # the message is out: a missing link must not fail the effect
                self.check()
        base = str((self._identity or {}).get("url") or "").rstrip("/")
        url = f"{base}/archives/{channel_id}/p{ts.replace('.', '')}" if base else None
        return succeeded(effect, f"{channel_id}:{ts}", version=ts, url=url, found_existing=found_existing)

    def _resolve(self, target: str) -> str:
        """What ``chat.postMessage`` takes: a conversation id (C…, G…, D…) or a user id (U…, W…: a DM)."""
        if target.startswith("#"):
            return self._channel_id(target.lower())
        if "@" in target:
            return self._lookup(target.lower(), "users.lookupByEmail", "user.id", params={"email": target})
        return target

    def _channel_id(self, name: str) -> str:
        if name not in self._ids:  # the first "#name", or a new one (a channel made since the last load)
            pages = self.client.pages("conversations.list", {"types": "public_channel,private_channel",
                                                             "exclude_archived": "true", "limit": 200})
            self._ids.update({f"#{c['name']}".lower(): str(c["id"]) for page in pages
                              for c in page.get("channels") or [] if c.get("id") and c.get("name")})
            self._ids.setdefault(name, "")
        if not self._ids[name]:
            raise SlackError("conversations.list", "channel_not_found", name)
        return self._ids[name]

    def _lookup(self, ref: str, method: str, path: str, **request: Any) -> str:
        if ref not in self._ids:
            self._ids[ref] = need(self.client.call(method, **request), method, path)
        return self._ids[ref]

    def _find_own_message(self, post_to: str, key: str) -> tuple[str, str] | None:
        """The channel id and ts of the message carrying ``key`` in the last few history pages."""
        channel_id = post_to
        if post_to[:1] in ("U", "W"):  # a person: what we posted is in the app's DM with them
            channel_id = self._lookup(post_to, "conversations.open", "channel.id", http_method="POST",
                                      form={"users": post_to})
        params = {"channel": channel_id, "limit": self.config.history_page_size, "include_all_metadata": "true"}
        for page in islice(self.client.pages("conversations.history", params), self.config.history_pages):
            for message in page.get("messages") or []:
                if carries_key(message, key):
                    return channel_id, need(message, "conversations.history", "ts")
        log.info("slack: no message with key %s in the recent history of %s; posting", key, channel_id)
        return None
