"""One Salesforce connection's settings: the login URL, the connected app, the integration user, and options."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, SecretStr

from continuum.kit.config import ConnectorConfig

_FIELD = r"^[A-Za-z][A-Za-z0-9_]{0,39}(__c)?$"  # an API field name (custom ones end in __c)


class SalesforceConfig(ConnectorConfig):
    system: ClassVar[str] = "salesforce"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "username", "password": "password"}
    field_labels: ClassVar[dict[str, str]] = {
        "host": "host (the login URL: https://login.salesforce.com, https://test.salesforce.com or My Domain)",
        "login": "login (the integration user's username)",
        "password": "password (the user's password followed by the security token)"}
    default_scheme: ClassVar[str | None] = "https"
    default_url: ClassVar[str | None] = "https://login.salesforce.com"

    client_id: str = Field(min_length=1)  # the connected app's consumer key
    client_secret: SecretStr
    # With a username: OAuth username-password flow; without: client credentials (the app's run-as user).
    username: str | None = None
    password: SecretStr | None = None
    api_version: str = Field(default="59.0", pattern=r"^[0-9]{2}\.0$")
    key_field: str = Field(default="Continuum_Key__c", pattern=_FIELD)  # custom text field on Task and Case
    case_origin: str = Field(default="Web", min_length=1, max_length=40)
    # A CA bundle file to trust besides the system's (a TLS-inspecting proxy's; the simulator's own).
    ca_bundle: str | None = None
    page_size: int = Field(default=200, ge=200, le=2000)  # Salesforce's query batch size (Sforce-Query-Options)
    # Custom fields read with each Contact and Lead, for the contact mapping (a handle, a tier): SOQL reads only
    # the fields it names.
    contact_fields: list[Annotated[str, Field(pattern=_FIELD)]] = Field(default_factory=list, max_length=50)
