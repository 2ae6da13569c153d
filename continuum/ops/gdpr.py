"""A person's rights over what the hub holds: access (``continuum export``) and erasure (``continuum erase``).

Erasure reuses what a deletion by the author does (:func:`continuum.engine.deletions.erase_row`): each of
their interactions is purged from every table, tombstoned so that a re-read of the old post does not bring
it back, and the tickets its text reached get an ``update`` where the target can take one (the feature
request's ticket is re-rendered without their voice).  Then their name, handles and e-mails are cut out of
whatever else mentions them, their identities and files go, and the customer row stays as an anonymous stub.
What the hub wrote elsewhere and no connector can change (a comment, a reply on a channel, a stored file)
is listed in the result and in the audit event, by system and id.  Their history page in a wiki whose
connector deletes pages is deleted (with its earlier versions), and the other pages that showed their voice are
written again and their earlier versions deleted (:mod:`continuum.ops.erasepages`); the CRM timeline entries
logged from their words are deleted where the CRM's connector can (:mod:`continuum.ops.erasecrm`).  ``dry_run``
does all of it in a transaction that is rolled back: the result is the plan, and nothing changed anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from sqlalchemy import Connection, Engine

from continuum.config import HubConfig
from continuum.connector import JSON
from continuum.ops import erasecrm, erasepages
from continuum.ops.customers import CustomerError, timeline
from continuum.store import erasure
from continuum.store.audit import audit
from continuum.store.customers import get_customer, summaries
from continuum.store.db import utcnow
from continuum.store.locking import pipeline_lock
from continuum.store.rows import InteractionRow

# What the customer's own posts are: theirs on the platform, for them (not the hub) to delete there.
OWN_POSTS = "their own posts stay on the platform: only they (or the platform) can delete them"


def find_customer(conn: Connection, reference: str) -> int:
    """A customer id, or the one customer whose name, handle or e-mail is ``reference``."""
    text = reference.strip()
    if text.isdigit():
        if get_customer(conn, int(text)) is None:
            raise CustomerError(f"no customer {text}")
        return erasure.root_of(conn, int(text))  # a customer merged into another is part of it
    found = summaries(conn, text, limit=20)
    exact = [p for p in found if text.lower() in _names(p)]
    chosen = exact or found
    if len(chosen) != 1:
        names = ", ".join(str(p["id"]) for p in chosen) or "none"
        raise CustomerError(f"{reference!r} names {len(chosen)} customers ({names}); give a customer id "
                            "(`continuum customers find` lists them)")
    return int(chosen[0]["id"])


def _names(person: JSON) -> set[str]:
    names = {str(person["display_name"]).lower(), str(person["primary_email"] or "").lower()}
    for identity in person["identities"]:
        names.update(str(v).lower() for v in (identity["handle"], identity["email"], identity["account_id"]) if v)
    return names


def export(conn: Connection, customer_id: int) -> JSON:
    """Everything held about the person: customer rows, identities, interactions and answers, tickets,
    feature requests they asked for, files (their names and sizes), audit events, and the other rows of the
    store that mention them."""
    people = erasure.family(conn, customer_id)
    story = timeline(conn, customer_id)
    own = [e["id"] for e in story["timeline"]]
    requests = sorted({e["feature_request_id"] for e in story["timeline"] if e["feature_request_id"]})
    mentions = erasure.mentioning(conn, erasure.marks_of(conn, people))
    return {
        "exported_at": utcnow().isoformat(timespec="seconds"),
        "customer": story["customer"], "merged_customers": [get_customer(conn, i) for i in people[1:]],
        "identities": story["identities"], "interactions": story["timeline"], "tickets": story["tickets"],
        "feature_requests": requests, "attachments": erasure.attachments_of(conn, people),
        "audit": erasure.audit_about(conn, people, own),
        "effects_sent": erasure.effects_sent_about(conn, own),
        "mentions": {table: [row for row in rows if not _own_row(table, row, own)]
                     for table, rows in mentions.items()},
    }


def _own_row(table: str, row: JSON, own: list[int]) -> bool:
    return table == "interactions" and row["id"] in own  # already listed in full


def erase(db: Engine, hub: HubConfig, customer_id: int, dry_run: bool = False,
          send: Callable[[HubConfig, Engine, list[tuple[str, str]]], JSON] | None = None,
          contexts: dict[str, Any] | None = None) -> JSON:
    """Erase the person; with ``dry_run``, only say what would be done.  ``send`` applies the planned
    updates (default: :func:`send_updates`); its result is added under ``sent``.  ``contexts``: sync contexts
    by pipeline already built (their connectors render the updates; default: built from the hub config).

    Every pipeline's run lock is held throughout (:class:`AnotherRunHoldsTheLock` when a run has one), so
    no run plans or sends from their records while they are purged, and the updates go out once."""
    with ExitStack() as locks:
        for pipeline in hub.pipelines:
            locks.enter_context(pipeline_lock(db, pipeline))
        with db.connect() as conn:
            transaction = conn.begin()
            try:
                result = _erase(conn, hub, customer_id, dict(contexts or {}))
            except BaseException:
                transaction.rollback()
                raise
            if dry_run:
                transaction.rollback()
                return {**result, "dry_run": True}
            transaction.commit()
        systems = sorted({(u["pipeline"], u["system"]) for u in result["updates"]})
        result["sent"] = (send or send_updates)(hub, db, systems) if systems else {}
        if result["pages_rewritten"]:  # after the updates: a page shows a ticket's state
            result["sent"]["pages"] = erasepages.rewrite_and_prune(hub, db, result["pages_rewritten"])
    return {**result, "dry_run": False}


def _erase(conn: Connection, hub: HubConfig, customer_id: int, contexts: dict[str, Any]) -> JSON:
    from continuum.engine.context import RunStats
    from continuum.engine.deletions import erase_row

    if get_customer(conn, customer_id) is None:
        raise CustomerError(f"no customer {customer_id}")
    people = erasure.family(conn, customer_id)
    marks = erasure.marks_of(conn, people)
    rows = erasure.interactions_of(conn, people)
    left = _left_remotely(conn, hub, people, rows)
    updates: list[JSON] = erasepages.delete_pages(conn, hub, people)
    logged = erasecrm.logged_entries(conn, [r["id"] for r in rows])
    left += erasecrm.forget_contacts(conn, hub, people)
    showed = erasepages.pages_that_showed(conn, [r["feature_request_id"] for r in rows if r["feature_request_id"]],
                                          [r["id"] for r in rows])
    left += erasepages.cannot_prune(hub, showed)
    stats = RunStats()
    for row in rows:
        ctx = _context(conn, hub, row, contexts)
        done = erase_row(conn, ctx, row, "erasure", stats)
        for key in (done["ticket_update"], done["feature_update"]):
            if key:
                updates.append({"pipeline": ctx.pipeline_name, "system": _system_of(conn, key), "key": key,
                                "action": "update"})
    # After the purge, which cancels their interactions' effects not sent yet: these are to be sent.
    crm_updates, crm_left = erasecrm.plan_deletions(conn, hub, logged)
    updates += crm_updates
    left += crm_left
    swept = erasure.sweep(conn, marks)
    forgotten = erasure.forget_person(conn, people)
    result: JSON = {"customer": customer_id, "merged_customers": people[1:], "interactions_purged": len(rows),
                    "rows_redacted": swept, "deleted": forgotten, "updates": updates, "not_erased_remotely": left,
                    "pages_rewritten": showed}
    audit(conn, "customer", customer_id, "erased",
          {k: v for k, v in result.items() if k != "customer"})
    return result


def _context(conn: Connection, hub: HubConfig, row: InteractionRow, cache: dict[str, Any]) -> Any:
    """The sync context of the pipeline that reads the interaction's system (its targets get the updates)."""
    from continuum.config import pipeline_systems
    from continuum.engine.context import SyncContext, build_connectors

    names = [n for n, p in hub.pipelines.items() if any(s.system == row["source_system"] for s in p.sources)]
    name = (names or list(hub.pipelines))[0]
    if name not in cache:
        # Building connectors connects to nothing: they render and escape the updates here.
        cache[name] = SyncContext(db=conn.engine, hub=hub, pipeline_name=name,
                                  connectors=build_connectors(hub, pipeline_systems(hub, name), conn.engine))
    return cache[name]


def _system_of(conn: Connection, key: str) -> str:
    from sqlalchemy import select

    from continuum.store.tables import outbox

    return str(conn.execute(select(outbox.c.system).where(outbox.c.idempotency_key == key)).scalar_one())


def _left_remotely(conn: Connection, hub: HubConfig, people: list[int], rows: list[InteractionRow]) -> list[JSON]:
    """What the hub wrote elsewhere from their words that no connector can change or delete, and their own
    posts on each channel."""
    from continuum.kit.registry import plugin

    left: list[JSON] = []
    for effect in erasure.effects_sent_about(conn, [row["id"] for row in rows]):
        system = hub.systems.get(effect["system"])
        effects = plugin(system.connector).capabilities.effects if system else ()
        if effect["action"] == "create" and "update" in effects:
            continue  # the ticket's fields are re-rendered by an update
        left.append({**effect, "why": f"{effect['system']} cannot change or delete a {effect['action']} "
                                      "through its connector"})
    for copy in erasure.copies_stored(conn, people):
        left.append({**copy, "action": "store", "object": "file",
                     "why": f"{copy['system']}: the connector cannot delete a stored file"})
    for page in erasure.pages_about(conn, people):
        if erasepages.page_wiki(hub, page["system"], "delete") is None:
            left.append({"system": page["system"], "id": page["id"], "action": "page", "object": "page",
                         "why": f"{page['system']}: the page's earlier versions keep what it said about them, and "
                                "its connector cannot delete a page; delete it in the wiki"})
    channels = sorted({row["source_system"] for row in rows if row["direction"] == "inbound"})
    left += [{"system": channel, "action": "post", "object": "post", "id": None, "why": OWN_POSTS}
             for channel in channels]
    return left


def send_updates(hub: HubConfig, db: Engine, systems: list[tuple[str, str]]) -> JSON:
    """Apply the open effects of each (pipeline, system) now, as a sync's apply stage does (the caller holds
    the pipelines' run locks); returns the counts per system."""
    from continuum.config import pipeline_systems
    from continuum.engine.apply import apply_effects
    from continuum.engine.context import SyncContext, build_connectors

    sent: JSON = {}
    for pipeline, system in systems:
        ctx = SyncContext(db=db, hub=hub, pipeline_name=pipeline,
                          connectors=build_connectors(hub, pipeline_systems(hub, pipeline), db))
        sent[f"{pipeline}/{system}"] = dict(apply_effects(ctx, system).counts)
    return sent
