"""The figures of ``continuum report``: named queries over the store, each one a small summary.

Each query returns aggregates (counts, durations, titles of feature requests); only the overdue list
names the customers who wait, as a support lead needs it.  Grouping by day happens in the database;
durations are folded per team while the rows stream, so memory stays flat however many interactions the
store holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from statistics import median
from typing import Any

from sqlalchemy import Connection, func, select, update

from continuum.connector import JSON
from continuum.store.base import insert_ignore
from continuum.store.db import utcnow
from continuum.store.tables import (
    call_counts,
    customers,
    dead_letters,
    feature_requests,
    interactions,
    links,
    outbox,
)

COUNTED = ("calls", "retries", "throttled")  # the HTTP layer's counters the report keeps
REASON_CHARS = 80  # a dead letter's reason: the start of its error, so equal causes count together


def volume_by_day(conn: Connection) -> list[JSON]:
    """Inbound interactions per day, channel (source system) and kind."""
    day = func.date(interactions.c.created_at)
    rows = conn.execute(select(day.label("day"), interactions.c.source_system, interactions.c.kind,
                               func.count().label("n"))
                        .where(interactions.c.direction == "inbound", interactions.c.created_at.is_not(None))
                        .group_by(day, interactions.c.source_system, interactions.c.kind)
                        .order_by(day, interactions.c.source_system, interactions.c.kind))
    return [{"day": str(row.day), "channel": row.source_system, "kind": row.kind, "count": int(row.n)}
            for row in rows]


def answers_by_team(conn: Connection, now: datetime) -> list[JSON]:
    """Per team: interactions with an SLA, how many were answered in time, late, are overdue or still open,
    and the median and mean hours to the first answer."""
    teams: dict[str, dict[str, Any]] = {}
    rows = conn.execute(select(interactions.c.team, interactions.c.created_at, interactions.c.answered_at,
                               interactions.c.sla_due)
                        .where(interactions.c.direction == "inbound", interactions.c.team.is_not(None),
                               interactions.c.status.not_in(("ignored", "deleted"))))
    for team, created, answered, due in rows:
        entry = teams.setdefault(team, {"team": team, "interactions": 0, "with_sla": 0, "met": 0, "late": 0,
                                        "overdue": 0, "open": 0, "hours": []})
        entry["interactions"] += 1
        if answered is not None and created is not None:
            entry["hours"].append(max(0.0, (_aware(answered) - _aware(created)).total_seconds() / 3600))
        if due is None:
            continue
        entry["with_sla"] += 1
        if answered is not None:
            entry["met" if _aware(answered) <= _aware(due) else "late"] += 1
        else:
            entry["overdue" if _aware(due) < _aware(now) else "open"] += 1
    result = []
    for entry in sorted(teams.values(), key=lambda e: e["team"]):
        hours = entry.pop("hours")
        decided = entry["met"] + entry["late"] + entry["overdue"]
        entry.update({"answered": len(hours),
                      "median_hours_to_answer": round(median(hours), 2) if hours else None,
                      "mean_hours_to_answer": round(sum(hours) / len(hours), 2) if hours else None,
                      "sla_attainment": round(entry["met"] / decided, 3) if decided else None})
        result.append(entry)
    return result


def _aware(moment: datetime) -> datetime:
    """SQLite gives timestamps back without their zone; the store writes UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def overdue(conn: Connection, now: datetime, limit: int = 10) -> list[JSON]:
    """The interactions waiting longest past their SLA, with the customer who waits (what a lead acts on)."""
    rows = conn.execute(select(interactions.c.id, interactions.c.source_system, interactions.c.kind,
                               interactions.c.team, interactions.c.priority, interactions.c.sla_due,
                               customers.c.display_name)
                        .join(customers, customers.c.id == interactions.c.customer_id, isouter=True)
                        .where(interactions.c.direction == "inbound", interactions.c.answered_at.is_(None),
                               interactions.c.sla_due < now,
                               interactions.c.status.not_in(("ignored", "deleted", "closed", "answered")))
                        .order_by(interactions.c.sla_due, interactions.c.id).limit(limit))
    return [{"interaction": row.id, "customer": row.display_name or "", "channel": row.source_system,
             "kind": row.kind, "team": row.team, "priority": row.priority,
             "hours_overdue": round((_aware(now) - _aware(row.sla_due)).total_seconds() / 3600, 1)}
            for row in rows]


def top_requests(conn: Connection, limit: int = 10) -> list[JSON]:
    """The most wanted feature requests: title, votes, status and the ticket that carries them."""
    rows = conn.execute(select(feature_requests.c.id, feature_requests.c.title, feature_requests.c.votes,
                               feature_requests.c.status, feature_requests.c.shipped_at)
                        .where(feature_requests.c.votes > 0)
                        .order_by(feature_requests.c.votes.desc(), feature_requests.c.id).limit(limit)).all()
    tickets: dict[int, JSON] = {}
    if rows:
        for link in conn.execute(select(links.c.record_id, links.c.system, links.c.external_id, links.c.url).where(
                links.c.record_type == "feature_request", links.c.record_id.in_([r.id for r in rows]))):
            tickets.setdefault(int(link.record_id), {"system": link.system, "key": link.external_id,
                                                     "url": link.url})
    return [{"id": row.id, "title": row.title, "votes": int(row.votes), "status": row.status,
             "shipped": row.shipped_at is not None, "ticket": tickets.get(row.id)} for row in rows]


def dead_letters_by_reason(conn: Connection) -> list[JSON]:
    """Open dead letters and effects given up on, per system, stage and reason (the start of the error)."""
    found: dict[tuple[str, str, str], int] = {}
    for system, stage, error in conn.execute(select(dead_letters.c.system, dead_letters.c.stage,
                                                    dead_letters.c.error).where(dead_letters.c.state == "open")):
        key = (system, stage, reason_of(error))
        found[key] = found.get(key, 0) + 1
    for system, error in conn.execute(select(outbox.c.system, outbox.c.last_error).where(
            outbox.c.state.in_(("dead", "expired")))):
        key = (system, "effect", reason_of(error))
        found[key] = found.get(key, 0) + 1
    return [{"system": s, "stage": st, "reason": r, "count": n}
            for (s, st, r), n in sorted(found.items(), key=lambda item: (-item[1], item[0]))]


def reason_of(error: str | None) -> str:
    """The first line of an error, cut short: its cause, without the record it was about."""
    line = (error or "unknown").strip().splitlines()[0] if (error or "").strip() else "unknown"
    return line if len(line) <= REASON_CHARS else line[:REASON_CHARS - 1] + "…"


def record_calls(conn: Connection, pipeline: str, deltas: dict[str, dict[str, float]],
                 now: datetime | None = None) -> None:
    """Add what one stage's run called, per system (the HTTP layer's counters), to the day's counts."""
    moment = now or utcnow()
    day = moment.astimezone(UTC).date().isoformat()
    for system, counts in sorted(deltas.items()):
        added = {name: int(counts.get(name, 0) or 0) for name in COUNTED}
        if not added["calls"]:
            continue
        where = (call_counts.c.pipeline == pipeline) & (call_counts.c.system == system) & (call_counts.c.day == day)
        increment = {name: call_counts.c[name] + n for name, n in added.items()}
        if conn.execute(update(call_counts).where(where).values(**increment, updated_at=moment)).rowcount:
            continue
        row = {"pipeline": pipeline, "system": system, "day": day, **added, "updated_at": moment}
        if not insert_ignore(conn, call_counts, [row], ["pipeline", "system", "day"]):
            # Another run made the day's row between the two statements: add to it.
            conn.execute(update(call_counts).where(where).values(**increment, updated_at=moment))


def calls_by_system(conn: Connection) -> list[JSON]:
    """HTTP calls per system over every recorded run, with the retries and 429 answers among them."""
    rows = conn.execute(select(call_counts.c.system, *[func.sum(call_counts.c[name]).label(name)
                                                       for name in COUNTED])
                        .group_by(call_counts.c.system).order_by(call_counts.c.system))
    return [{"system": row.system, **{name: int(getattr(row, name) or 0) for name in COUNTED}} for row in rows]
