"""One Jira connection's settings; the sync's options (project...) win over the connection's ``extra``."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr

from continuum.kit.config import ConnectorConfig


class JiraConfig(ConnectorConfig):
    system: ClassVar[str] = "jira"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "login", "password": "api_token"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the Jira URL)", "login": "login (the Jira account e-mail)",
                                               "password": "password (the Jira API token)"}
    default_scheme: ClassVar[str | None] = "https"  # Airflow Connections often hold a bare host

    login: str  # the account's e-mail (basic auth), or a name for the PAT user
    api_token: SecretStr
    auth: Literal["basic", "pat"] = "basic"  # pat: a personal access token (Data Center / Server)
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,254}$")
    issue_type: str = "Task"
    label_prefix: str = Field(default="continuum-", pattern=r"^\S*$")  # Jira labels cannot contain spaces
    page_size: int = Field(default=50, ge=1, le=100)
    # Comments without a visibility restriction are public; with a prefix ("[public]"), only those starting with it.
    public_comment_prefix: str | None = None
    rich_text_fields: tuple[str, ...] = ("description", "environment")  # Jira v3 takes these only as ADF
    remote_links: bool = True  # a link back to the customer's post costs a call per issue (there is no bulk form)

    def browse_url(self, issue_key: str) -> str:
        return f"{self.url}/browse/{issue_key}"

    def label_for(self, effect_key: str) -> str:
        return f"{self.label_prefix}{effect_key}"
