"""One Confluence connection's settings: the site, the account and its API token, the space and the parent page."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from continuum.kit.config import ConnectorConfig


class ConfluenceConfig(ConnectorConfig):
    system: ClassVar[str] = "confluence"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "login", "password": "api_token"}
    field_labels: ClassVar[dict[str, str]] = {
        "host": "host (the site, https://YOUR-SITE.atlassian.net)",
        "login": "login (the account's e-mail)",
        "password": "password (the account's API token)",
    }
    default_scheme: ClassVar[str | None] = "https"

    login: str = Field(min_length=1)
    api_token: SecretStr
    space: str = Field(pattern=r"^[A-Za-z0-9~_]{1,255}$")  # the space key the hub's pages go into
    parent_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")  # None: the space's home page
    label: str = Field(default="continuum", pattern=r"^[a-z0-9_-]{1,50}$")  # on every page the hub made
    conflict_retries: int = Field(default=3, ge=0, le=10)  # a page edited by staff meanwhile: read it again

    @field_validator("url")
    @classmethod
    def _site(cls, value: str) -> str:
        # People paste the wiki's address; the API paths start at the site, /wiki included by the client.
        return value[: -len("/wiki")] if value.endswith("/wiki") else value

    @property
    def wiki(self) -> str:
        return f"{self.url}/wiki"
