"""Settings for one LinkedIn company page, validated before any call is made."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from continuum.kit.config import ConnectorConfig

API_URL = "https://api.linkedin.com"


class LinkedInConfig(ConnectorConfig):
    system: ClassVar[str] = "linkedin"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "organization", "password": "access_token"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the API URL, https://api.linkedin.com)",
                                               "login": "login (the organization's URN or id)",
                                               "password": "password (a page admin's access token)"}
    default_url: ClassVar[str | None] = API_URL

    organization: str  # urn:li:organization:<id>: what it wrote is the company's voice
    access_token: SecretStr
    api_version: str = Field(default="202511", pattern=r"^20\d{2}(0[1-9]|1[0-2])$")  # LinkedIn-Version: YYYYMM
    posts_watched: int = Field(default=20, ge=1, le=100)  # the page's newest posts whose comments are read
    page_size: int = Field(default=100, ge=1, le=100)  # elements per call (the API's `count`, at most 100)
    # Comments re-looked up for edits and deletions: read within this many days, at most this many.
    recheck_days: int = Field(default=7, ge=0, le=30)
    recheck_max: int = Field(default=300, ge=0, le=1000)
    # Members' own posts that mention the page, from the Organization Social Action Notifications finder:
    # needs the rw_organization_admin scope and LinkedIn's approval of the use case, so it is off by default.
    mentions: bool = False

    @field_validator("organization", mode="before")
    @classmethod
    def _urn(cls, value: object) -> object:
        """``1001`` and ``urn:li:organization:1001`` both name the page; the API wants the URN."""
        text = str(value).strip() if isinstance(value, str | int) else ""
        if text.isdigit():
            return f"urn:li:organization:{text}"
        if not text.startswith("urn:li:organization:") or not text.rpartition(":")[2].isdigit():
            raise ValueError("the organization must be urn:li:organization:<id> or its numeric id")
        return text
