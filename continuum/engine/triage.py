"""Triage and dispatch: rules decide, the outbox records what to do about it.

For each new interaction: compute the facts rules can test, run the rule
book, let a human override win, then act — open a ticket, vote for (or
found) a feature request, notify a person in chat, ignore, or drop.  A later
message in a thread that already has a ticket becomes a comment on it; in a
feature request's thread it is a vote.  An answer the company wrote directly
on the channel stops the thread's SLA clock.

A page of interactions costs a handful of statements: :class:`PageFacts`
loads its facts (and its thread roots' tickets) at once, and
:class:`~continuum.engine.pagewrites.PageWrites` writes its row updates,
votes, members, audit events and planned effects in bulk at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from continuum.config import TargetSpec
from continuum.connector import JSON
from continuum.engine import aggregate
from continuum.engine.attachments import plan_link_comments, plan_stores
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.conversations import WHOLE_THREAD, answered_by, member_of
from continuum.engine.facts import PageFacts
from continuum.engine.outbound import Failure, Outbound, plan_failed, plan_outbound
from continuum.engine.pagewrites import PageWrites
from continuum.engine.reading import read_page
from continuum.engine.sla_watch import check_sla
from continuum.mapping import MappingError
from continuum.policy.reading import NEEDS_A_PERSON
from continuum.policy.rules import Decision, apply_override, decide
from continuum.store import attachments, interactions
from continuum.store.audit import audit
from continuum.store.rows import InteractionRow

PAGE = 500


def triage(ctx: SyncContext, final_pass: bool = True) -> RunStats:
    """Triage every new interaction; on the final pass also refresh voices and check SLAs."""
    stats = RunStats()
    # One source after the other, in the config's order: the outcome (which request founds a feature
    # request, which one votes for it) must not depend on which read finished first when Airflow reads
    # the sources side by side.
    for source in dict.fromkeys(s.system for s in ctx.pipeline.sources):
        last_id = 0
        while True:
            with ctx.db.begin() as conn:
                rows = interactions.claim_new(conn, [source], last_id, PAGE)
                if not rows:
                    break
                last_id = rows[-1]["id"]
                facts = PageFacts(conn, rows, channel_systems(ctx), detect=ctx.rulebook.uses_language)
                writes = PageWrites(conn, ctx.pipeline_name, facts, read_page(rows, ctx.rulebook.classifier), rows)
                try:
                    for row in rows:
                        stats.add(f"triage_{_triage_one(writes, ctx, row)}")
                    writes.flush()
                finally:
                    writes.close()
    with ctx.db.begin() as conn:
        # After all of this pass's votes are linked: new tickets start with every voice.
        stats.add("feature_request_tickets", aggregate.plan_missing_tickets(conn, ctx))
    if final_pass:
        with ctx.db.begin() as conn:  # after the apply stage: the tickets and files made are linked
            stats.add("attachment_links", plan_link_comments(conn, ctx))
        with ctx.db.begin() as conn:
            stats.add("voices_updates", aggregate.refresh_voices(conn, ctx))
            stats.merge(check_sla(conn, ctx))
    return stats


def channel_systems(ctx: SyncContext) -> set[str]:
    return {s.system for p in ctx.hub.pipelines.values() for s in p.sources}


def _triage_one(w: PageWrites, ctx: SyncContext, row: InteractionRow) -> str:
    if row["direction"] == "outbound":
        return _company_spoke(w, row)
    facts = w.facts.of(row)
    root = facts.pop("thread_root")
    text = w.texts[row["id"]]
    item = {**row, **facts, **text.facts(), "kind": text.reading.kind}
    decision = decide(ctx.rulebook.rules, item)
    apply_override(decision, row.get("override"))
    facts["reading"] = text.reading.explain()
    person_decided = bool((row.get("override") or {}).get("kind") or (row.get("override") or {}).get("action"))
    if root is not None and root.get("feature_request_id") and decision.kind in ("feature_request", "unknown"):
        # A "+1" in a feature request's thread is a vote there; a question asked there is not.
        _, fr_id, _score = aggregate.aggregate(w.conn, ctx, row, root, w)
        routed = w.has_ticket(fr_id)
        w.set(row, kind="feature_request", team=root["team"], priority=root["priority"], route=root["route"],
              language=facts["language"], status="routed" if routed else "triaged", feature_request_id=fr_id)
        return "voted"
    if root is not None and not root.get("feature_request_id") and ctx.pipeline.follow_ups == "comment" \
            and root["route"]:
        return _follow_up(w, ctx, row, root)
    # A reply in a ticketed thread is a comment whatever its reading; anything else the reading doubts is
    # for a person before it is ignored, dropped or handed to HR or sales.
    if text.reading.doubtful and not person_decided and decision.action in NEEDS_A_PERSON:
        return _needs_review(w, ctx, row, decision, facts)
    if decision.kind == "noise" and decision.action == "ignore" and ctx.rulebook.banter == "drop":
        decision.action = "drop"
    return _act(w, ctx, row, decision, facts)


def _act(w: PageWrites, ctx: SyncContext, row: InteractionRow, decision: Decision, facts: JSON) -> str:
    conn = w.conn
    values: JSON = {"kind": decision.kind, "team": decision.team, "priority": decision.priority,
                    "route": decision.route, "language": facts["language"], "sla_policy": decision.sla}
    values["sla_due"] = None if decision.action in ("ignore", "drop") else ctx.rulebook.sla.due_time(
        decision.sla, decision.priority, row["created_at"] or row["first_seen_at"])
    explanation: JSON = {"rules": decision.rules, "action": decision.action, "reading": facts.get("reading")}
    if decision.action in ("drop", "ignore") and row["id"] in w.carrying:
        attachments.drop_content(conn, row["id"])  # no ticket will link to them: their bytes are not kept
    if decision.action == "drop":
        interactions.delete_interaction(conn, row["id"])
        audit(conn, "interaction", row["id"], "dropped", {"source": row["source_id"], **explanation},
              ctx.pipeline_name, row["source_system"])
        return "dropped"
    if decision.action == "ignore":
        w.set(row, **values, status="ignored")
        w.audit(row["id"], "ignored", explanation)
        return "ignored"
    outcome = "triaged"
    # Where a planning failure goes: this interaction's letter, in the system it was routed to.
    failure = _failure(row, decision.route or "?")
    try:
        if decision.action == "link" or (decision.action == "ticket" and decision.kind == "feature_request"
                                         and ctx.rulebook.feature_requests.route == decision.route
                                         and ctx.pipeline.feature_request_mapping):
            outcome, fr_id, score = aggregate.aggregate(conn, ctx, row, None, w)
            values["feature_request_id"] = fr_id
            explanation.update(feature_request=fr_id, score=score.total, why=score.explanation)
            if w.has_ticket(fr_id):
                values["status"] = "routed"
        elif decision.action in ("ticket", "task") and decision.route:
            target = _target(ctx, decision.route)
            if _plan_ticket(conn, ctx, target, {**row, **values}, failure) is None:
                return _planning_failed(w, row)
            stored = plan_stores(conn, ctx, {**row, **values}, row["id"], target.system) \
                if row["id"] in w.carrying else 0
            if stored:
                explanation["files_to_store"] = stored
            outcome = "routed"
        elif decision.action == "notify" and decision.notify is not None:
            if _plan_notify(conn, ctx, {**row, **values}, decision, failure) is None:
                return _planning_failed(w, row)
            outcome = "notified"
    except MappingError as exc:  # the configuration names no target or notice mapping for it
        plan_failed(conn, ctx, failure, exc)
        return _planning_failed(w, row)
    w.set(row, **{"status": "triaged", **values})
    w.audit(row["id"], "triaged", {**{k: v for k, v in values.items() if k != "sla_due"}, **explanation})
    if ctx.explain is not None:
        ctx.explain.append({"interaction": row["id"], "source": row["source_id"], "kind": decision.kind,
                            "outcome": outcome, **explanation})
    return outcome


def _needs_review(w: PageWrites, ctx: SyncContext, row: InteractionRow, decision: Decision, facts: JSON) -> str:
    """Not sure enough to ignore it, drop it, or hand it to HR or sales: the community manager decides.

    ``continuum override ID --kind …`` (or ``--action …``) sends it back to triage, with the person's
    decision in charge, and becomes a training example for ``continuum triage retrain``.
    """
    explanation: JSON = {"rules": decision.rules, "would": decision.action, "reading": facts["reading"]}
    w.set(row, kind=decision.kind, team=decision.team, priority=decision.priority, language=facts["language"],
          status="needs_review")
    w.audit(row["id"], "needs_review", explanation)
    if ctx.explain is not None:
        ctx.explain.append({"interaction": row["id"], "source": row["source_id"], "kind": decision.kind,
                            "outcome": "needs_review", **explanation})
    return "needs_review"


def _failure(row: InteractionRow, system: str) -> Failure:
    return Failure(system=system, record_key=f"interaction/{row['id']}", about=f"interaction {row['id']} → {system}",
                   payload={"interaction_id": row["id"]})


def _planning_failed(w: PageWrites, row: InteractionRow) -> str:
    """The dead letter is kept; the interaction is triaged, so a replay (not every run) retries it."""
    w.set(row, status="triaged")
    return "failed"


def _company_spoke(w: PageWrites, row: InteractionRow) -> str:
    """The company answered on the channel itself: the thread's open questions are answered."""
    w.set(row, status="closed")
    thread, at = row.get("thread_id"), row["created_at"] or row["first_seen_at"]
    if thread is None:
        return "company_answer"
    rows = interactions.thread_rows(w.conn, [(row["source_system"], thread)])[(row["source_system"], thread)]
    members = [member_of(r) for r in rows]
    answered = answered_by(thread, members, row["id"])
    if answered is WHOLE_THREAD:
        interactions.mark_thread_answered(w.conn, row["source_system"], thread, row["id"], at)
    else:
        interactions.mark_answered_at(w.conn, answered, at)
    return "company_answer"


def _target(ctx: SyncContext, system: str) -> TargetSpec:
    for target in ctx.pipeline.targets:
        if target.system == system:
            return target
    raise MappingError("route", f"pipeline {ctx.pipeline_name!r} routes to {system!r} but has no target for it")


def _subject(row: Mapping[str, Any]) -> str:
    return f"{row['source_system']}:{row['source_id']}"


def _plan_ticket(conn: Connection, ctx: SyncContext, target: TargetSpec, row: JSON, failure: Failure) -> str | None:
    return plan_outbound(conn, ctx, Outbound(
        system=target.system, mapping=ctx.mapping(target.mapping), render="create", record_type="interaction",
        record_id=row["id"], subject=_subject(row), about=row,
        context={"source_url": row.get("url"), "source_title": row.get("title") or row["text"][:80]}), failure)


def _plan_notify(conn: Connection, ctx: SyncContext, row: JSON, decision: Decision, failure: Failure) -> str | None:
    assert decision.notify is not None
    system = decision.notify.system
    name = ctx.pipeline.notify_mapping.get(system)
    if name is None:
        raise MappingError("notify", f"pipeline {ctx.pipeline_name!r} has no notify_mapping for {system!r}")
    return plan_outbound(conn, ctx, Outbound(
        system=system, mapping=ctx.mapping(name), render="notify", record_type="interaction", record_id=row["id"],
        subject=_subject(row), about=row,
        extra={"notify": {"channel": decision.notify.channel, "reason": ", ".join(decision.rules)}},
        defaults={"channel": decision.notify.channel}, context={"purpose": "route"}), failure)


def _follow_up(w: PageWrites, ctx: SyncContext, row: InteractionRow, root: JSON) -> str:
    ticket = w.facts.link_of(root["id"], root["route"])
    if ticket is None:
        # The thread's ticket is not made yet; stay new and be picked up once it is.
        return "waiting"
    target = _target(ctx, root["route"])
    values = {"kind": root["kind"], "team": root["team"], "priority": root["priority"], "route": root["route"]}
    planned = plan_outbound(w.conn, ctx, Outbound(
        system=target.system, mapping=ctx.mapping(target.mapping), render="comment", object_type="comment",
        record_type="interaction", record_id=row["id"], subject=_subject(row), about={**row, **values},
        target_id=ticket["external_id"]), _failure(row, target.system))
    if planned is None:
        return _planning_failed(w, row)
    if row["id"] in w.carrying:
        plan_stores(w.conn, ctx, {**row, **values}, root["id"], target.system)  # linked from the thread's ticket
    w.set(row, **values, status="triaged")
    return "follow_up"
