"""Settings for one X account, validated before any call is made."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from continuum.kit.config import ConnectorConfig


class XConfig(ConnectorConfig):
    system: ClassVar[str] = "x"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "account", "password": "access_token"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the API's URL)", "login": "login (the company's @handle)",
                                               "password": "password (an OAuth 2.0 user access token)"}
    default_url: ClassVar[str | None] = "https://api.x.com"
    # The refresh flow's credentials come from the Connection's extra only (never the hub config file).
    extra_fields: ClassVar[frozenset[str]] = frozenset({"refresh_token", "client_id", "client_secret"})

    account: str = Field(min_length=1, max_length=16)  # the company's handle; the token must belong to it
    # A fixed user access token; with a refresh token the hub keeps its own (rotated) one in the store instead.
    access_token: SecretStr | None = None
    # The seed of X's rotating refresh tokens (scope offline.access): taken the first time, and again only
    # when it changes in the Connection; the hub keeps the latest one, sealed, in its store.
    refresh_token: SecretStr | None = None
    client_id: str = ""  # the app's OAuth 2.0 Client ID (X developer portal, "Keys and tokens")
    client_secret: SecretStr | None = None  # only for a confidential client (Web App, Automated App or bot)
    page_size: int = Field(default=100, ge=5, le=100)  # max_results per call (X: 5..100), also records per Page
    read_own_posts: bool = True  # the company's own posts too (the roots customers reply under)
    # Direct messages too: the token then needs the dm.read and dm.write scopes, so it is asked for.
    direct_messages: bool = False
    # Posts read this recently are looked up again each run (100 a call) to catch edits and deletions.
    recheck_days: int = Field(default=7, ge=0, le=30)
    recheck_max: int = Field(default=300, ge=0, le=1000)

    @field_validator("account", mode="before")
    @classmethod
    def _handle(cls, value: object) -> object:
        return value.strip().lstrip("@") if isinstance(value, str) else value

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.refresh_token is not None and not self.client_id.strip():
            raise ValueError("a refresh_token needs the app's client_id in the Connection's extra too")
        if self.access_token is None and self.refresh_token is None:
            raise ValueError("no credentials: put the user access token in the password, or refresh_token and "
                             "client_id in the extra")
        return self
