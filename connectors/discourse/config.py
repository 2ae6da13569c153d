"""Settings for one Discourse site, validated before any call is made."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from continuum.kit.config import ConnectorConfig


class DiscourseConfig(ConnectorConfig):
    """Where the forum is, who we act as, and what we read.

    ``api_username`` is the company's account: replies are posted as that user
    and the engine treats what it wrote as the company's voice.  ``api_key`` is
    a ``SecretStr`` so it never shows up in logs or ``repr``.
    """

    system: ClassVar[str] = "discourse"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "api_username", "password": "api_key"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the forum's URL)",
                                               "login": "login (the API username: the company's account)",
                                               "password": "password (the API key)"}

    api_username: str = Field(min_length=1)
    api_key: SecretStr
    # Category slugs to read; empty reads every category the key can see.  A
    # parent category's slug includes its subcategories.
    categories: tuple[str, ...] = ()
    # Records per Page handed to the engine (the API itself returns 50 posts a call).
    page_size: int = Field(default=50, ge=1, le=1000)
    # Look up each new author's primary e-mail (needs an admin API key): it is what
    # joins one person's accounts across channels.  One call per author per run.
    fetch_emails: bool = False

    @field_validator("categories", mode="before")
    @classmethod
    def _normalise_categories(cls, value: object) -> object:
        # Accept a comma-separated string too: Airflow Connection extras are often flat.
        if isinstance(value, str):
            value = [part for part in value.split(",")]
        if isinstance(value, (list, tuple)):
            return tuple(str(part).strip().lower() for part in value if str(part).strip())
        return value
