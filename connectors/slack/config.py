"""Settings for one Slack workspace, validated before any call is made."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from continuum.kit.config import ConnectorConfig

# A target: "#name", a conversation id (C…, G…, D…), a user id (U…, W…: a DM from the app) or an e-mail.
TARGET = re.compile(r"^(#[^\s#<>|,@]{1,80}|[CGDUW][A-Z0-9]{2,}|[^@\s]+@[^@\s]+\.[^@\s]+)$")


class SlackConfig(ConnectorConfig):
    system: ClassVar[str] = "slack"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "password": "bot_token"}
    field_labels: ClassVar[dict[str, str]] = {"password": "password (the bot token, xoxb-...)"}
    default_url: ClassVar[str | None] = "https://slack.com"

    url: str = "https://slack.com"  # Slack itself (the API is at <url>/api/), or a simulator
    bot_token: SecretStr
    default_channel: str | None = None  # where an effect that names no channel goes
    # A maybe-applied retry looks for its key in this many pages of recent history (newest first).
    history_pages: int = Field(default=3, ge=1, le=20)
    history_page_size: int = Field(default=200, ge=1, le=999)
    mrkdwn: bool = True  # for the hub's own templates; customer text is escaped either way
    unfurl: bool = False  # no link previews, so customer links stay quiet
    # Listening (the `messages` stream): these channels or DMs (ids or "#name"); none = every channel the bot is in.
    listen_channels: list[str] = []
    # Messages per history page: 15 is the most Slack serves apps outside the Marketplace (one call a minute).
    history_limit: int = Field(default=15, ge=1, le=999)
    # The newest threads the bot started (expert threads) re-read each run for new replies and reactions.
    watch_threads: int = Field(default=3, ge=0, le=50)
    # The expert marks the answer in a ticket's thread with this reaction (its name, without colons).
    answer_reaction: str = "white_check_mark"

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        if not token.startswith("xoxb-"):  # never echo it: a secret even when of the wrong kind
            raise ValueError("bot_token must be a Slack bot token (starts with 'xoxb-')")
        return SecretStr(token)

    @field_validator("listen_channels")
    @classmethod
    def _listen(cls, value: list[str]) -> list[str]:
        wrong = [v for v in value if not TARGET.match(v.strip()) or "@" in v or v.strip()[:1] in ("U", "W")]
        if wrong:
            raise ValueError(f"listen_channels {wrong!r}: each must be '#name' or a conversation id (C…, G…, D…)")
        return [v.strip() for v in value]

    @field_validator("default_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if value and not TARGET.match(value):
            raise ValueError(f"default_channel {value!r} is not '#name', a channel or user id, or an e-mail address")
        return value or None
