"""Typed rows: what the store's named queries return.

Whole rows are ``TypedDict``s, so at run time they stay the plain dicts the
engine always handled: templates read them (``interaction.text``), triage
merges them (``{**row, **values}``) and the CLI prints them as JSON, while
mypy checks every key.  Narrow queries return small named tuples.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, TypedDict

from continuum.connector import JSON


class CustomerRow(TypedDict):
    id: int
    display_name: str
    primary_email: str | None
    tier: str
    merged_into: int | None
    created_at: datetime
    updated_at: datetime
    owner: str | None  # the CRM contact's owner (an id in the CRM), from the CRM sync


class IdentityRow(TypedDict):
    id: int
    customer_id: int
    system: str
    account_id: str
    handle: str | None
    email: str | None
    email_verified: bool
    created_at: datetime


class FeatureRequestRow(TypedDict):
    id: int
    title: str
    summary: str
    status: str
    votes: int
    match_text: str
    voices_hash: str | None
    shipped_at: datetime | None
    created_at: datetime
    updated_at: datetime


class InteractionRow(TypedDict):
    id: int
    source_system: str
    source_id: str
    customer_id: int | None
    thread_id: str | None
    parent_id: str | None
    direction: str
    kind: str
    title: str
    text: str
    language: str | None
    url: str | None
    channel: str | None
    created_at: datetime | None
    updated_at: datetime | None
    status: str
    team: str | None
    priority: str | None
    sla_policy: str | None
    sla_due: datetime | None
    answered_at: datetime | None
    route: str | None
    feature_request_id: int | None
    in_reply_to: int | None
    is_thread_start: bool
    content_hash: str
    override: JSON | None
    first_seen_at: datetime
    last_seen_at: datetime


class LinkRow(TypedDict):
    id: int
    record_type: str
    record_id: int
    system: str
    object_type: str
    external_id: str
    url: str | None
    external_version: str | None
    content_hash: str | None
    synced_at: datetime


class OutboxRow(TypedDict):
    id: int
    idempotency_key: str
    pipeline: str
    system: str
    action: str
    object_type: str
    record_type: str
    record_id: int
    target_id: str | None
    payload: JSON
    context: JSON
    state: str
    attempts: int
    last_error: str | None
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    retry_since: datetime | None


class DeadLetterRow(TypedDict):
    id: int
    pipeline: str
    system: str
    stream: str
    stage: str
    record_key: str
    field: str | None
    error: str
    payload: Any  # the record as it came (usually an object; replay maps it again)
    attempts: int
    state: str
    created_at: datetime
    updated_at: datetime
    retry_since: datetime | None


class StoredVersion(NamedTuple):
    """An interaction's id and the hash of the content last stored for it."""

    id: int
    content_hash: str


class Voice(NamedTuple):
    """One inbound interaction behind a feature request, with its author's name."""

    id: int
    customer_id: int | None
    display_name: str | None
    channel: str | None
    url: str | None
    text: str | None
    created_at: datetime | None


class SlaItem(TypedDict):
    """An unanswered interaction with a due time, as ``continuum status`` shows it."""

    id: int
    source_system: str
    source_id: str
    team: str | None
    priority: str | None
    sla_policy: str | None
    sla_due: datetime
    title: str


class NamedCustomer(NamedTuple):
    """A customer with one of its identities' handle and e-mail (one per identity)."""

    id: int
    display_name: str
    handle: str | None
    email: str | None


class TicketToAnswer(NamedTuple):
    """A ticket the hub made, and the votes of its feature request (None for one interaction's ticket)."""

    system: str
    external_id: str
    record_type: str
    votes: int | None
    record_id: int
