"""``continuum history``: one interaction's whole story, from the read to the answer.

A person names it as they meet it: the interaction's id, the post's URL or
source id, or the ticket (its key, like ``PROD-12``, or its URL).  The story
is what the store recorded: the read, each triage decision with the rules
behind it, the effects with their external ids and URLs, the answers that
came back, the notices, and any dead letters.  A ticket that stands for a
feature request tells the story of each interaction behind it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.store import history
from continuum.store.feature_requests import get_feature_request
from continuum.store.rows import InteractionRow


class NotFound(LookupError):
    pass


def history_of(conn: Connection, reference: str) -> JSON:
    """The stories of the interactions ``reference`` names (usually one)."""
    rows = history.interaction_by_reference(conn, reference)
    feature: JSON | None = None
    if not rows:
        for link in history.links_by_reference(conn, reference):
            if link["record_type"] == "interaction":
                rows += history.interaction_by_reference(conn, str(link["record_id"]))
            elif link["record_type"] == "feature_request":
                feature = {**get_feature_request(conn, link["record_id"]), "ticket": dict(link)}
                rows += history.interactions_of_feature_request(conn, link["record_id"])
    if not rows:
        letters = history.letters_about(conn, [], reference)  # a record that failed before it was stored
        if letters:
            return {"reference": reference, "feature_request": None, "stories": [],
                    "dead_letters": [{k: v for k, v in letter.items() if k != "payload"} for letter in letters]}
        raise NotFound(f"nothing in the store is {reference!r}: give an interaction id, a post's URL or source id "
                       "(post:123), or a ticket key or URL")
    return {"reference": reference, "feature_request": feature, "stories": [story(conn, row) for row in rows],
            "dead_letters": []}


def story(conn: Connection, row: InteractionRow) -> JSON:
    effects = history.effects_of(conn, "interaction", row["id"])
    if row["feature_request_id"]:
        effects += history.effects_of(conn, "feature_request", row["feature_request_id"])
    posts = history.posts_answering(conn, row["id"], row["source_system"])
    keys = [e["idempotency_key"] for e in effects + posts] + [f"interaction/{row['id']}", f"override/{row['id']}"]
    urls = history.urls_of(conn, [e["external_id"] for e in effects + posts if e["external_id"]])
    return {
        "interaction": dict(row),
        "events": [_event(e) for e in history.events_of(conn, "interaction", row["id"])],
        "effects": [_effect(e, urls) for e in effects],
        "links": [dict(link) for link in history.links_of(conn, "interaction", row["id"])],
        "answers": [dict(a) for a in history.answers_to(conn, row["id"])],
        "posts_in_thread": [_effect(e, urls) for e in posts],
        "dead_letters": [{k: v for k, v in letter.items() if k != "payload"}
                         for letter in history.letters_about(conn, keys, row["source_id"])],
    }


def _event(event: JSON) -> JSON:
    return {"at": event["at"], "action": event["action"], "system": event["system"], "changes": event["changes"]}


def _effect(effect: Any, urls: dict[tuple[str, str], str]) -> JSON:
    return {"action": effect["action"], "system": effect["system"], "object": effect["object_type"],
            "state": effect["state"], "external_id": effect["external_id"], "target": effect["target_id"],
            "url": urls.get((effect["system"], effect["external_id"] or "")),
            "purpose": (effect["context"] or {}).get("purpose"), "attempts": effect["attempts"],
            "error": effect["last_error"], "key": effect["idempotency_key"], "at": effect["updated_at"],
            "record": f"{effect['record_type']} {effect['record_id']}"}
