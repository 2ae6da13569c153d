"""Settings for one Facebook Page, validated before any call is made."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from continuum.kit.config import ConnectorConfig


class FacebookConfig(ConnectorConfig):
    system: ClassVar[str] = "facebook"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "page_id", "password": "access_token"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (https://graph.facebook.com)",
                                               "login": "login (the Page id)",
                                               "password": "password (the Page access token)"}
    default_scheme: ClassVar[str | None] = "https"
    default_url: ClassVar[str | None] = "https://graph.facebook.com"

    page_id: str = Field(pattern=r"^\d+$")  # the Page: what it wrote (from.id) is the company's voice
    access_token: SecretStr  # a Page access token (pages_read_engagement, pages_manage_engagement, pages_messaging)
    api_version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$")
    page_size: int = Field(default=50, ge=1, le=1000)  # records per Page handed to the engine
    # The edit/deletion recheck window: posts and comments this young (from the newest post) are looked up again.
    recheck_days: int = Field(default=7, ge=0, le=90)
    recheck_max: int = Field(default=300, ge=0, le=2000)  # ids kept for the recheck (6 bulk calls at 300)
    max_posts: int = Field(default=100, ge=1, le=1000)  # posts of the feed watched for new comments
    messenger: bool = True  # read Messenger conversations (needs pages_messaging)
