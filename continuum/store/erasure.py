"""A person's data in the store, for the right of access (export) and the right to erasure.

Their interactions are purged as deletions are (:mod:`continuum.store.deletions`); what is left is where
their name, handles and e-mail addresses appear beside them: the customer row and its identities, other
interactions that mention them (a staff answer that greets them), audit events, effects, dead letters, links
and feature requests.  Those rows are found in the database (a case-insensitive ``LIKE`` on each column as
text, JSON included) and each mark is cut out of every string, so the rest of a row (another customer's
words) stays.  The customer row stays as an anonymous stub: its id still counts as one voter gone, and
the audit trail can say what was erased without saying whose data it was.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, Text, cast, delete, exists, func, or_, select, update

from continuum.connector import JSON
from continuum.store.db import utcnow
from continuum.store.rows import InteractionRow
from continuum.store.tables import (
    attachment_copies,
    attachments,
    audit_events,
    crm_fields,
    customers,
    dead_letters,
    feature_requests,
    identities,
    interactions,
    links,
    outbox,
)

ERASED = "[erased]"
MIN_MARK = 3  # a shorter handle would match inside ordinary words
# Every column that may carry a name, handle or e-mail of someone it is not about.
SWEPT: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (interactions, ("title", "text", "url", "channel", "override")),
    (audit_events, ("changes",)),
    (outbox, ("payload", "context", "last_error")),
    (dead_letters, ("payload", "error", "field")),
    (feature_requests, ("title", "summary", "match_text")),
    (links, ("url",)),
    (attachments, ("name", "source_url")),
)


def root_of(conn: Connection, customer_id: int) -> int:
    """The customer that ``customer_id`` was merged into, if it was (following a chain of merges)."""
    seen = {customer_id}
    while (parent := conn.execute(select(customers.c.merged_into).where(
            customers.c.id == customer_id)).scalar()) is not None and parent not in seen:
        customer_id = int(parent)
        seen.add(customer_id)
    return customer_id


def family(conn: Connection, customer_id: int) -> list[int]:
    """The customer and every customer merged into it (their rows keep their names)."""
    found, frontier = [customer_id], [customer_id]
    while frontier:
        frontier = list(conn.execute(select(customers.c.id).where(customers.c.merged_into.in_(frontier))).scalars())
        found += [i for i in frontier if i not in found]
    return found


def marks_of(conn: Connection, customer_ids: list[int]) -> list[str]:
    """What names the person: display names, e-mails, handles, and account ids that are not bare numbers
    (a number would match inside dates and counts); longest first, so a name goes before its parts."""
    found: set[str] = set()
    for name, email in conn.execute(select(customers.c.display_name, customers.c.primary_email).where(
            customers.c.id.in_(customer_ids))):
        found.update(v for v in (name, email) if v)
    for account, handle, email in conn.execute(select(identities.c.account_id, identities.c.handle,
                                                      identities.c.email).where(
            identities.c.customer_id.in_(customer_ids))):
        found.update(v for v in (handle, email) if v)
        if account and not account.isdigit():
            found.add(account)
    marks = {m.strip().lstrip("@") for m in found} - {ERASED, ""}
    return sorted((m for m in marks if len(m) >= MIN_MARK), key=lambda m: (-len(m), m))


def interactions_of(conn: Connection, customer_ids: list[int]) -> list[InteractionRow]:
    """What they wrote, and the hub's answers to it (addressed to them), that is not purged yet."""
    theirs = select(interactions.c.id).where(interactions.c.customer_id.in_(customer_ids))
    rows = conn.execute(select(interactions).where(
        or_(interactions.c.customer_id.in_(customer_ids), interactions.c.in_reply_to.in_(theirs)),
        interactions.c.status != "deleted").order_by(interactions.c.id)).mappings()
    return [InteractionRow(**row) for row in rows]  # type: ignore[typeddict-item]


def mentioning(conn: Connection, marks: list[str]) -> dict[str, list[JSON]]:
    """Every swept row that holds one of ``marks`` (any case), by table: its id and the columns that do."""
    found: dict[str, list[JSON]] = {}
    if not marks:
        return found
    for table, names in SWEPT:
        columns = [table.c[name] for name in names]
        hits = [func.lower(cast(column, Text)).like(f"%{mark.lower()}%", escape="\\")
                for column in columns for mark in map(_like, marks)]
        for row in conn.execute(select(table.c.id, *columns).where(or_(*hits))).mappings():
            found.setdefault(table.name, []).append(dict(row))
    return found


def _like(mark: str) -> str:
    return mark.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def redact(value: Any, pattern: re.Pattern[str]) -> Any:
    """``value`` (JSON) with every mark cut out of every string (and every key)."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, dict):
        return {redact(k, pattern): redact(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, pattern) for v in value]
    return value


def pattern_of(marks: list[str]) -> re.Pattern[str]:
    """One pattern for every mark (longest first), an ``@`` before a handle included, any case, as a whole
    word: a handle ``ben`` is not cut out of "benefit"."""
    return re.compile(r"(?<![\w.])@?(?:" + "|".join(re.escape(m) for m in marks) + r")(?!\w)", re.IGNORECASE)


def sweep(conn: Connection, marks: list[str]) -> dict[str, int]:
    """Cut every mark out of every swept row; returns how many rows of each table changed."""
    changed: dict[str, int] = {}
    if not marks:
        return changed
    pattern = pattern_of(marks)
    tables = {table.name: (table, names) for table, names in SWEPT}
    for name, rows in mentioning(conn, marks).items():
        table, columns = tables[name]
        for row in rows:
            values = {c: redact(row[c], pattern) for c in columns}
            values = {c: v for c, v in values.items() if v != row[c]}
            if values:
                conn.execute(update(table).where(table.c.id == row["id"]).values(**values))
                changed[name] = changed.get(name, 0) + 1
    return changed


def forget_person(conn: Connection, customer_ids: list[int]) -> JSON:
    """Delete their identities and files, and leave each customer row as an anonymous stub."""
    # The CRM sync's agreed values (handles, e-mail) of their contacts go first: they are keyed by the
    # identities deleted next.
    theirs = exists().where(identities.c.customer_id.in_(customer_ids), identities.c.system == crm_fields.c.system,
                            identities.c.account_id == crm_fields.c.contact_id)
    counts = {
        "crm_fields": conn.execute(delete(crm_fields).where(theirs)).rowcount,
        "identities": conn.execute(delete(identities).where(identities.c.customer_id.in_(customer_ids))).rowcount,
        "attachment_copies": conn.execute(delete(attachment_copies).where(
            attachment_copies.c.customer_id.in_(customer_ids))).rowcount,
        "attachments": conn.execute(delete(attachments).where(or_(
            attachments.c.customer_id.in_(customer_ids), attachments.c.interaction_id.in_(
                select(interactions.c.id).where(interactions.c.customer_id.in_(customer_ids)))))).rowcount,
    }
    conn.execute(update(customers).where(customers.c.id.in_(customer_ids)).values(
        display_name=ERASED, primary_email=None, owner=None, updated_at=utcnow()))
    return counts


def copies_stored(conn: Connection, customer_ids: list[int]) -> list[JSON]:
    """The files stored in a document store for them (what its API may not let the hub delete)."""
    rows = conn.execute(select(attachment_copies.c.system, attachment_copies.c.external_id).where(
        attachment_copies.c.customer_id.in_(customer_ids)))
    return [{"system": r.system, "external_id": r.external_id} for r in rows]


def pages_about(conn: Connection, customer_ids: list[int]) -> list[JSON]:
    """The knowledge pages the hub keeps about them (a customer history page), by system and page id, and the
    customer each one is about."""
    rows = conn.execute(select(links.c.system, links.c.external_id, links.c.record_id).where(
        links.c.record_type == "customer_page", links.c.record_id.in_(customer_ids or [-1])).order_by(links.c.id))
    return [{"system": r.system, "id": r.external_id, "customer": r.record_id} for r in rows]


def forget_page(conn: Connection, system: str, page_id: str) -> None:
    """The hub no longer keeps the page (it is being deleted): no run plans it again."""
    conn.execute(delete(links).where(links.c.record_type == "customer_page", links.c.system == system,
                                     links.c.external_id == page_id))


def effects_sent_about(conn: Connection, interaction_ids: list[int]) -> list[JSON]:
    """Effects already sent from these interactions: what the hub wrote elsewhere from their words."""
    rows = conn.execute(select(outbox.c.system, outbox.c.action, outbox.c.object_type, outbox.c.external_id,
                               outbox.c.target_id).where(
        outbox.c.record_type == "interaction", outbox.c.record_id.in_(interaction_ids or [-1]),
        outbox.c.state == "done").order_by(outbox.c.id))
    return [{"system": r.system, "action": r.action, "object": r.object_type,
             "id": r.external_id or r.target_id} for r in rows]


def audit_about(conn: Connection, customer_ids: list[int], interaction_ids: list[int]) -> list[JSON]:
    rows = conn.execute(select(audit_events).where(or_(
        (audit_events.c.record_type == "customer") & audit_events.c.record_id.in_(customer_ids),
        (audit_events.c.record_type == "interaction") & audit_events.c.record_id.in_(interaction_ids or [-1])))
        .order_by(audit_events.c.id)).mappings()
    return [dict(row) for row in rows]


def attachments_of(conn: Connection, customer_ids: list[int]) -> list[JSON]:
    rows = conn.execute(select(attachments.c.interaction_id, attachments.c.name, attachments.c.size,
                               attachments.c.content_type, attachments.c.sha256).where(
        attachments.c.customer_id.in_(customer_ids)).order_by(attachments.c.id)).mappings()
    return [dict(row) for row in rows]

