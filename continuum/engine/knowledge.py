"""Publish: the pipeline's knowledge pages in its wiki, after its effects are applied.

For the pipeline's ``knowledge`` setting (:class:`continuum.config.KnowledgeSpec`), each run:

1. picks the customers the rule selects and builds each one's history document
   (:mod:`continuum.engine.pagedocs`), and, when configured, one document per feature request with votes;
2. hashes each document with its title.  A page whose hash is the one its link holds (the content last
   written) is skipped: an unchanged re-run writes nothing.  Any other is planned as one ``publish`` effect
   in the outbox, keyed by the page, the version it was written at and the new hash, so a re-run plans it
   once, and a page that changes back is still written;
3. applies them (:func:`continuum.engine.apply.apply_effects`: batches, retries, dead letters), and then
   the feature requests' index, whose rows link to the pages just made.

The connector owns its markup and its section of each page; the staff's part of a page is never written.
Knowledge capture (``faq_pages``): each staff answer to a customer's question becomes a draft FAQ page
labelled for review (``continuum-kb``), with the question and the answer but not who asked.

Pages are records of their own kinds (``customer_page``, ``feature_page``, ``feature_index``, ``faq_page``), so
no query that looks for a record's ticket ever finds a page.
"""

from __future__ import annotations

from sqlalchemy import Connection

from continuum.config import KnowledgeSpec
from continuum.connector import JSON, EffectResult
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.outbound import record_effect
from continuum.engine.pagedocs import (
    QUESTION_REMOVED,
    customer_document,
    faq_document,
    feature_document,
    index_document,
)
from continuum.store import knowledge
from continuum.store.base import content_hash
from continuum.store.customers import get_customer
from continuum.store.db import utcnow
from continuum.store.deletions import DELETED
from continuum.store.links import find_links, touch_link
from continuum.store.outbox import set_effect
from continuum.store.rows import OutboxRow

ACTION = "publish"
INDEX_ID = 0  # the one index page of a pipeline's wiki


def publish_pages(ctx: SyncContext, system: str) -> RunStats:
    from continuum.engine.apply import apply_effects  # apply imports this module's on_published

    spec = ctx.pipeline.knowledge
    stats = RunStats()
    if spec is None or spec.system != system:
        return stats
    effects = ctx.connector(system).capabilities.effects
    if ACTION not in effects:
        raise ValueError(
            f"pipelines.{ctx.pipeline_name}.knowledge.system: {system!r} cannot publish pages (its "
            f"connector's effects: {', '.join(effects) or 'none'}); name a wiki whose connector publishes pages"
        )
    with ctx.db.begin() as conn:
        plan_pages(conn, ctx, spec, stats)
    stats.merge(apply_effects(ctx, system))
    if spec.feature_request_pages is not None:
        with ctx.db.begin() as conn:
            plan_index(conn, ctx, spec, stats)
        stats.merge(apply_effects(ctx, system))
    return stats


def ticket_systems(ctx: SyncContext) -> list[str]:
    """Where the pipeline's tickets are: its targets, and the systems its rules route interactions and
    feature requests to (not its channels, where the hub's replies are, nor chat)."""
    book = ctx.rulebook
    names = [t.system for t in ctx.pipeline.targets] + [r.then.route for r in book.rules if r.then.route]
    names += [book.feature_requests.route] if book.feature_requests.route else []
    return list(dict.fromkeys(names))


def plan_pages(conn: Connection, ctx: SyncContext, spec: KnowledgeSpec, stats: RunStats) -> None:
    """Plan a ``publish`` for every customer and feature-request page whose content changed."""
    systems, now = ticket_systems(ctx), utcnow()
    pages = spec.customer_pages
    if pages is not None:
        for customer in knowledge.page_customers(conn, pages.select, pages.vip_tiers, systems):
            title = pages.title.format(name=customer["display_name"] or "", id=customer["id"])
            document = customer_document(conn, customer, pages.max_interactions, systems, now)
            plan_page(conn, ctx, spec.system, "customer_page", customer["id"], title, document, stats)
        plan_gone_customers(conn, ctx, spec, stats)
    requests = spec.feature_request_pages
    if requests is not None:
        for request in knowledge.requests_with_votes(conn, paged_in=spec.system):
            title = requests.title.format(title=request["title"], id=request["id"])
            plan_page(
                conn,
                ctx,
                spec.system,
                "feature_page",
                request["id"],
                title,
                feature_document(conn, request, systems),
                stats,
            )
    plan_faq_pages(conn, ctx, spec, stats)


def plan_gone_customers(conn: Connection, ctx: SyncContext, spec: KnowledgeSpec, stats: RunStats) -> None:
    """A customer merged into another, or erased, keeps no history on their old page: the hub's section says
    where it went (or only that it was erased), and the title no longer names them once erased."""
    assert spec.customer_pages is not None
    for customer_id, merged_into in knowledge.pages_of_gone_customers(conn, spec.system):
        if merged_into is None:
            title = f"Erased customer {customer_id}"
            document: JSON = {"intro": "Erased: the hub keeps nothing about this customer any more.", "blocks": []}
        else:
            gone = get_customer(conn, customer_id)
            title = spec.customer_pages.title.format(name=gone["display_name"] if gone else "", id=customer_id)
            document = {"intro": f"Merged into customer {merged_into}: their page has the whole history.", "blocks": []}
        plan_page(conn, ctx, spec.system, "customer_page", customer_id, title, document, stats)


def plan_faq_pages(conn: Connection, ctx: SyncContext, spec: KnowledgeSpec, stats: RunStats) -> None:
    """Knowledge capture: each staff answer to a question becomes a draft FAQ page, labelled for review."""
    faq = spec.faq_pages
    if faq is None:
        return
    systems = ticket_systems(ctx)
    for answer, question in knowledge.answered_questions(conn, faq.kinds):
        removed = question["status"] == DELETED
        if removed and knowledge.page_link(conn, "faq_page", answer["id"], spec.system) is None:
            continue  # no page yet: none is made from a question that is gone
        tickets = knowledge.tickets_for(conn, [question["id"]], [], systems)
        asked = QUESTION_REMOVED if removed else " ".join((question["title"] or question["text"]).split()[:12])
        plan_page(
            conn,
            ctx,
            spec.system,
            "faq_page",
            answer["id"],
            faq.title.format(question=asked, id=answer["id"]),
            faq_document(question, answer, tickets[0] if tickets else None),
            stats,
            labels=[faq.label],
        )


def plan_index(conn: Connection, ctx: SyncContext, spec: KnowledgeSpec, stats: RunStats) -> None:
    assert spec.feature_request_pages is not None
    requests = knowledge.requests_with_votes(conn)
    made = {
        r["id"]: link
        for r in requests
        if (link := knowledge.page_link(conn, "feature_page", r["id"], spec.system)) is not None
    }
    plan_page(
        conn,
        ctx,
        spec.system,
        "feature_index",
        INDEX_ID,
        spec.feature_request_pages.index_title,
        index_document(conn, requests, made, [spec.system]),
        stats,
    )


def plan_page(
    conn: Connection,
    ctx: SyncContext,
    system: str,
    record_type: str,
    record_id: int,
    title: str,
    document: JSON,
    stats: RunStats,
    labels: list[str] | None = None,
) -> str | None:
    """Plan the page's ``publish`` unless it says this already; returns the effect's key (None: unchanged)."""
    digest = content_hash({"title": title, "document": document, **({"labels": labels} if labels else {})})
    link = knowledge.page_link(conn, record_type, record_id, system)
    if link is not None and link["content_hash"] == digest:
        stats.add("pages_unchanged")
        return None
    written_at = f"{link['external_id']}@{link['external_version']}" if link is not None else "new"
    stats.add("pages_planned")
    return record_effect(
        conn,
        ctx,
        system=system,
        action=ACTION,
        object_type="page",
        record_type=record_type,
        record_id=record_id,
        subject=f"page|{record_type}|{record_id}|{written_at}|{digest}",
        fields={"title": title, "document": document, **({"labels": labels} if labels else {})},
        target_id=link["external_id"] if link is not None else None,
        context={"content_hash": digest},
    )


def on_published(conn: Connection, row: OutboxRow, result: EffectResult) -> None:
    """The page says what was planned: its link keeps the hash, so the next run leaves it alone."""
    digest = (row["context"] or {}).get("content_hash")
    found = find_links(conn, row["system"], result.object_type or "page", [str(result.external_id)])
    link = found.get(str(result.external_id))
    if link is not None and isinstance(digest, str):
        touch_link(conn, link["id"], result.version, digest)
    # The page holds what was written; the outbox keeps no copy of customers' words once it landed, so a
    # deleted post or an erased customer leaves no trace in old page versions.
    set_effect(conn, row["id"], payload={"content_hash": digest})
