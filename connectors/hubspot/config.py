"""One HubSpot connection's settings: the API URL, the private app token, and where the hub's keys live."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from continuum.kit.config import ConnectorConfig

_PROPERTY = r"^[a-z][a-z0-9_]{0,99}$"  # HubSpot's internal property names


class HubspotConfig(ConnectorConfig):
    system: ClassVar[str] = "hubspot"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "password": "token"}
    field_labels: ClassVar[dict[str, str]] = {
        "host": "host (the API URL: https://api.hubapi.com)", "password": "password (the private app's token)"}
    default_scheme: ClassVar[str | None] = "https"
    default_url: ClassVar[str | None] = "https://api.hubapi.com"

    token: SecretStr
    # A custom text property (on contacts, notes and tickets) that holds the key of what the hub wrote: a retry
    # and `continuum reconcile` find the object by it. Create it once in HubSpot (see the connector's page).
    key_property: str = Field(default="continuum_key", pattern=_PROPERTY)
    # The contact properties a read asks for: those the contact mapping reads (add any your mapping names).
    contact_properties: tuple[str, ...] = ("email", "firstname", "lastname", "hubspot_owner_id",
                                           "lifecyclestage", "hs_lead_status", "twitterhandle",
                                           "continuum_first_channel")
    page_size: int = Field(default=100, ge=1, le=200)  # the search endpoints' `limit` (200 at most)
    # An unknown author made a lead (`crm.unknown_authors: lead`): lifecycle stage `lead` and this lead status
    # (one of the `hs_lead_status` property's internal values: NEW, OPEN, IN_PROGRESS, ...).
    lead_status: str = Field(default="NEW", pattern=r"^[A-Z_]{1,40}$")
    ticket_pipeline: str = "0"  # the help desk's default pipeline
    ticket_stage: str = "1"  # "New"
    closed_stages: tuple[str, ...] = ("4",)  # "Closed"
    # Notes staff add to a ticket are internal; one that starts with this is an answer for the customer.
    public_comment_prefix: str = Field(default="Reply:", min_length=1)
