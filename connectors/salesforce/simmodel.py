"""The simulator's sObjects: which fields each type has, which it requires, how records and errors look.

Records are plain dicts (as Salesforce's REST API shows them) with datetimes for the stamps; :func:`render`
gives them the ``attributes`` block and Salesforce's ``2026-01-01T00:00:00.000+0000`` format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

Row = dict[str, Any]
SYSTEM_FIELDS = ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "CreatedById", "IsDeleted")


@dataclass(frozen=True)
class SObjectType:
    name: str
    prefix: str  # an Id's first three characters say its type
    fields: tuple[str, ...]  # writable ones, besides SYSTEM_FIELDS and the read-only ``computed``
    required: tuple[str, ...] = ()
    lengths: tuple[tuple[str, int], ...] = ()
    references: tuple[tuple[str, tuple[str, ...]], ...] = ()  # field -> the types it may point at
    computed: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()

    def known(self, name: str) -> str | None:
        """The field's own spelling (SOQL and the API are case-insensitive about names), or None."""
        for field in (*SYSTEM_FIELDS, *self.fields, *self.computed):
            if field.lower() == name.lower():
                return field
        return None


KEY = "Continuum_Key__c"
# The custom fields docs/connectors/salesforce.md asks an admin to add to Contact and Lead for the shipped
# contact mapping (the handle the hub learns, where it first heard from them, the customer's tier).
CONTACT_CUSTOM = ("Twitter_Handle__c", "Continuum_First_Channel__c", "Continuum_Tier__c")
TYPES = {t.name: t for t in (
    SObjectType("Contact", "003", ("FirstName", "LastName", "Email", "Phone", "Title", "AccountId", "OwnerId",
                                   "Description", "LeadSource", "MailingCity", "MailingCountry", *CONTACT_CUSTOM),
                required=("LastName",), lengths=(("LastName", 80), ("FirstName", 40), ("Email", 80)),
                computed=("Name",)),
    SObjectType("Lead", "00Q", ("FirstName", "LastName", "Email", "Phone", "Company", "Title", "Status",
                                "LeadSource", "Description", "OwnerId", *CONTACT_CUSTOM),
                required=("LastName", "Company"), lengths=(("LastName", 80), ("Company", 255)),
                computed=("Name", "IsConverted"), defaults=(("Status", "Open - Not Contacted"),
                                                            ("IsConverted", False))),
    SObjectType("Task", "00T", ("WhoId", "WhatId", "Subject", "Description", "ActivityDate", "Status", "Priority",
                                "Type", "TaskSubtype", "OwnerId", KEY),
                lengths=(("Subject", 255), ("Description", 32000), (KEY, 255)),
                references=(("WhoId", ("Contact", "Lead")),), defaults=(("Status", "Not Started"),
                                                                       ("Priority", "Normal"))),
    SObjectType("Case", "500", ("Subject", "Description", "Status", "Priority", "Origin", "ContactId", "Type",
                                "Reason", "SuppliedEmail", "SuppliedName", "OwnerId", KEY),
                lengths=(("Subject", 255), ("Description", 32000), (KEY, 255)),
                references=(("ContactId", ("Contact",)),), computed=("CaseNumber", "IsClosed", "ClosedDate"),
                defaults=(("Status", "New"), ("Priority", "Medium"), ("IsClosed", False))),
    SObjectType("CaseComment", "00a", ("ParentId", "CommentBody", "IsPublished"), required=("ParentId",),
                lengths=(("CommentBody", 4000),), references=(("ParentId", ("Case",)),),
                defaults=(("IsPublished", False),)),
)}
CLOSED_STATUSES = ("Closed",)


def sf_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def render(row: Row, base: str, fields: tuple[str, ...] | None = None) -> Row:
    """A record as the REST API shows it: ``attributes`` first, then the fields asked for (all by default)."""
    sobject = TYPES[str(row["_type"])]
    names = fields or tuple(k for k in row if not k.startswith("_"))
    shown: Row = {"attributes": {"type": sobject.name,
                                 "url": f"{base}/sobjects/{sobject.name}/{row['Id']}"}}
    for name in names:
        own = sobject.known(name) or name
        value = row.get(own)
        shown[own] = sf_time(value) if isinstance(value, datetime) else value
    return shown


def error(code: str, message: str, fields: list[str] | None = None) -> Row:
    """One entry of Salesforce's error list (``fields`` only where the API gives it)."""
    return {"message": message, "errorCode": code, **({"fields": fields} if fields is not None else {})}


def save_error(code: str, message: str, fields: list[str]) -> Row:
    """A failed record in an sObject collection's answer (``statusCode``, not ``errorCode``)."""
    return {"statusCode": code, "message": message, "fields": fields}
