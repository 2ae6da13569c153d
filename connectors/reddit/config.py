"""Settings for one Reddit script app acting as the company's account, validated before any call is made."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from continuum.kit.config import ConnectorConfig

OAUTH_URL, WWW_URL = "https://oauth.reddit.com", "https://www.reddit.com"


class RedditConfig(ConnectorConfig):
    system: ClassVar[str] = "reddit"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "username", "password": "password"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the API URL, https://oauth.reddit.com)",
                                               "login": "login (the company's Reddit username)",
                                               "password": "password (that account's password)"}
    default_url: ClassVar[str | None] = OAUTH_URL

    username: str = Field(min_length=3)  # the company's account: what it wrote is the company's voice
    password: SecretStr
    client_id: str = Field(min_length=1)  # the script app's id (under its name on reddit.com/prefs/apps)
    client_secret: SecretStr
    subreddit: str = Field(min_length=2)  # the company's own subreddit, without "r/"
    # Where tokens come from; None: www.reddit.com for the real API, else the same host (a proxy, the simulator).
    token_url: str | None = None
    # Ids re-looked up for edits and deletions: read within this many days, at most this many (bulk: 100 a call).
    recheck_days: int = Field(default=7, ge=0, le=30)
    recheck_max: int = Field(default=300, ge=0, le=1000)
    page_size: int = Field(default=100, ge=1, le=100)  # Reddit's listing limit per call

    @field_validator("username", "subreddit", mode="before")
    @classmethod
    def _bare(cls, value: object) -> object:
        """``u/AcmeOfficial`` and ``r/acmeapp`` are how people write them; the API wants the bare names."""
        return value.strip().removeprefix("/").split("/", 1)[-1] if isinstance(value, str) else value

    @property
    def auth_url(self) -> str:
        return (self.token_url or (WWW_URL if self.url == OAUTH_URL else self.url)).rstrip("/")
