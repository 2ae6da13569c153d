"""Aggregate: many customers asking for one thing make ONE feature request, ONE ticket, and votes.

A new feature-request interaction is scored against every open feature
request (see :mod:`continuum.policy.similarity`); at or above the threshold
it is a vote for the best one, otherwise it founds a new one with its own
ticket.  A later post in a feature request's thread is a vote there without
matching.  Votes count distinct customers.  The ticket's "Customer voices"
section is refreshed at most once per run per changed feature request.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.engine.context import SyncContext
from continuum.engine.outbound import Failure, Outbound, plan_outbound
from continuum.policy.similarity import Fingerprint, MatchConfig, Matcher, Score
from continuum.store import feature_requests, interactions
from continuum.store.audit import audit
from continuum.store.base import content_hash
from continuum.store.db import utcnow

MATCH_CHARS = 600  # the title and the opening of the text say what is asked; long posts drift


@lru_cache(maxsize=8)
def _matcher(config_json: str) -> Matcher:
    return Matcher(MatchConfig.model_validate_json(config_json))


def matcher_for(ctx: SyncContext) -> Matcher:
    policy = ctx.rulebook.feature_requests
    key = policy.model_dump_json(include={"threshold", "synonyms", "stop_words"})
    return _matcher(key)


def fingerprint(matcher: Matcher, row: Mapping[str, Any]) -> Fingerprint:
    return matcher.fingerprint((row.get("text") or "")[:MATCH_CHARS], title=row.get("title") or "")


def aggregate(conn: Connection, ctx: SyncContext, row: Mapping[str, Any], root: Mapping[str, Any] | None) -> tuple[
        str, int, Score]:
    """Link ``row`` to a feature request; returns (outcome, feature request id, score)."""
    if root is not None and root.get("feature_request_id"):
        fr_id = int(root["feature_request_id"])
        score = Score(100.0, explanation="a post in the feature request's own thread")
        outcome = "voted"
    else:
        matcher = matcher_for(ctx)
        candidate = fingerprint(matcher, row)
        open_requests = [(fr, Fingerprint.parse(text)) for fr, text in feature_requests.open_match_texts(conn)]
        best_id, score = matcher.best(candidate, open_requests)
        if best_id is not None and score.total >= matcher.config.threshold:
            fr_id, outcome = best_id, "voted"
        else:
            fr_id, outcome = _found(conn, ctx, row, candidate), "new_feature_request"
    interactions.update_interaction(conn, row["id"], feature_request_id=fr_id)
    feature_requests.set_votes(conn, fr_id, interactions.count_voters(conn, fr_id))
    audit(conn, "interaction", row["id"], "linked_feature_request",
          {"feature_request_id": fr_id, "score": score.total, "why": score.explanation}, ctx.pipeline_name)
    return outcome, fr_id, score


def _found(conn: Connection, ctx: SyncContext, row: Mapping[str, Any], founding: Fingerprint) -> int:
    title = (row.get("title") or row.get("text") or "")[:200].strip() or "Feature request"
    fr_id = feature_requests.create_feature_request(conn, title, (row.get("text") or "")[:1000],
                                                    founding.serialise(), utcnow())
    audit(conn, "feature_request", fr_id, "created", {"founded_by": row["id"]}, ctx.pipeline_name)
    return fr_id


def voices(conn: Connection, fr_id: int) -> list[JSON]:
    """Every interaction behind a feature request, oldest first, for the ticket's voices section."""
    return [{"id": v.id, "customer_id": v.customer_id, "customer": v.display_name or "a customer",
             "channel": v.channel, "url": v.url, "quote": (v.text or "")[:280], "created_at": v.created_at}
            for v in interactions.voices(conn, fr_id)]


def feature_context(conn: Connection, ctx: SyncContext, fr_id: int, system: str) -> JSON:
    """What a feature request's ticket template may use: the request, its voices, and the target."""
    return {"feature_request": dict(feature_requests.get_feature_request(conn, fr_id)),
            "voices": voices(conn, fr_id), "target": ctx.system_context(system)}


def _failure(fr_id: int, system: str) -> Failure:
    return Failure(system=system, record_key=f"feature_request/{fr_id}",
                   about=f"feature request {fr_id} → {system}", payload={"feature_request_id": fr_id})


def plan_ticket(conn: Connection, ctx: SyncContext, fr_id: int, system: str) -> bool:
    """The one ticket for a new feature request (its voices as of now); False if it became a dead letter."""
    name = ctx.pipeline.feature_request_mapping
    if name is None:
        raise ValueError(f"pipeline {ctx.pipeline_name!r} aggregates feature requests but names no "
                         "feature_request_mapping")
    mapping = ctx.mapping(name)
    context = feature_context(conn, ctx, fr_id, system)
    planned = plan_outbound(conn, ctx, Outbound(
        system=system, mapping=mapping, render="create", record_type="feature_request", record_id=fr_id,
        subject=f"feature_request:{fr_id}", extra=context,
        context={"source_url": context["voices"][0]["url"] if context["voices"] else None,
                 "source_title": context["feature_request"]["title"]}), _failure(fr_id, system))
    if planned is None:
        return False
    feature_requests.set_voices_hash(conn, fr_id, content_hash(context["voices"]))
    return True


def plan_missing_tickets(conn: Connection, ctx: SyncContext) -> int:
    """Plan the ticket of every open feature request that has none planned yet.

    Done once the pass has linked all its votes, so a new ticket is created with all of them
    (no update right after); and since it looks at the store, not at this run's memory, a
    feature request left ticketless by a crash gets its ticket on the next run.
    """
    system = ctx.rulebook.feature_requests.route
    if system is None or ctx.pipeline.feature_request_mapping is None:
        return 0
    ticketless = feature_requests.without_ticket(conn)
    for fr_id in ticketless:
        plan_ticket(conn, ctx, fr_id, system)
    return len(ticketless)


def refresh_voices(conn: Connection, ctx: SyncContext) -> int:
    """Plan one ticket update for each feature request whose voices changed; returns how many."""
    system = ctx.rulebook.feature_requests.route
    name = ctx.pipeline.feature_request_mapping
    if system is None or name is None:
        return 0
    stale = feature_requests.stale_tickets(conn, system)
    mapping = ctx.mapping(name)
    planned = 0
    for fr_id, ticket_id in stale:
        context = feature_context(conn, ctx, fr_id, system)
        digest = content_hash(context["voices"])
        # The key carries the voices' hash: the same voices are never written twice.
        if plan_outbound(conn, ctx, Outbound(
                system=system, mapping=mapping, render="update", record_type="feature_request", record_id=fr_id,
                subject=f"feature_request:{fr_id}:{digest}", target_id=ticket_id, extra=context),
                _failure(fr_id, system)) is None:
            continue
        feature_requests.set_voices_hash(conn, fr_id, digest)
        planned += 1
    return planned
