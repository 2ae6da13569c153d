"""Customers' attachments: recorded when read, stored once per customer and content, linked from the ticket.

* read: :func:`record_read` keeps each record's files with its interaction (name, size, type, SHA-256, and
  the bytes the connector carried);
* plan: when triage plans a ticket (or a follow-up comment on one) for an interaction with files, and the
  pipeline names a document store, :func:`plan_stores` plans one ``store`` effect per content the customer has
  no stored copy of.  Its key comes from (customer, SHA-256), so the same file from the same customer is one
  effect however many messages carry it.  The bytes move from the store into that effect's outbox payload;
* apply: :func:`on_stored` records the customer's copy and drops the bytes from the done effect's payload;
* link: the ticket and the files go to different systems, and the outbox orders effects only within one
  system, so the ticket does not wait for them (a slow or refusing document store must not hold up the
  customer's ticket).  Once the ticket exists and every file of the interaction is settled (stored, or its
  store effect dead: a blocked file), the follow-up pass plans ONE comment on the ticket listing the links,
  rendered by the target mapping's ``attachments`` action.  In a normal run that is the same run: apply, then
  the follow-up pass, then its apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import Connection

from continuum.connector import EffectResult, SourceRecord
from continuum.engine.context import SyncContext
from continuum.engine.outbound import Failure, Outbound, effect_key, plan_outbound
from continuum.store import attachments as files
from continuum.store.interactions import get_interaction
from continuum.store.links import link_in
from continuum.store.outbox import set_effect
from continuum.store.rows import OutboxRow

PAGE = 200
SETTLED = ("dead", "expired")  # a store effect in these states will not store its file without a person


def _subject(customer_id: int, sha256: str) -> str:
    return f"file:{customer_id}:{sha256}"


def record_read(conn: Connection, system: str, records: Sequence[tuple[str, SourceRecord]]) -> int:
    """Keep the files of these ``(source id, record)`` with their interactions; returns how many are new."""
    carrying = [(source_id, r) for source_id, r in records if r.attachments]
    owners = files.interactions_of(conn, system, [source_id for source_id, _ in carrying])
    rows = []
    for source_id, record in carrying:
        interaction_id, customer_id = owners.get(source_id, (None, None))
        if interaction_id is None or customer_id is None:  # not kept, or the company's own voice
            continue
        for a in {a.sha256.lower(): a for a in record.attachments}.values():  # one row per content
            rows.append({"interaction_id": interaction_id, "customer_id": customer_id, "sha256": a.sha256.lower(),
                         "name": a.name[:500], "size": a.size, "content_type": a.content_type,
                         "content_b64": a.content_b64, "source_url": a.url})
    return files.add_attachments(conn, rows)


def plan_stores(conn: Connection, ctx: SyncContext, row: dict[str, Any], ticket_record: int,
                ticket_system: str) -> int:
    """Plan storing the interaction's new files that its customer has no copy of; returns the effects planned."""
    spec = ctx.pipeline.attachments
    customer_id = row.get("customer_id")
    if spec is None or customer_id is None:
        return 0
    new = files.of_interaction(conn, row["id"])
    if not new:
        return 0
    have = files.copies(conn, spec.system, [(customer_id, f["sha256"]) for f in new])
    mapping = ctx.mapping(spec.mapping)
    planned = 0
    for f in new:
        if (customer_id, f["sha256"]) in have:
            continue  # stored before, from an earlier message: linked, not stored again
        failure = Failure(system=spec.system, record_key=f"attachment/{f['id']}",
                          about=f"interaction {row['id']} file {f['name']!r} → {spec.system}",
                          payload={"interaction_id": row["id"], "attachment_id": f["id"]})
        described = {"name": f["name"], "content_type": f["content_type"], "size": f["size"], "sha256": f["sha256"]}
        content = {"content_b64": f["content_b64"]} if f["content_b64"] is not None else \
            {"source_url": f["source_url"]} if f["source_url"] else {}
        key = plan_outbound(conn, ctx, Outbound(
            system=spec.system, mapping=mapping, render="store", record_type="attachment", record_id=f["id"],
            subject=_subject(customer_id, f["sha256"]), about=row, extra={"attachment": described},
            defaults={**{k: v for k, v in described.items() if k != "name" and v is not None}, **content},
            context={"customer_id": customer_id, "sha256": f["sha256"], "interaction_id": row["id"]}), failure)
        planned += key is not None
    files.mark_planned(conn, [f["id"] for f in new], ticket_record, ticket_system)
    return planned


def on_stored(conn: Connection, row: OutboxRow, result: EffectResult) -> None:
    """The file is in the document store: the customer's copy is known, and its bytes are not kept any longer."""
    context = row["context"]
    if context.get("customer_id") is None or not context.get("sha256") or not result.external_id:
        return
    files.add_copy(conn, row["system"], int(context["customer_id"]), str(context["sha256"]), result.external_id,
                   result.url)
    set_effect(conn, row["id"], payload={k: v for k, v in row["payload"].items() if k != "content_b64"})


def plan_link_comments(conn: Connection, ctx: SyncContext) -> int:
    """One comment per ticketed interaction whose files are all settled, listing their links; returns how many."""
    spec = ctx.pipeline.attachments
    if spec is None:
        return 0
    planned, after = 0, 0
    while True:
        rows = files.waiting_for_links(conn, after, PAGE)
        if not rows:
            return planned
        after = rows[-1]["interaction_id"]
        copies = files.copies(conn, spec.system, [(r["customer_id"], r["sha256"]) for r in rows])
        keys = {r["id"]: effect_key(ctx.pipeline_name, spec.system, "store", _subject(r["customer_id"], r["sha256"]))
                for r in rows}
        states = files.effect_states(conn, list(keys.values()))
        for interaction_id, group in groupby(rows, key=lambda r: r["interaction_id"]):
            items = list(group)
            stored, not_stored = [], []
            for r in items:
                copy = copies.get((r["customer_id"], r["sha256"]))
                state, error = states.get(keys[r["id"]], (None, None))
                if copy is not None:
                    stored.append({"name": r["name"], "url": copy["url"], "size": r["size"],
                                   "content_type": r["content_type"]})
                elif state is None or state in SETTLED:  # never planned (a plan dead letter), or given up
                    not_stored.append({"name": r["name"], "size": r["size"],
                                       "reason": error or "not planned: see the dead letters"})
                else:
                    break  # still on its way
            else:
                planned += _plan_comment(conn, ctx, interaction_id, items, stored, not_stored)


def _plan_comment(conn: Connection, ctx: SyncContext, interaction_id: int, items: list[dict[str, Any]],
                  stored: list[dict[str, Any]], not_stored: list[dict[str, Any]]) -> int:
    system, ticket_record = items[0]["ticket_system"], items[0]["ticket_record"]
    ticket = link_in(conn, "interaction", ticket_record, system)
    interaction = get_interaction(conn, interaction_id)
    target = next((t for t in ctx.pipeline.targets if t.system == system), None)
    if ticket is None or interaction is None or target is None:
        return 0  # the ticket is not made yet (or no longer routed here): asked again on the next pass
    key = plan_outbound(conn, ctx, Outbound(
        system=system, mapping=ctx.mapping(target.mapping), render="attachments", action="comment",
        object_type="comment", record_type="interaction", record_id=interaction_id,
        subject=f"attachments:{interaction_id}", about=interaction, target_id=ticket["external_id"],
        extra={"files": stored, "not_stored": not_stored}),
        Failure(system=system, record_key=f"attachments/{interaction_id}",
                about=f"interaction {interaction_id} → {system} attachments comment",
                payload={"interaction_id": interaction_id}))
    files.mark_linked(conn, [r["id"] for r in items])
    return int(key is not None)

