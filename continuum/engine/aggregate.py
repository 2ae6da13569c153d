"""Aggregate: many customers asking for one thing make ONE feature request, ONE ticket, and votes.

A new feature-request interaction is scored against every open feature
request (see :mod:`continuum.similarity`); at or above the threshold it is a
vote for the best one, otherwise it founds a new one with its own ticket.  A
later post in a feature request's thread is a vote there without matching.
Votes count distinct customers.  The ticket's "Customer voices" section is
refreshed at most once per run per changed feature request.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from continuum.engine import outbox
from continuum.engine.context import SyncContext
from continuum.mapping import MappingError, map_outbound
from continuum.similarity import Fingerprint, MatchConfig, Matcher, Score
from continuum.store import repo
from continuum.store.db import utcnow
from continuum.store.tables import customers, feature_requests, interactions, links
from continuum.store.tables import outbox as outbox_table

MATCH_CHARS = 600  # the title and the opening of the text say what is asked; long posts drift


@lru_cache(maxsize=8)
def _matcher(config_json: str) -> Matcher:
    return Matcher(MatchConfig.model_validate_json(config_json))


def matcher_for(ctx: SyncContext) -> Matcher:
    policy = ctx.rulebook.feature_requests
    key = policy.model_dump_json(include={"threshold", "synonyms", "stop_words"})
    return _matcher(key)


def fingerprint(matcher: Matcher, row: dict[str, Any]) -> Fingerprint:
    return matcher.fingerprint((row.get("text") or "")[:MATCH_CHARS], title=row.get("title") or "")


def aggregate(conn: Connection, ctx: SyncContext, row: dict[str, Any], root: dict[str, Any] | None) -> tuple[
        str, int, Score]:
    """Link ``row`` to a feature request; returns (outcome, feature request id, score)."""
    if root is not None and root.get("feature_request_id"):
        fr_id = int(root["feature_request_id"])
        score = Score(100.0, explanation="a post in the feature request's own thread")
        outcome = "voted"
    else:
        matcher = matcher_for(ctx)
        candidate = fingerprint(matcher, row)
        open_requests = [(r.id, Fingerprint.parse(r.match_text)) for r in conn.execute(
            select(feature_requests.c.id, feature_requests.c.match_text).where(feature_requests.c.status == "open"))]
        best_id, score = matcher.best(candidate, open_requests)
        if best_id is not None and score.total >= matcher.config.threshold:
            fr_id, outcome = best_id, "voted"
        else:
            fr_id, outcome = _found(conn, ctx, row, candidate), "new_feature_request"
    conn.execute(update(interactions).where(interactions.c.id == row["id"]).values(feature_request_id=fr_id))
    _recount(conn, fr_id)
    repo.audit(conn, "interaction", row["id"], "linked_feature_request",
               {"feature_request_id": fr_id, "score": score.total, "why": score.explanation}, ctx.pipeline_name)
    return outcome, fr_id, score


def _found(conn: Connection, ctx: SyncContext, row: dict[str, Any], founding: Fingerprint) -> int:
    now = utcnow()
    title = (row.get("title") or row.get("text") or "")[:200].strip() or "Feature request"
    fr_id = int(conn.execute(feature_requests.insert().values(
        title=title, summary=(row.get("text") or "")[:1000], status="open", votes=0,
        match_text=founding.serialise(), created_at=now, updated_at=now,
    ).returning(feature_requests.c.id)).scalar_one())
    repo.audit(conn, "feature_request", fr_id, "created", {"founded_by": row["id"]}, ctx.pipeline_name)
    return fr_id


def _recount(conn: Connection, fr_id: int) -> None:
    votes = conn.execute(select(func.count(func.distinct(interactions.c.customer_id))).where(
        interactions.c.feature_request_id == fr_id, interactions.c.direction == "inbound")).scalar_one()
    # voices_hash = NULL marks the ticket's voices section as stale.
    conn.execute(update(feature_requests).where(feature_requests.c.id == fr_id).values(
        votes=int(votes), voices_hash=None, updated_at=utcnow()))


def voices(conn: Connection, fr_id: int) -> list[dict[str, Any]]:
    """Every interaction behind a feature request, oldest first, for the ticket's voices section."""
    rows = conn.execute(select(interactions, customers.c.display_name).join(
        customers, customers.c.id == interactions.c.customer_id, isouter=True).where(
        interactions.c.feature_request_id == fr_id, interactions.c.direction == "inbound")
        .order_by(interactions.c.created_at, interactions.c.id)).mappings()
    return [{"id": r["id"], "customer_id": r["customer_id"], "customer": r["display_name"] or "a customer",
             "channel": r["channel"], "url": r["url"], "quote": (r["text"] or "")[:280],
             "created_at": r["created_at"]} for r in rows]


def feature_context(conn: Connection, ctx: SyncContext, fr_id: int, system: str) -> dict[str, Any]:
    fr = dict(conn.execute(select(feature_requests).where(feature_requests.c.id == fr_id)).mappings().one())
    return {"feature_request": fr, "voices": voices(conn, fr_id), "target": ctx.system_context(system)}


def plan_ticket(conn: Connection, ctx: SyncContext, fr_id: int, system: str) -> None:
    """The one ticket for a new feature request (its voices as of now)."""
    name = ctx.pipeline.feature_request_mapping
    if name is None:
        raise ValueError(f"pipeline {ctx.pipeline_name!r} aggregates feature requests but names no "
                         "feature_request_mapping")
    mapping = ctx.mapping(name)
    context = feature_context(conn, ctx, fr_id, system)
    fields = map_outbound(mapping, "create", context, ctx.connector(system).escape_text)
    outbox.plan(conn, ctx, system=system, action="create", object_type=mapping.object,
                record_type="feature_request", record_id=fr_id, subject=f"feature_request:{fr_id}", fields=fields,
                context={"source_url": context["voices"][0]["url"] if context["voices"] else None,
                         "source_title": context["feature_request"]["title"]})
    conn.execute(update(feature_requests).where(feature_requests.c.id == fr_id).values(
        voices_hash=repo.content_hash(context["voices"])))


def plan_missing_tickets(conn: Connection, ctx: SyncContext) -> int:
    """Plan the ticket of every open feature request that has none planned yet.

    Done once the pass has linked all its votes, so a new ticket is created with all of them
    (no update right after); and since it looks at the store, not at this run's memory, a
    feature request left ticketless by a crash gets its ticket on the next run.
    """
    system = ctx.rulebook.feature_requests.route
    if system is None or ctx.pipeline.feature_request_mapping is None:
        return 0
    planned = outbox_table.select().where(
        outbox_table.c.record_type == "feature_request", outbox_table.c.action == "create",
        outbox_table.c.record_id == feature_requests.c.id).exists()
    ticketless = conn.execute(select(feature_requests.c.id).where(
        feature_requests.c.status == "open", ~planned).order_by(feature_requests.c.id)).scalars().all()
    for fr_id in ticketless:
        try:
            plan_ticket(conn, ctx, fr_id, system)
        except MappingError as exc:
            repo.dead_letter(conn, pipeline=ctx.pipeline_name, system=system, stream="outbound", stage="plan",
                             record_key=f"feature_request/{fr_id}", field=exc.field,
                             error=f"feature request {fr_id} → {system}: field {exc.field}: {exc.message}",
                             payload={"feature_request_id": fr_id})
    return len(ticketless)


def refresh_voices(conn: Connection, ctx: SyncContext) -> int:
    """Plan one ticket update for each feature request whose voices changed; returns how many."""
    system = ctx.rulebook.feature_requests.route
    name = ctx.pipeline.feature_request_mapping
    if system is None or name is None:
        return 0
    stale = conn.execute(select(feature_requests.c.id, links.c.external_id).join(links, and_(
        links.c.record_type == "feature_request", links.c.record_id == feature_requests.c.id,
        links.c.system == system)).where(feature_requests.c.voices_hash.is_(None))).all()
    mapping = ctx.mapping(name)
    planned = 0
    for fr_id, ticket_id in stale:
        context = feature_context(conn, ctx, fr_id, system)
        digest = repo.content_hash(context["voices"])
        try:
            fields = map_outbound(mapping, "update", context, ctx.connector(system).escape_text)
        except MappingError as exc:
            repo.dead_letter(conn, pipeline=ctx.pipeline_name, system=system, stream="outbound", stage="plan",
                             record_key=f"feature_request/{fr_id}", field=exc.field,
                             error=f"feature request {fr_id} → {system}: field {exc.field}: {exc.message}",
                             payload={"feature_request_id": fr_id})
            continue
        # The key carries the voices' hash: the same voices are never written twice.
        outbox.plan(conn, ctx, system=system, action="update", object_type=mapping.object,
                    record_type="feature_request", record_id=fr_id, subject=f"feature_request:{fr_id}:{digest}",
                    fields=fields, target_id=ticket_id)
        conn.execute(update(feature_requests).where(feature_requests.c.id == fr_id).values(voices_hash=digest))
        planned += 1
    return planned
