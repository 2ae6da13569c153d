"""Settings of one Jira connection: where, as whom, and which project.

Built from the resolved :class:`~continuum.connector.ConnectionInfo` (address
and credentials, from an Airflow Connection or the environment) plus the
``options`` dict of the sync definition (project, issue type, conventions).
Options win over the connection's ``extra`` so that one Jira connection can
serve several projects.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from continuum.kit.config import ConnectorConfig

# Fields that Jira v3 only accepts as Atlassian Document Format; effects carry
# them as plain text and the connector converts them.
DEFAULT_RICH_TEXT_FIELDS: tuple[str, ...] = ("description", "environment")


class JiraConfig(ConnectorConfig):
    system: ClassVar[str] = "jira"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "login", "password": "api_token"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the Jira URL)", "login": "login (the Jira account e-mail)",
                                               "password": "password (the Jira API token)"}
    default_scheme: ClassVar[str | None] = "https"  # Airflow Connections often hold a bare host

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

    @field_validator("label_prefix")
    @classmethod
    def _no_spaces(cls, value: str) -> str:
        if any(ch.isspace() for ch in value):
            raise ValueError("Jira labels cannot contain spaces, so neither can label_prefix")
        return value

    def browse_url(self, issue_key: str) -> str:
        return f"{self.url}/browse/{issue_key}"

    def label_for(self, effect_key: str) -> str:
        return f"{self.label_prefix}{effect_key}"
