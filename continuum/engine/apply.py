"""Apply: send the outbox's effects in batches, each exactly once.

The life of an effect (planning is :mod:`continuum.engine.outbound`):

1. it is recorded with a deterministic idempotency key (re-planning the same
   thing is a no-op thanks to the unique key);
2. ``apply`` marks a batch ``sending`` and COMMITS before calling the system.
   A crash after that leaves ``attempts > 0``; the next run hands the effect
   to the connector with ``maybe_applied=True`` and the connector looks for
   the object made under the key before creating anything;
3. the results, the links they create and the record status changes are
   committed together.

Failures, ordering and expiry:

* every failure is a dead letter (record, system, field, reason) at once; a
  later success resolves it.  After ``max_attempts`` the effect is ``dead``
  and waits for ``continuum replay``.
* effects are ordered per record and target object: a later effect of the
  same (pipeline, system, record, target) waits while an earlier one is
  pending, failed or dead, as Mozilla's jira-bugzilla-integration queues a
  bug's later events behind its failed one.
* an effect that has kept failing for longer than the retry period
  (``CONTINUUM_RETRY_PERIOD``, default 7 days; ``7d``, ``12h``, ``30m`` or
  seconds) goes to the final ``expired`` state with an ``expired`` dead
  letter: never silently dropped; the effects queued behind it then go on.
  Open ``map`` and ``plan`` letters expire the same way (:func:`expire_dead_letters`).

Stops that are not failures:

* ``held``: the connector chose not to send because the platform's policy forbids it now (Messenger's
  24-hour window).  The effect waits in the ``held`` state with its reason (audited once), holds back the
  later effects of its record, and goes to the connector again on every later run: no attempt counted,
  no dead letter.
* a spent rate-limit window (:mod:`continuum.engine.pauses`): the batch's effects go back to the state they
  were in, their attempt uncounted, and the system's remaining effects wait for the next run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy import Connection, Engine

from continuum import failpoints
from continuum.connector import Effect, EffectResult
from continuum.engine.attachments import on_stored
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.crm import on_contact_created
from continuum.engine.knowledge import on_published
from continuum.engine.pauses import note_rate_limited, window_spent
from continuum.kit.dispatch import Deferred, deferred
from continuum.kit.ratelimit import spent_window
from continuum.store import dead_letters as letters
from continuum.store import interactions
from continuum.store import outbox as effects
from continuum.store.audit import audit, audit_many
from continuum.store.db import utcnow
from continuum.store.links import add_links
from continuum.store.rows import OutboxRow

DEFAULT_BATCH = 50
DEFAULT_RETRY_PERIOD_S = 7 * 24 * 3600
PAGE = 500
_FIELD_IN_ERROR = re.compile(r"field '?([A-Za-z0-9_.\[\]-]+)'?")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_period(value: str) -> float:
    """Seconds from ``90``, ``90s``, ``30m``, ``12h`` or ``7d`` (wall time, unlike SLA durations)."""
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 7d, 12h, 30m or seconds)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def retry_period_s(ctx: SyncContext | None = None) -> float:
    """How long a failing effect or record is retried before it expires."""
    configured = ctx.retry_period_s if ctx is not None else None
    if configured is not None:
        return float(configured)
    env = os.environ.get("CONTINUUM_RETRY_PERIOD")
    return parse_period(env) if env else DEFAULT_RETRY_PERIOD_S


class UnknownHubObjects(RuntimeError):
    """A target holds objects the hub made that this store does not know (a lost or restored store)."""

    def __init__(self, system: str, count: int, examples: list[str]) -> None:
        shown = f" (e.g. {', '.join(examples[:3])})" if examples else ""
        super().__init__(
            f"{system} holds {count} object(s) the hub made that this store does not know{shown}: writing now "
            "would duplicate them; back up the store, then run `continuum reconcile` (or `continuum sync --force`)")
        self.system, self.count = system, count


KEY_PAGE = 100  # keys asked for per lookup: one search per page of keys, never one per record


def refuse_unknown_creates(ctx: SyncContext, system: str) -> None:
    """Before the first attempt of any create, ask the system (in pages of keys) whether it holds an object made
    under one of those keys already: if so, the store has lost track of it, and creating would duplicate it."""
    if ctx.recovering or ctx.force:
        return
    with ctx.db.connect() as conn:
        keys = effects.first_attempt_keys(conn, system, ctx.pipeline_name, "create")
    # Nothing to create: the connector is not even built (a webhook's run touches few of the systems).
    find_keys = getattr(ctx.connector(system), "find_keys", None) if keys else None
    if find_keys is None:
        return
    found: dict[str, object] = {}
    try:
        for start in range(0, len(keys), KEY_PAGE):
            found.update(find_keys(keys[start:start + KEY_PAGE]))
    except Exception:  # unchecked: each create looks for its key itself, and fails (a dead letter) if it cannot
        ctx.unverified.add(system)
        return
    if found:
        examples = [str(obj.get("key") or obj.get("id")) if isinstance(obj, dict) else str(obj)
                    for obj in found.values()]
        raise UnknownHubObjects(system, len(found), examples)


# What a successful effect does to the record it was planned for.
OnSuccess = Callable[[Connection, OutboxRow, EffectResult], None]


def _answered_ids(row: OutboxRow) -> list[int]:
    context = row["context"]
    ids = context.get("answers_interaction_ids") or [context.get("answers_interaction_id")]
    return [int(i) for i in ids if i is not None]


def _routed(conn: Connection, row: OutboxRow, _result: EffectResult) -> None:
    """A ticket or comment now stands for the record: its interactions are routed."""
    interactions.mark_routed(conn, row["record_type"], row["record_id"])


def _answered(conn: Connection, row: OutboxRow, result: EffectResult) -> None:
    """The customer got the answer: the SLA clock stops when the answer was made (now, if the target can't say)."""
    ids = _answered_ids(row)
    if ids:
        interactions.mark_answered(conn, ids, result.made_at)


def _notified(conn: Connection, row: OutboxRow, result: EffectResult) -> None:
    """A chat message that routes an interaction to a person routes it; an alert changes nothing."""
    if row["context"].get("purpose") == "route":
        _routed(conn, row, result)


ON_SUCCESS: dict[str, OnSuccess] = {
    "create": _routed,
    "comment": _routed,
    "reply": _answered,
    "notify": _notified,
    "store": on_stored,  # a file in a document store: the customer's copy of that content
    "publish": on_published,  # a knowledge page: its link keeps the content hash written
    "create_contact": on_contact_created,  # a CRM contact for an unknown author: their identity there
}


def apply_effects(ctx: SyncContext, system: str) -> RunStats:
    """Apply every open effect for ``system`` in record order, in batches the connector can take at once.

    Pass one takes the head of every record's queue; each later pass takes the
    effects that the previous one freed (their earlier effect is now done).
    """
    stats = RunStats()
    expire_effects(ctx, system, stats)
    if window_spent(ctx, system):
        return stats  # an earlier stage of this run found the window spent: everything waits for the next run
    refuse_unknown_creates(ctx, system)
    states: tuple[str, ...] = effects.OPEN_STATES
    spent = False
    while not spent:
        applied = 0
        last_id = 0
        while not spent:
            with ctx.db.connect() as conn:
                rows = effects.queue_heads(conn, system, ctx.pipeline_name, states, last_id, PAGE)
            if not rows:
                break
            last_id = rows[-1]["id"]
            # Once per run: a later stage of the same run would only hear the same hold again.
            rows = [r for r in rows if not (r["state"] == "held" and r["id"] in ctx.held_offered)]
            applied += len(rows)
            by_action: dict[str, list[OutboxRow]] = {}
            for row in rows:
                by_action.setdefault(row["action"], []).append(row)
            connector = ctx.connector(system)  # built on the first effect to apply, not before
            for action, group in by_action.items():
                size = max(1, connector.capabilities.bulk_sizes.get(action, DEFAULT_BATCH))
                for start in range(0, len(group), size):
                    if _apply_batch(ctx, system, group[start:start + size], stats):
                        spent = True  # the window is spent: everything else of this system waits
                        break
                if spent:
                    break
        if not applied:
            break
        states = ("pending",)  # failures of this run wait for the next one
    with ctx.db.connect() as conn:
        waiting = effects.count_held_back(conn, system, ctx.pipeline_name)
    if waiting:
        stats.add("effects_waiting", waiting)
    return stats


def expire_effects(ctx: SyncContext, system: str, stats: RunStats | None = None) -> int:
    """Move effects that kept failing, or were held, for longer than the retry period to ``expired`` (visible,
    final: a dead letter says why)."""
    cutoff = utcnow() - timedelta(seconds=retry_period_s(ctx))
    with ctx.db.begin() as conn:
        rows = effects.failing_since_before(conn, system, ctx.pipeline_name, cutoff)
        for row in rows:
            effects.set_effect(conn, row["id"], state="expired", updated_at=utcnow())
            doing = "held" if row["state"] == "held" else "failing"
            reason = (f"expired: still {doing} after the retry period of {_human(retry_period_s(ctx))}; "
                      f"last {'reason' if doing == 'held' else 'error'}: {row['last_error']}")
            _letter(conn, ctx, system, row, reason, state="expired")
            audit(conn, row["record_type"], row["record_id"], f"{row['action']}_expired",
                  {"system": system, "key": row["idempotency_key"], "last_error": row["last_error"]},
                  ctx.pipeline_name, system)
    if stats is not None and rows:
        stats.add("effects_expired", len(rows))
    return len(rows)


def expire_dead_letters(db: Engine, pipeline: str | None = None, period_s: float | None = None) -> int:
    """Open ``map``/``plan`` letters older than the retry period become ``expired`` (apply letters
    expire with their effect, see :func:`expire_effects`)."""
    cutoff = utcnow() - timedelta(seconds=retry_period_s() if period_s is None else period_s)
    with db.begin() as conn:
        return letters.expire_waiting(conn, cutoff, pipeline)


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _letter(conn: Connection, ctx: SyncContext, system: str, row: OutboxRow, error: str,
            state: str = "open") -> None:
    """The effect's dead letter: which record, which system, which field, and why."""
    target = f" on {row['target_id']}" if row.get("target_id") else ""
    message = f"{row['record_type']} {row['record_id']} → {system} {row['action']}{target}: {error}"
    found = _FIELD_IN_ERROR.search(error or "")
    letters.dead_letter(conn, pipeline=ctx.pipeline_name, system=system, stream=row["action"], stage="apply",
                        record_key=row["idempotency_key"], field=found.group(1) if found else None, error=message,
                        payload={"outbox_id": row["id"], "record_type": row["record_type"],
                                 "record_id": row["record_id"], "target_id": row.get("target_id"),
                                 "fields": _without_bytes(row["payload"])})
    letters.hold_effect_letter(conn, system, row["idempotency_key"], state, row.get("retry_since"))


def _without_bytes(fields: dict[str, object]) -> dict[str, object]:
    """A letter names the effect; a file's bytes stay in the outbox (replay sends them), not copied here."""
    encoded = fields.get("content_b64")
    if not isinstance(encoded, str):
        return fields
    return {**{k: v for k, v in fields.items() if k != "content_b64"}, "content_b64": f"<{len(encoded)} chars>"}


def _apply_batch(ctx: SyncContext, system: str, batch: Sequence[OutboxRow], stats: RunStats) -> bool:
    """Send one batch and settle each effect; True when the system's rate-limit window is spent."""
    with ctx.db.begin() as conn:
        # Committed before the call: from here on, a crash means "maybe applied".
        effects.mark_sending(conn, [row["id"] for row in batch])
    failpoints.hit(f"before_write:{system}")
    planned = [Effect(key=row["idempotency_key"], action=row["action"], object_type=row["object_type"],
                      fields=row["payload"], target_id=row["target_id"],
                      maybe_applied=row["attempts"] > 0 or ctx.recovering
                      or (row["action"] == "create" and system in ctx.unverified),
                      context=row["context"]) for row in batch]
    try:
        results = ctx.connector(system).write(planned)
    except Exception as exc:  # the whole batch failed; each effect stays retryable
        window = spent_window(exc)
        results = [deferred(e, window.resume_in_s) if window is not None
                   else EffectResult(key=e.key, ok=False, error=f"{type(exc).__name__}: {exc}") for e in planned]
    failpoints.hit(f"after_write:{system}")
    by_key = {result.key: result for result in results}
    with ctx.db.begin() as conn:
        settled = [(row, by_key.get(row["idempotency_key"]) or EffectResult(
            key=row["idempotency_key"], ok=False, error="the connector returned no result for this effect"))
            for row in batch]
        made = [(row, result) for row, result in settled if result.ok and result.external_id]
        _settle_made(conn, ctx, system, made, stats)
        for row, result in settled:
            if not (result.ok and result.external_id):
                _settle(conn, ctx, system, row, result, stats)
    ctx.tick(f"apply {system}", len(batch))
    waits = [r.resume_in_s for r in results if isinstance(r, Deferred)]
    if waits:
        note_rate_limited(ctx, stats, system, max(waits), "its effects wait, pending, for the next run")
    return bool(waits)


def _settle_made(conn: Connection, ctx: SyncContext, system: str, made: Sequence[tuple[OutboxRow, EffectResult]],
                 stats: RunStats) -> None:
    """Settle the batch's effects that made something, in a few statements for the whole batch.

    Their dead letters, their done state, their links and their audit rows go in one statement each;
    what an action does once it succeeded (:data:`ON_SUCCESS`) runs per effect, after its link exists."""
    if not made:
        return
    from continuum.engine import expert  # here: expert plans answers, whose modules import this one

    letters.resolve_dead_letters(conn, system, "apply", [row["idempotency_key"] for row, _ in made])
    effects.mark_done_many(conn, {row["id"]: str(result.external_id) for row, result in made})
    add_links(conn, [{"record_type": row["record_type"], "record_id": row["record_id"], "system": system,
                      "object_type": result.object_type or row["object_type"], "external_id": result.external_id,
                      "url": result.url, "external_version": result.version} for row, result in made])
    routed: list[tuple[str, int]] = []  # the commonest handler, for the whole batch at once
    for row, result in made:
        handler = ON_SUCCESS.get(row["action"])
        if handler is _routed or (handler is _notified and row["context"].get("purpose") == "route"):
            routed.append((row["record_type"], row["record_id"]))
        elif handler is not None:
            handler(conn, row, result)
        if row["action"] == "create":  # a ticket: its team's experts may get a chat thread for it
            expert.ticket_made(conn, ctx, row, str(result.external_id), result.url)
        stats.add(f"{row['action']}_found" if result.found_existing else f"{row['action']}_applied")
    interactions.mark_routed_many(conn, routed)
    audit_many(conn, [{"record_type": row["record_type"], "record_id": row["record_id"],
                       "action": f"{row['action']}_applied", "pipeline": ctx.pipeline_name, "system": system,
                       "changes": {"system": system, "external_id": result.external_id,
                                   "found_existing": result.found_existing}} for row, result in made])


def _settle(conn: Connection, ctx: SyncContext, system: str, row: OutboxRow, result: EffectResult,
            stats: RunStats) -> None:
    """Settle one effect that made nothing: done without a link, deferred, held or failed."""
    now = utcnow()
    if result.ok:  # an effect with nothing to link (e.g. a transition)
        letters.resolve_dead_letter(conn, system, "apply", row["idempotency_key"])
        effects.set_effect(conn, row["id"], state="done", updated_at=now)
        stats.add(f"{row['action']}_applied")
        return
    if isinstance(result, Deferred):
        # Never sent (refused before sending, or a 429 the server did not act on): as it was before.
        effects.set_effect(conn, row["id"], state=row["state"], attempts=row["attempts"])
        stats.add("effects_deferred")
        return
    if result.held:
        _hold(conn, ctx, system, row, result, stats)
        return
    attempts = row["attempts"] + 1
    final = result.permanent or attempts >= ctx.max_attempts
    error = result.error or "failed without a reason"
    effects.mark_failed(conn, row["id"], final=final, error=error, now=now)
    stats.add("effects_failed")
    if final:
        stats.add("effects_dead")
    failing = row.copy()
    failing["retry_since"] = row.get("retry_since") or now
    _letter(conn, ctx, system, failing,
            f"{error} (attempt {attempts} of {ctx.max_attempts}"
            f"{'; a retry cannot help: fix it, then replay' if result.permanent else ''}"
            f"{'; given up until replay' if final and not result.permanent else ''})")


def _hold(conn: Connection, ctx: SyncContext, system: str, row: OutboxRow, result: EffectResult,
          stats: RunStats) -> None:
    """The platform's policy forbids the effect now: held with its reason, not failed, no attempt counted."""
    reason = result.error or "held by the connector"
    # Nothing was sent: the attempt mark_sending counted is taken back, so a later send is no "maybe applied".
    # Held since its first hold: a policy that never reopens (the customer never writes again) expires it after
    # the retry period, as a failing effect does, instead of holding it for ever.
    effects.set_effect(conn, row["id"], state="held", attempts=row["attempts"], last_error=reason,
                       updated_at=utcnow(), retry_since=row.get("retry_since") or utcnow())
    stats.add("effects_held")
    ctx.held_offered.add(row["id"])
    if row["state"] != "held" or row["last_error"] != reason:
        audit(conn, row["record_type"], row["record_id"], f"{row['action']}_held",
              {"system": system, "key": row["idempotency_key"], "reason": reason}, ctx.pipeline_name, system)
