"""Settings for one Discourse site, validated before any call is made."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field, SecretStr

from continuum.kit.config import ConnectorConfig


def _slugs(value: object) -> object:
    parts = value.split(",") if isinstance(value, str) else value  # Connection extras are often flat: "a,b"
    return tuple(str(p).strip().lower() for p in parts if str(p).strip()) if isinstance(parts, list | tuple) else parts


class DiscourseConfig(ConnectorConfig):
    system: ClassVar[str] = "discourse"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "api_username", "password": "api_key"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the forum's URL)", "login": "login (the API username)",
                                               "password": "password (the API key)"}

    api_username: str = Field(min_length=1)  # the company's account: what it wrote is the company's voice
    api_key: SecretStr
    # Slugs to read, each with its subcategories; empty reads all the key can see.
    categories: Annotated[tuple[str, ...], BeforeValidator(_slugs)] = ()
    page_size: int = Field(default=50, ge=1, le=1000)  # records per Page (the API serves 50 posts a call)
    # Look up each author's primary e-mail (admin key, a call per author): it joins a person's accounts.
    fetch_emails: bool = False
