"""Deleted records: tombstones, and purging a deleted interaction's text from every copy the store holds.

Where the text may be, besides the interaction row: its audit events (an edit records the new text), the
effects planned from it (a ticket's rendered description, the context a connector reads), dead letters about
the record or those effects (their payloads are the raw record or the rendered fields), and the feature
request it founded (title and summary come from its text).  Copies are found by the record they belong to,
then every string in them that carries the text (any version the store knows, whole or its start, as
templates truncate it) is replaced.  What was rendered from an earlier version the store no longer knows
(a ticket made before an edit) is replaced whole: an effect's fields, and context entries named
``*title``/``*text``, are copies by construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update

from continuum.store.base import insert_ignore
from continuum.store.crm import LOG_RECORD
from continuum.store.rows import InteractionRow
from continuum.store.tables import audit_events, dead_letters, feature_requests, interactions, outbox, tombstones

PLACEHOLDER = "[deleted by the author]"
DELETED = "deleted"  # the interaction's status, and its content hash: no text, nothing to compare
# Effects not sent yet: a ticket or a message about deleted text must not go out any more.
CANCELLABLE = ("pending", "failed", "held", "dead")
# Templates truncate (a ticket's summary): the start of a text finds its shortened copies too.
FRAGMENT_CHARS = 40
# Runs of this many words of any version mark a copy of a version the store no longer has (before an edit).
SHINGLE_WORDS = 4


def tombstoned(conn: Connection, system: str, source_ids: Iterable[str]) -> set[str]:
    """Which of these source ids of ``system`` were deleted (one query for a page)."""
    ids = list(source_ids)
    if not ids:
        return set()
    return set(conn.execute(select(tombstones.c.source_id).where(
        tombstones.c.system == system, tombstones.c.source_id.in_(ids))).scalars())


def add_tombstone(conn: Connection, system: str, source_id: str, interaction_id: int | None, now: datetime) -> None:
    insert_ignore(conn, tombstones, [{"system": system, "source_id": source_id, "interaction_id": interaction_id,
                                      "deleted_at": now}], ["system", "source_id"])


def interaction_by_source(conn: Connection, system: str, source_id: str) -> InteractionRow | None:
    row = conn.execute(select(interactions).where(interactions.c.source_system == system,
                                                  interactions.c.source_id == source_id)).mappings().first()
    return None if row is None else InteractionRow(**row)  # type: ignore[typeddict-item]


def fragments(*texts: str | None) -> list[str]:
    """The pieces of text whose presence marks a string as a copy: each text, and its start."""
    found: list[str] = []
    for text in texts:
        clean = (text or "").strip()
        if not clean:
            continue
        for piece in (clean, clean[:FRAGMENT_CHARS].strip()):
            for variant in (piece, " ".join(piece.split())):  # a template may fold newlines into spaces
                if variant and variant not in found:
                    found.append(variant)
    return found


def shingles(*texts: str | None) -> list[str]:
    """Every run of :data:`SHINGLE_WORDS` words of each text (the whole text when it is shorter)."""
    found: dict[str, None] = {}
    for text in texts:
        words = (text or "").split()
        for start in range(max(1, len(words) - SHINGLE_WORDS + 1)):
            run = " ".join(words[start:start + SHINGLE_WORDS])
            if run:
                found[run] = None
    return list(found)


def scrub(value: Any, pieces: list[str]) -> Any:
    """``value`` (JSON) with every string that holds one of ``pieces`` replaced by the placeholder."""
    if isinstance(value, str):
        folded = " ".join(value.split())
        return PLACEHOLDER if any(p in value or p in folded for p in pieces) else value
    if isinstance(value, dict):
        return {k: scrub(v, pieces) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, pieces) for v in value]
    return value


def blank(value: Any) -> Any:
    """``value`` (JSON) with every string replaced by the placeholder: a copy rendered from the text."""
    if isinstance(value, str):
        return PLACEHOLDER
    if isinstance(value, dict):
        return {k: blank(v) for k, v in value.items()}
    if isinstance(value, list):
        return [blank(v) for v in value]
    return value


def _scrub_context(value: Any, pieces: list[str]) -> Any:
    if not isinstance(value, dict):
        return scrub(value, pieces)
    return {k: PLACEHOLDER if isinstance(v, str) and k.endswith(("title", "text")) else scrub(v, pieces)
            for k, v in value.items()}


def _earlier_texts(conn: Connection, interaction_id: int) -> list[str]:
    """The texts the interaction had before (each edit's audit event records the new text)."""
    rows = conn.execute(select(audit_events.c.changes).where(
        audit_events.c.record_type == "interaction", audit_events.c.record_id == interaction_id,
        audit_events.c.action == "updated")).scalars()
    return [str(changes["text"]) for changes in rows if isinstance(changes, dict) and changes.get("text")]


def _founded(conn: Connection, feature_request_id: int, interaction_id: int) -> bool:
    rows = conn.execute(select(audit_events.c.changes).where(
        audit_events.c.record_type == "feature_request", audit_events.c.record_id == feature_request_id,
        audit_events.c.action == "created")).scalars()
    return any(isinstance(changes, dict) and changes.get("founded_by") == interaction_id for changes in rows)


def purge_interaction(conn: Connection, row: InteractionRow, effect_keys_out: list[str] | None = None) -> list[str]:
    """Remove the interaction's text from the store; returns the tables that held a copy (no text in it)."""
    versions = [row["text"], row["title"], *_earlier_texts(conn, row["id"])]
    # The URL too: a forum's URL carries the title's slug. Exact pieces for what others share (a feature
    # request's title); word runs as well for the copies that belong to this interaction alone.
    pieces = fragments(*versions) + ([row["url"]] if row["url"] else [])
    marks = pieces + shingles(*versions)
    touched = ["interactions"]
    conn.execute(update(interactions).where(interactions.c.id == row["id"]).values(
        text="", title="", url=None, status=DELETED, content_hash=DELETED))
    if _scrub_rows(conn, audit_events, [audit_events.c.changes], marks,
                   (audit_events.c.record_type == "interaction") & (audit_events.c.record_id == row["id"])):
        touched.append("audit_events")
    # Its own effects: those planned for the interaction, and its CRM timeline entry.
    mine = outbox.c.record_type.in_(("interaction", LOG_RECORD)) & (outbox.c.record_id == row["id"])
    request = row["feature_request_id"]
    # A feature request's effects quote its voices: this one's words go, the others' stay where they can.
    theirs = (outbox.c.record_type == "feature_request") & (outbox.c.record_id == (request or -1))
    keys = list(conn.execute(select(outbox.c.idempotency_key).where(or_(mine, theirs))).scalars())
    if effect_keys_out is not None:
        effect_keys_out += keys
    if _scrub_rows(conn, outbox, [outbox.c.last_error], marks, or_(mine, theirs)) | _rewrite_rows(
            conn, outbox, mine, payload=blank, context=lambda v: _scrub_context(v, marks)) | _scrub_rows(
            conn, outbox, [outbox.c.payload, outbox.c.context], marks, theirs):
        touched.append("outbox")
    conn.execute(update(outbox).where(mine, outbox.c.state.in_(CANCELLABLE)).values(state="cancelled"))
    about_record = (dead_letters.c.system == row["source_system"]) & dead_letters.c.record_key.like(
        f"%/{row['source_id']}")
    letters = or_(about_record, dead_letters.c.record_key.in_(keys or ["-"]))
    effect_letters = dead_letters.c.record_key.in_(keys or ["-"])
    if _scrub_rows(conn, dead_letters, [dead_letters.c.payload, dead_letters.c.error], marks, letters) | \
            _rewrite_rows(conn, dead_letters, effect_letters, payload=lambda v: {**v, "fields": blank(v.get("fields"))}
                          if isinstance(v, dict) else v):
        touched.append("dead_letters")
    # A letter about the record keeps the raw record (media links too): nothing is left to replay, so none of it.
    if conn.execute(update(dead_letters).where(about_record).values(payload={"deleted_by_author": True})).rowcount:
        touched.append("dead_letters")
    conn.execute(update(dead_letters).where(about_record, dead_letters.c.state == "open").values(state="resolved"))
    if request is not None and _founded(conn, request, row["id"]):
        # Its title and summary were cut from this text (any version): the request keeps its voters, not them.
        conn.execute(update(feature_requests).where(feature_requests.c.id == request).values(
            title=PLACEHOLDER, summary="", match_text=""))
        touched.append("feature_requests")
    elif request is not None and _scrub_rows(
            conn, feature_requests, [feature_requests.c.title, feature_requests.c.summary,
                                     feature_requests.c.match_text], pieces, feature_requests.c.id == request):
        touched.append("feature_requests")
    return list(dict.fromkeys(touched))


def _rewrite_rows(conn: Connection, table: Any, where: Any, **columns: Any) -> bool:
    """Rewrite ``columns`` (name → function of the old value) of the rows ``where`` picks; True if any changed."""
    changed = False
    for row in conn.execute(select(table.c.id, *[table.c[name] for name in columns]).where(where)).mappings():
        values = {name: rewrite(row[name]) for name, rewrite in columns.items()}
        values = {name: value for name, value in values.items() if value != row[name]}
        if values:
            conn.execute(update(table).where(table.c.id == row["id"]).values(**values))
            changed = True
    return changed


def _scrub_rows(conn: Connection, table: Any, columns: list[Any], pieces: list[str], where: Any) -> bool:
    """Scrub ``columns`` of the rows ``where`` picks; True when any of them held a copy."""
    if not pieces:
        return False
    changed = False
    for row in conn.execute(select(table.c.id, *columns).where(where)).mappings():
        values = {c.name: scrub(row[c.name], pieces) for c in columns}
        values = {name: value for name, value in values.items() if value != row[name]}
        if values:
            conn.execute(update(table).where(table.c.id == row["id"]).values(**values))
            changed = True
    return changed
