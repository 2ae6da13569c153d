"""Settings for the company's Mastodon account on its server, validated before any call is made."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from continuum.kit.config import ConnectorConfig


class MastodonConfig(ConnectorConfig):
    system: ClassVar[str] = "mastodon"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "account", "password": "access_token"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the server's URL, https://mastodon.example)",
                                               "login": "login (the company's handle, acme@mastodon.example)",
                                               "password": "password (the application's access token)"}
    default_scheme: ClassVar[str | None] = "https"

    # The company's handle: what it wrote is the company's voice.  A bare name is on the connection's server.
    account: str = Field(min_length=1)
    access_token: SecretStr
    page_size: int = Field(default=40, ge=1, le=80)  # notifications per call (Mastodon serves at most 80)
    # Statuses re-looked up for edits and deletions: read within this many days, at most this many (20 a call).
    recheck_days: int = Field(default=7, ge=0, le=30)
    recheck_max: int = Field(default=100, ge=0, le=400)

    @field_validator("account", mode="before")
    @classmethod
    def _bare(cls, value: object) -> object:
        """``@acme@mastodon.example`` is how people write a handle; the API's ``acct`` has no leading ``@``."""
        return value.strip().lstrip("@").lower() if isinstance(value, str) else value

    @property
    def domain(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def handle(self) -> str:
        """The full handle, ``name@domain``, as the hub keys the company's account (and every author)."""
        return self.account if "@" in self.account else f"{self.account}@{self.domain}"
