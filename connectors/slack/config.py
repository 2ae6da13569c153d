"""Settings for one Slack workspace, validated before any call is made."""

from __future__ import annotations

import re

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from continuum.kit.config import ConnectorConfig

# A channel as the hub names it: "#name", a conversation id (C…, G…, D…), a user
# id (U…, W…: a direct message from the app) or an e-mail address (looked up).
_CHANNEL_NAME = re.compile(r"^#[^\s#<>|,@]{1,80}$")
_ID = re.compile(r"^[CGDUW][A-Z0-9]{2,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def valid_target(value: str) -> bool:
    return bool(_CHANNEL_NAME.match(value) or _ID.match(value) or _EMAIL.match(value))


class SlackConfig(ConnectorConfig):
    """Where Slack is, which bot we are, and where notifications go by default.

    ``bot_token`` is a bot token (``xoxb-…``) kept as a ``SecretStr`` so it never
    shows up in logs or ``repr``.  ``url`` is Slack itself; the Web API lives at
    ``<url>/api/<method>``, so a simulator's base URL works the same way.
    """

    system: ClassVar[str] = "slack"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "password": "bot_token"}
    field_labels: ClassVar[dict[str, str]] = {"password": "password (the bot token, xoxb-...)"}
    default_url: ClassVar[str | None] = "https://slack.com"

    url: str = Field(default="https://slack.com", min_length=1)
    bot_token: SecretStr
    # Used when an effect names no channel: "#support", "C0123ABCD"...
    default_channel: str | None = None
    # A retry of a maybe-applied notification searches this many pages of the
    # channel's recent history (newest first) for the message carrying its key.
    history_pages: int = Field(default=3, ge=1, le=20)
    history_page_size: int = Field(default=200, ge=1, le=999)
    # Slack mrkdwn in the hub's own templates (bold headings, links it built).
    # Customer text is escaped either way; False posts everything as plain text.
    mrkdwn: bool = True
    # Link and media previews of URLs in the text; off so customer links stay quiet.
    unfurl: bool = False

    @field_validator("url")
    @classmethod
    def _api_base(cls, value: str) -> str:
        # People paste the API base; accept it.
        return value[: -len("/api")] if value.endswith("/api") else value

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        if not token.startswith("xoxb-"):
            # Never echo the value: it is a secret even when it is the wrong kind.
            raise ValueError("bot_token must be a Slack bot token (starts with 'xoxb-')")
        return SecretStr(token)

    @field_validator("default_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not valid_target(value):
            raise ValueError(f"default_channel {value!r} is not '#name', a channel or user id, or an e-mail address")
        return value
