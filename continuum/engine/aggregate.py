"""Aggregate: many customers asking for one thing make ONE feature request, ONE ticket, and votes.

A new feature-request interaction is scored against every open feature
request of its scope (see :mod:`continuum.policy.similarity` and
:mod:`continuum.policy.request_index`).  At or above ``threshold`` it is a
vote for the best one; from ``suggest_threshold`` up it founds a feature
request whose ticket waits until a person confirms the suggested match
(``continuum requests merge``) or rejects it (``continuum requests split``);
below, it founds a new one with its own ticket.  A later post in a feature
request's thread is a vote there without matching (and does not widen what
the feature request matches).  Votes count distinct customers.  The
ticket's "Customer voices" section is refreshed at most once per run per
changed feature request.

Embeddings are computed for feature requests only, in batches (the next
new requests of the source are embedded with the first one that misses the
cache), and cached in the store by text hash and model.  The open feature
requests are loaded into one in-memory index, which a later transaction
uses again while the store's open requests are what it expects; vectors and
fingerprints are kept per process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.engine.context import SyncContext
from continuum.engine.outbound import Failure, Outbound, plan_outbound
from continuum.nlp.embeddings import (
    Embedder,
    Vectors,
    embed_requests,
    from_bytes,
    load_embedder,
    model_key,
    text_hash,
    to_bytes,
)
from continuum.policy.request_index import Request, RequestIndex
from continuum.policy.similarity import MatchConfig, Matcher, Score
from continuum.store import feature_requests, interactions, request_matching
from continuum.store.audit import audit
from continuum.store.base import content_hash
from continuum.store.db import utcnow

if TYPE_CHECKING:  # only named: importing it here would close an import cycle through the read stage
    from continuum.engine.pagewrites import PageWrites

MATCH_CHARS = 600  # the title and the opening of the text say what is asked; long posts drift
READ_AHEAD = 256  # new requests embedded in one batch with the first that misses the cache
_INFO_KEY = "continuum.request_index"
VECTOR_MEMO = 10_000  # vectors a process keeps per store and model (a few MB)
_VECTORS: dict[tuple[str, str], dict[str, bytes]] = {}
_KEPT: dict[tuple[str, int], Matching] = {}  # per store and matcher: the index the last transaction left


@lru_cache(maxsize=8)
def _matcher(config_json: str) -> Matcher:
    return Matcher(MatchConfig.model_validate_json(config_json))


def matcher_for(policy: MatchConfig) -> Matcher:
    """One matcher per distinct configuration (its compiled synonyms are reused across runs)."""
    return _matcher(policy.model_dump_json(include=set(MatchConfig.model_fields)))


@dataclass
class Matching:
    """What one transaction matches with: the rule book's matcher, the model, and the open requests."""

    matcher: Matcher
    embedder: Embedder | None
    model: str  # cache key of this model and text preparation
    index: RequestIndex
    # Vectors already seen by this process (read ahead, embedded, or loaded): they are addressed by their
    # text's hash and the model, so they never go stale, and a rolled-back page only loses the store's copy.
    memo: dict[str, bytes] = dataclasses.field(default_factory=dict)
    # What the store's open requests should look like with this index's additions committed
    # (request_matching.open_signature): the index is used by a later transaction only if they do.
    expected: tuple[int, int, int] = (0, 0, 0)

    def added(self, fr_id: int, founded: bool) -> None:
        members, opened, highest = self.expected
        self.expected = (members + 1, opened + founded, max(highest, fr_id) if founded else highest)

    def texts(self, row: Mapping[str, Any]) -> tuple[str, str]:
        """What is compared: the title and the opening of the text, without the scope's hashtag."""
        scope = self.matcher.config.scope
        return scope.strip(row.get("title") or ""), scope.strip((row.get("text") or "")[:MATCH_CHARS])

    def request(self, conn: Connection, row: Mapping[str, Any]) -> Request:
        title, body = self.texts(row)
        vector = self.vectors(conn, [(title, body)], row)[0]
        return Request(self.matcher.config.scope.of(dict(row)), self.matcher.fingerprint(body, title=title), vector,
                       titled=bool(title.strip()))

    def vectors(self, conn: Connection, texts: Sequence[tuple[str, str]],
                row: Mapping[str, Any] | None = None) -> list[Vectors | None]:
        """Vectors of (title, body) pairs from the cache; misses embedded in one batch and cached."""
        if self.embedder is None:
            return [None] * len(texts)
        hashes = [text_hash(t, b) for t, b in texts]
        # This transaction's read-ahead usually holds them already: no query per request.
        cached = {h: self.memo[h] for h in hashes if h in self.memo}
        if len(cached) < len(set(hashes)):
            loaded = request_matching.cached_vectors(conn, self.model, [h for h in hashes if h not in cached])
            cached.update(loaded)
            self.remember(loaded)
        missing = {h: tb for h, tb in zip(hashes, texts, strict=True) if h not in cached}
        if missing and row is not None and row.get("source_system"):
            # Read ahead: the source's next new requests come next; one batch embeds all of them.
            ahead: dict[str, tuple[str, str]] = {}
            for _, title, text in request_matching.upcoming_requests(conn, row["source_system"], int(row["id"]),
                                                                     READ_AHEAD):
                pair = self.texts({"title": title, "text": text})
                ahead.setdefault(text_hash(*pair), pair)
            known = request_matching.cached_vectors(conn, self.model, ahead)
            self.remember(known)
            missing.update({h: tb for h, tb in ahead.items() if h not in known and h not in cached})
        if missing:
            prepared = [(self.matcher.semantic_text(t), self.matcher.semantic_text(b)) for t, b in missing.values()]
            made = embed_requests(self.embedder, prepared, self.matcher.config.semantic.title_weight)
            blobs = {h: to_bytes(v) for h, v in zip(missing, made, strict=True)}
            request_matching.cache_vectors(conn, self.model, blobs)
            cached.update(blobs)
            self.remember(blobs)
        return [from_bytes(cached[h]) for h in hashes]

    def remember(self, vectors: Mapping[str, bytes]) -> None:
        if len(self.memo) + len(vectors) > VECTOR_MEMO:
            self.memo.clear()  # bounded: memory stays flat in the number of requests
        self.memo.update(vectors)


def matching(conn: Connection, policy: MatchConfig) -> Matching:
    """This transaction's index of open feature requests (built once, kept up to date by :func:`aggregate`)."""
    matcher = matcher_for(policy)
    transaction = conn.get_nested_transaction() or conn.get_transaction()
    found = conn.info.get(_INFO_KEY)
    if found is not None and found[0] is transaction and found[1] is matcher:
        return found[2]  # type: ignore[no-any-return]
    # The index an earlier transaction left, if the store still holds just what it holds: building it
    # again for every triage page made a run quadratic in the number of requests.
    key = (conn.engine.url.render_as_string(), id(matcher))
    kept = _KEPT.pop(key, None)
    if kept is not None and kept.matcher is matcher and kept.expected == request_matching.open_signature(conn):
        state = kept
    else:
        state = _build(conn, matcher)
    _KEPT[key] = state
    while len(_KEPT) > 4:  # a process that serves many stores (tests) keeps the latest few
        _KEPT.pop(next(iter(_KEPT)))
    conn.info[_INFO_KEY] = (transaction, matcher, state)
    return state


def _build(conn: Connection, matcher: Matcher) -> Matching:
    semantic = matcher.config.semantic
    embedder = None if semantic.model == "none" else load_embedder(semantic.model, semantic.model_path)
    stop = content_hash(sorted(matcher.stop))[:8]
    model = f"{model_key(embedder, semantic.title_weight)}:s{stop}" if embedder else "none"
    state = Matching(matcher, embedder, model, RequestIndex(matcher, embedder.dim if embedder else 0),
                     # Per database too: each store's own cache gets every vector it is asked for.
                     _VECTORS.setdefault((conn.engine.url.render_as_string(), model), {}))
    _adopt_unprofiled(conn, state)
    members = request_matching.open_members(conn)
    vectors = state.vectors(conn, [state.texts({"title": m.title, "text": m.text}) for m in members])
    for member, vector in zip(members, vectors, strict=True):
        title, body = state.texts({"title": member.title, "text": member.text})
        state.index.add(member.feature_request_id, Request(member.scope, matcher.fingerprint(body, title=title),
                                                           vector, titled=bool(title.strip())))
    state.expected = request_matching.open_signature(conn)
    return state


def _adopt_unprofiled(conn: Connection, state: Matching) -> None:
    """Feature requests founded before matching kept members: their first request becomes their founder."""
    for fr_id, _match_text, first in request_matching.unprofiled_open(conn):
        row = interactions.get_interaction(conn, first) if first is not None else None
        if row is None:
            continue
        request_matching.add_member(conn, fr_id, row["id"], text_hash(*state.texts(row)), "founded", None)
        request_matching.set_profile(conn, fr_id, state.matcher.config.scope.of(dict(row)))


def aggregate(conn: Connection, ctx: SyncContext, row: Mapping[str, Any], root: Mapping[str, Any] | None,
              writes: PageWrites | None = None) -> tuple[str, int, Score]:
    """Link ``row`` to a feature request; returns (outcome, feature request id, score).

    The outcome is ``voted``, ``suggested`` (it founded a feature request whose ticket waits for a
    person to confirm or reject the match) or ``new_feature_request``.  The link, the member, the
    recount and the audit row go to the triage page's ``writes`` when given (written once per page, not
    per vote), else straight to the store.
    """
    if root is not None and root.get("feature_request_id"):
        fr_id = int(root["feature_request_id"])
        score = Score(100.0, explanation="a post in the feature request's own thread")
        outcome = "voted"
    else:
        state = matching(conn, ctx.rulebook.feature_requests)
        request = state.request(conn, row)
        best, score = state.index.best(request)
        titled = request.titled and best is not None and state.index.titled(best)
        decision = state.matcher.config.decide(score.total, best is not None, titled)
        if decision == "vote" and best is not None:
            fr_id, outcome, joined = best, "voted", "matched"
            score = dataclasses.replace(score, explanation=f"{score.explanation}; vote for feature request {best}")
        else:
            fr_id = _found(conn, ctx, row, request, held=decision == "suggest")
            outcome, joined = "new_feature_request", "founded"
            if decision == "suggest" and best is not None:
                outcome = "suggested"
                request_matching.add_review(conn, fr_id, best, row["id"], score.total, score.explanation,
                                            "suggestion")
                score = dataclasses.replace(score, explanation=(
                    f"{score.explanation}; suggested match for feature request {best}: its ticket waits for "
                    f"`continuum requests merge {best} {fr_id}` or `continuum requests split {fr_id}`"))
            elif best is not None:
                score = dataclasses.replace(score, explanation=f"{score.explanation}; closest: feature request "
                                                               f"{best}")
        if writes is not None:
            writes.member(fr_id, row["id"], text_hash(*state.texts(row)), joined, score.total)
        else:
            request_matching.add_member(conn, fr_id, row["id"], text_hash(*state.texts(row)), joined, score.total)
        state.index.add(fr_id, request)
        state.added(fr_id, founded=joined == "founded")
    linked: JSON = {"feature_request_id": fr_id, "outcome": outcome, "score": score.total, "why": score.explanation}
    if writes is not None:
        writes.set(row, feature_request_id=fr_id)
        writes.vote(fr_id)
        writes.audit(row["id"], "linked_feature_request", linked)
        return outcome, fr_id, score
    interactions.update_interaction(conn, row["id"], feature_request_id=fr_id)
    feature_requests.set_votes(conn, fr_id, interactions.count_voters(conn, fr_id))
    audit(conn, "interaction", row["id"], "linked_feature_request", linked, ctx.pipeline_name)
    return outcome, fr_id, score


def _found(conn: Connection, ctx: SyncContext, row: Mapping[str, Any], founding: Request, held: bool) -> int:
    title = (row.get("title") or row.get("text") or "")[:200].strip() or "Feature request"
    fr_id = feature_requests.create_feature_request(conn, title, (row.get("text") or "")[:1000],
                                                    founding.fingerprint.serialise(), utcnow())
    request_matching.set_profile(conn, fr_id, founding.scope, held=held)
    audit(conn, "feature_request", fr_id, "created", {"founded_by": row["id"], "scope": founding.scope,
                                                      "held_for_review": held}, ctx.pipeline_name)
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
