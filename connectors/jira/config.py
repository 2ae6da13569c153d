"""Settings of one Jira connection: where, as whom, and which project.

Built from the resolved :class:`~continuum.connector.ConnectionInfo` (address
and credentials, from an Airflow Connection or the environment) plus the
``options`` dict of the sync definition (project, issue type, conventions).
Options win over the connection's ``extra`` so that one Jira connection can
serve several projects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from continuum.connector import ConnectionInfo

# Fields that Jira v3 only accepts as Atlassian Document Format; effects carry
# them as plain text and the connector converts them.
DEFAULT_RICH_TEXT_FIELDS: tuple[str, ...] = ("description", "environment")


class JiraConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    login: str = Field(description="Atlassian account e-mail (basic auth) or a name for the PAT user")
    api_token: SecretStr
    auth: Literal["basic", "pat"] = "basic"
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,254}$")
    issue_type: str = "Task"
    label_prefix: str = "continuum-"
    page_size: int = Field(default=50, ge=1, le=100)
    # A comment is public when it has no visibility restriction.  Teams that
    # want an explicit opt-in set a prefix too ("[public]"): then only comments
    # starting with it are public, and the prefix is removed from the text.
    public_comment_prefix: str | None = None
    rich_text_fields: tuple[str, ...] = DEFAULT_RICH_TEXT_FIELDS
    # A remote link back to the customer's post costs one call per issue (Jira has no bulk
    # form); teams that rely on the source URL in the description can turn it off.
    remote_links: bool = True

    @field_validator("url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            raise ValueError("the Jira URL is empty")
        if "://" not in value:
            value = "https://" + value  # Airflow Connections often hold a bare host
        return value

    @field_validator("label_prefix")
    @classmethod
    def _no_spaces(cls, value: str) -> str:
        if any(ch.isspace() for ch in value):
            raise ValueError("Jira labels cannot contain spaces, so neither can label_prefix")
        return value

    @classmethod
    def from_connection(cls, conn: ConnectionInfo, options: Mapping[str, Any] | None = None) -> JiraConfig:
        merged: dict[str, Any] = {**(conn.extra or {}), **(options or {})}
        if not conn.login:
            raise ValueError(f"connection {conn.conn_id!r} has no login (the Jira account e-mail)")
        if not conn.password:
            raise ValueError(f"connection {conn.conn_id!r} has no password (the Jira API token)")
        known = set(cls.model_fields) - {"url", "login", "api_token"}
        # Connection extras may carry keys meant for other tools; options may not.
        stray = sorted(set(options or {}) - known)
        if stray:
            raise ValueError(f"unknown Jira option(s): {', '.join(stray)}")
        values = {k: v for k, v in merged.items() if k in known}
        if "rich_text_fields" in values:
            values["rich_text_fields"] = tuple(values["rich_text_fields"])
        return cls(url=conn.host, login=conn.login, api_token=SecretStr(conn.password), **values)

    def browse_url(self, issue_key: str) -> str:
        return f"{self.url}/browse/{issue_key}"

    def label_for(self, effect_key: str) -> str:
        return f"{self.label_prefix}{effect_key}"
