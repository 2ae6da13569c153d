"""One GitHub connection's settings: the API URL, the token, and the repository the hub's issues live in."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field, SecretStr

from continuum.kit.config import ConnectorConfig

# GitHub's author_association values: a typo in the option is an error, not a silently narrower staff.
Association = Literal["OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER",
                      "MANNEQUIN", "NONE"]


def _names(value: object) -> object:
    parts = value.split(",") if isinstance(value, str) else value  # Connection extras are often flat: "a,b"
    return tuple(str(p).strip().upper() for p in parts if str(p).strip()) if isinstance(parts, list | tuple) else parts


class GithubConfig(ConnectorConfig):
    system: ClassVar[str] = "github"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "login", "password": "token"}
    field_labels: ClassVar[dict[str, str]] = {
        "host": "host (the API URL: https://api.github.com, or https://HOST/api/v3 on Enterprise Server)",
        "login": "login (the account the token acts as)", "password": "password (the token)"}
    default_scheme: ClassVar[str | None] = "https"
    default_url: ClassVar[str | None] = "https://api.github.com"

    token: SecretStr
    # The token's account (an App's is "<slug>[bot]"); without it, GET /user tells (one call a run).
    login: str | None = None
    repository: str = Field(pattern=r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")  # owner/name
    label: str = Field(default="continuum", min_length=1, max_length=50)  # on every hub issue; reads filter by it
    # Whose comments are staff answers: GitHub's author_association (anyone may comment on a public repository).
    staff_associations: Annotated[tuple[Association, ...], BeforeValidator(_names)] = ("OWNER", "MEMBER",
                                                                                        "COLLABORATOR")
    public_comment_prefix: str | None = None  # when set, only staff comments starting with it are answers
    page_size: int = Field(default=50, ge=1, le=100)
    find_pages: int = Field(default=10, ge=1, le=100)  # pages of 100 hub issues a retry looks through for its key

    def repo_path(self, tail: str = "") -> str:
        return f"/repos/{self.repository}{tail}"
