"""Outbound planning, in one place: mapping → template context → render → outbox row.

Every effect the hub plans on a system that comes from a mapping (a ticket,
a follow-up comment, a chat notification, a feature request's ticket and its
voices, a reply, a shipped notice, an SLA alert) goes through
:func:`plan_outbound`.  A mapping error never stops the stage: it becomes a
``plan`` dead letter that names the record, the system and the field, and
``continuum replay`` runs it again after the fix.

The effect is recorded, not sent: :mod:`continuum.engine.apply` sends it.
Its idempotency key is deterministic (pipeline, system, action, subject), so
planning the same thing again on a re-run is a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.engine.context import SyncContext
from continuum.mapping import MappingError, MappingFile, map_outbound
from continuum.store.customers import get_customer, handle_in, identities_of, people
from continuum.store.dead_letters import dead_letter
from continuum.store.outbox import add_effect
from continuum.store.rows import CustomerRow, IdentityRow


def effect_key(pipeline: str, system: str, action: str, subject: str) -> str:
    digest = hashlib.sha256(f"{pipeline}|{system}|{action}|{subject}".encode()).hexdigest()
    return f"ck-{digest[:24]}"


_PEOPLE = "continuum.people"


def prefetch_people(conn: Connection, customer_ids: Iterable[int]) -> None:
    """Load these customers and their identities for this transaction's templates (a page: two queries)."""
    conn.info[_PEOPLE] = (conn.get_transaction(), people(conn, customer_ids))


def forget_people(conn: Connection) -> None:
    conn.info.pop(_PEOPLE, None)


def _prefetched(conn: Connection, customer_id: int) -> tuple[CustomerRow, list[IdentityRow]] | None:
    found = conn.info.get(_PEOPLE)
    # Only within the transaction that loaded them: the pooled connection's info outlives it.
    if found is None or found[0] is not conn.get_transaction():
        return None
    return found[1].get(customer_id)  # type: ignore[no-any-return]


def template_context(conn: Connection, ctx: SyncContext, row: Mapping[str, Any], target_system: str) -> JSON:
    """What a template about one interaction may use: the interaction, its customer, and both systems."""
    customer: JSON = {}
    known = _prefetched(conn, row["customer_id"]) if row.get("customer_id") is not None else None
    if known is not None:
        found_row, identities = known
        customer = dict(found_row)
        customer["handle"] = next((i["handle"] for i in identities if i["system"] == row["source_system"]), None)
        customer["target_account"] = next((i["account_id"] for i in identities if i["system"] == target_system),
                                          None)
    elif row.get("customer_id") is not None:
        found = get_customer(conn, row["customer_id"])
        customer = dict(found) if found else {}
        customer["handle"] = handle_in(conn, row["customer_id"], row["source_system"])
        # Their account in the target (a CRM contact's id, say): a ticket there can be filed on that record.
        customer["target_account"] = next((i["account_id"] for i in identities_of(conn, row["customer_id"])
                                           if i["system"] == target_system), None)
    return {"interaction": row, "customer": customer, "target": ctx.system_context(target_system),
            "source": ctx.system_context(row["source_system"])}


@dataclass(frozen=True)
class Failure:
    """Where a mapping error goes: the ``plan`` dead letter it becomes."""

    system: str
    record_key: str
    about: str  # the error starts with it, e.g. "interaction 12 → jira"
    payload: JSON
    stream: str = "outbound"


def plan_failed(conn: Connection, ctx: SyncContext, failure: Failure, exc: MappingError) -> None:
    """Keep a planning failure as a dead letter (for errors found before rendering, too)."""
    dead_letter(conn, pipeline=ctx.pipeline_name, system=failure.system, stream=failure.stream, stage="plan",
                record_key=failure.record_key, field=exc.field,
                error=f"{failure.about}: field {exc.field}: {exc.message}", payload=failure.payload)


@dataclass(frozen=True)
class Outbound:
    """One effect to render from a mapping and record in the outbox.

    ``about`` is the interaction a template speaks of (its template context is
    built from it); ``extra`` is added to that context, or is the whole
    context when there is no such interaction (a feature request's ticket).
    """

    system: str
    mapping: MappingFile
    render: str  # the mapping's outbound action: create, comment, notify, notice, alert...
    record_type: str
    record_id: int
    subject: str  # the stable identity of what the effect is about: it makes the key
    action: str | None = None  # the effect's action, when it is not ``render`` (a notice is a reply)
    object_type: str | None = None  # default: the mapping's object
    target_id: str | None = None
    about: Mapping[str, Any] | None = None
    extra: JSON = field(default_factory=dict)
    defaults: JSON = field(default_factory=dict)  # fields the rendered ones may leave out
    context: JSON = field(default_factory=dict)  # the effect's context for the connector and the apply stage


def plan_outbound(conn: Connection, ctx: SyncContext, out: Outbound, failure: Failure) -> str | None:
    """Render ``out`` and record it in the outbox; returns its key, or None when it became a dead letter."""
    context = {**template_context(conn, ctx, out.about, out.system), **out.extra} if out.about is not None \
        else out.extra
    try:
        fields = map_outbound(out.mapping, out.render, context, ctx.connector(out.system).escape_text)
    except MappingError as exc:
        plan_failed(conn, ctx, failure, exc)
        return None
    for name, value in out.defaults.items():
        fields.setdefault(name, value)
    return record_effect(conn, ctx, system=out.system, action=out.action or out.render,
                         object_type=out.object_type or out.mapping.object, record_type=out.record_type,
                         record_id=out.record_id, subject=out.subject, fields=fields, target_id=out.target_id,
                         context=out.context)


def record_effect(conn: Connection, ctx: SyncContext, *, system: str, action: str, object_type: str,
                  record_type: str, record_id: int, subject: str, fields: JSON, target_id: str | None = None,
                  context: JSON | None = None) -> str:
    """Record an effect whose fields are known; returns its key (the same subject always gives the same key)."""
    key = effect_key(ctx.pipeline_name, system, action, subject)
    add_effect(conn, key=key, pipeline=ctx.pipeline_name, system=system, action=action, object_type=object_type,
               record_type=record_type, record_id=record_id, fields=fields, target_id=target_id,
               context=context or {})
    return key
