"""A record its author deleted on the platform: mark, purge, tombstone, and clean the hub's own copies.

The interaction is marked ``deleted`` (its SLA item closes: a deleted question waits for no answer), its text
leaves every table of the store (:func:`continuum.store.deletions.purge_interaction`), effects not sent yet
are cancelled, and one ``deleted`` audit event says what happened without saying what was written.  A
tombstone keeps the id from being created again by a later read.  Where the hub made a ticket from it and the
target can update one, an ``update`` effect re-renders the ticket's fields that carried the text, with
"[deleted by the author]" in its place.  The ticket of the feature request it belongs to is re-rendered
the same way, without its voice (and without its title and summary, when it founded the request), and its
votes are counted again.  A deletion of an id never seen leaves only a tombstone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from continuum.config import SourceSpec
from continuum.connector import JSON
from continuum.engine.aggregate import feature_context
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.outbound import record_effect, template_context
from continuum.mapping import MappingError, map_outbound
from continuum.mapping.render import set_path
from continuum.store import deletions, feature_requests, interactions
from continuum.store.audit import audit
from continuum.store.base import content_hash
from continuum.store.db import utcnow
from continuum.store.links import link_in
from continuum.store.rows import InteractionRow


def delete_record(conn: Connection, ctx: SyncContext, source: SourceSpec, source_id: str, stats: RunStats) -> None:
    system = source.system
    row = deletions.interaction_by_source(conn, system, source_id)
    if row is None:
        deletions.add_tombstone(conn, system, source_id, None, utcnow())
        stats.add("deleted_unseen")
        return
    from continuum.ops import erasecrm  # the CRM side of an erasure serves a deletion by the author too

    logged = erasecrm.logged_entries(conn, [row["id"]])  # before the purge, which forgets them
    erase_row(conn, ctx, row, "author", stats)
    # The CRM timeline entry quoting the post goes too, where the CRM's connector can delete one (a hub-written
    # copy of a deleted post: X's terms, and the author's wish, say it must not outlive the post).
    planned, _left = erasecrm.plan_deletions(conn, ctx.hub, logged)
    if planned:
        stats.add("deleted_timeline_entries", len(planned))


def erase_row(conn: Connection, ctx: SyncContext, row: InteractionRow, by: str, stats: RunStats) -> JSON:
    """Purge one interaction the store holds, tombstone it, and plan the updates of the tickets its text
    reached; returns what was done (tables purged, keys of the updates planned), which names no text.

    ``by`` says who asked: its author deleted it (``author``), or the person was erased (``erasure``)."""
    now = utcnow()
    purpose = "deleted_by_author" if by == "author" else "erased"
    ticket_update = _ticket_update(conn, ctx, row, purpose)  # rendered from the text, so before the purge
    feature = _FeatureTicket.before(conn, ctx, row)
    touched = deletions.purge_interaction(conn, row)
    # Recorded after the purge, which cancels the interaction's effects not sent yet.
    update_key = record_effect(conn, ctx, **ticket_update) if ticket_update else None
    feature_key = None
    if row["feature_request_id"] is not None:
        fr_id = row["feature_request_id"]
        feature_requests.set_votes(conn, fr_id, interactions.count_voters(conn, fr_id))
        if feature is not None:
            feature_key = feature.after(conn, ctx, purpose)
            if feature_key:
                stats.add("deleted_ticket_updates")
    deletions.add_tombstone(conn, row["source_system"], row["source_id"], row["id"], now)
    done: JSON = {"by": by, "source_id": row["source_id"], "purged": touched, "ticket_update": update_key}
    audit(conn, "interaction", row["id"], "deleted", done, ctx.pipeline_name, row["source_system"])
    stats.add("interactions_deleted")
    if update_key:
        stats.add("deleted_ticket_updates")
    return {**done, "feature_update": feature_key}


def _ticket_update(conn: Connection, ctx: SyncContext, row: InteractionRow, purpose: str) -> JSON | None:
    """An ``update`` of the ticket made from the interaction: the fields its text reached, re-rendered
    (``record_effect``'s arguments), or None when there is no such ticket or its system cannot update it."""
    for target in ctx.pipeline.targets:
        connector = ctx.connectors.get(target.system)
        if connector is None or "update" not in connector.capabilities.effects:
            continue  # the API cannot change it: the ticket keeps its copy (said in the audit: no update key)
        mapping = ctx.mapping(target.mapping)
        ticket = link_in(conn, "interaction", row["id"], target.system)
        if ticket is None or ticket["object_type"] != mapping.object or "create" not in mapping.outbound:
            continue
        placeholder = {**row, "text": deletions.PLACEHOLDER, "title": deletions.PLACEHOLDER if row["title"] else ""}
        try:
            before = _render(conn, ctx, mapping, target.system, dict(row))
            after = _render(conn, ctx, mapping, target.system, placeholder)
        except MappingError:
            continue  # it rendered when the ticket was made; if it no longer does, there is nothing to compare
        changed = _changed(before, after)
        if not changed:
            continue
        return {"system": target.system, "action": "update", "object_type": ticket["object_type"],
                "record_type": "interaction", "record_id": row["id"],
                "subject": f"deleted:{row['source_system']}:{row['source_id']}", "fields": changed,
                # Its link back to the post quotes the post's URL and title: the connector drops it, if it can.
                "target_id": ticket["external_id"], "context": {"purpose": purpose, "drop_source_link": True}}
    return None


def _render(conn: Connection, ctx: SyncContext, mapping: Any, system: str, row: JSON) -> JSON:
    context = template_context(conn, ctx, row, system)
    return _flatten(map_outbound(mapping, "create", context, ctx.connector(system).escape_text))


def _changed(before: JSON, after: JSON) -> JSON:
    """The fields whose rendering changed, nested again as the connector reads an effect's fields."""
    changed: JSON = {}
    for name, value in after.items():
        if before.get(name) != value:
            set_path(changed, name, value)
    return changed


class _FeatureTicket:
    """The feature request's ticket, rendered before the purge and again after it: the difference is sent."""

    def __init__(self, row: InteractionRow, system: str, mapping: Any, ticket: JSON, fields: JSON,
                 was_source: bool) -> None:
        self.row, self.system, self.mapping, self.ticket, self.fields = row, system, mapping, ticket, fields
        self.was_source = was_source  # the ticket's link back to a post points at this one

    @classmethod
    def before(cls, conn: Connection, ctx: SyncContext, row: InteractionRow) -> _FeatureTicket | None:
        fr_id, system, name = row["feature_request_id"], ctx.rulebook.feature_requests.route, \
            ctx.pipeline.feature_request_mapping
        connector = ctx.connectors.get(system or "")
        if fr_id is None or system is None or name is None or connector is None \
                or "update" not in connector.capabilities.effects:
            return None
        ticket = link_in(conn, "feature_request", fr_id, system)
        mapping = ctx.mapping(name)
        if ticket is None or "create" not in mapping.outbound:
            return None
        context = feature_context(conn, ctx, fr_id, system)
        try:
            fields = _flatten(map_outbound(mapping, "create", context, connector.escape_text))
        except MappingError:
            return None
        voices = context.get("voices") or []
        was_source = bool(voices and row["url"] and voices[0].get("url") == row["url"])
        return cls(row, system, mapping, dict(ticket), fields, was_source)

    def after(self, conn: Connection, ctx: SyncContext, purpose: str) -> str | None:
        fr_id = self.row["feature_request_id"]
        assert fr_id is not None
        context = feature_context(conn, ctx, fr_id, self.system)
        try:
            fields = _flatten(map_outbound(self.mapping, "create", context,
                                           ctx.connector(self.system).escape_text))
        except MappingError:
            return None
        changed = _changed(self.fields, fields)
        if not changed:
            return None
        key = record_effect(conn, ctx, system=self.system, action="update", object_type=self.ticket["object_type"],
                            record_type="feature_request", record_id=fr_id,
                            subject=f"deleted:{self.row['source_system']}:{self.row['source_id']}", fields=changed,
                            target_id=self.ticket["external_id"],
                            context={"purpose": purpose, "drop_source_link": self.was_source})
        # These voices are on the ticket now: the voices refresh has nothing more to send.
        feature_requests.set_voices_hash(conn, fr_id, content_hash(context["voices"]))
        return key


def _flatten(fields: JSON, prefix: str = "") -> JSON:
    """Nested fields (``project.key``) as dotted names, so that only the changed leaves go into the update."""
    flat: JSON = {}
    for name, value in fields.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat
