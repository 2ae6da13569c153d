"""Feature requests as people see them: suggested matches to confirm or reject, merges, splits, a list.

Matching votes automatically only above the rule book's ``threshold``.  A
request that scored between ``suggest_threshold`` and ``threshold`` founded
a feature request of its own whose ticket waits: ``merge KEEP ABSORB``
confirms the match (ABSORB's votes and requests join KEEP, and KEEP's ticket
shows them), ``split ABSORB`` rejects it (its ticket is made on the next
run).  ``split FR INTERACTION`` undoes a wrong vote.  Every confirmation and
rejection is kept with the score behind it, for ``continuum requests
calibrate``.
"""

from __future__ import annotations

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.engine.aggregate import matching
from continuum.nlp.embeddings import text_hash
from continuum.policy.similarity import MatchConfig
from continuum.store import feature_requests, interactions, request_matching
from continuum.store.audit import audit
from continuum.store.db import utcnow
from continuum.store.links import tickets_of
from continuum.store.rows import FeatureRequestRow


class RequestError(ValueError):
    pass


def _open(conn: Connection, fr_id: int) -> FeatureRequestRow:
    row = feature_requests.find_feature_request(conn, fr_id)
    if row is None:
        raise RequestError(f"no feature request {fr_id}")
    if row["status"] == "merged":
        profile = request_matching.profile(conn, fr_id)
        into = profile["merged_into"] if profile is not None else None
        raise RequestError(f"feature request {fr_id} was merged into {into}; use that id")
    if row["status"] != "open":
        raise RequestError(f"feature request {fr_id} is {row['status']}, not open")
    return row


def _scope(conn: Connection, fr_id: int) -> str:
    profile = request_matching.profile(conn, fr_id)
    return "" if profile is None else str(profile["scope"])


def _brief(conn: Connection, fr_id: int) -> JSON:
    row = feature_requests.find_feature_request(conn, fr_id)
    return {"id": fr_id, "title": row["title"] if row else "?", "votes": row["votes"] if row else 0,
            "scope": _scope(conn, fr_id), "ticket": _ticket(conn, fr_id)}


def suggest(conn: Connection) -> list[JSON]:
    """Suggested matches waiting for a person, best score first."""
    return [{"feature_request": _brief(conn, review["feature_request_id"]),
             "candidate": _brief(conn, review["candidate_id"]), "score": review["score"], "why": review["why"],
             "interaction": review["interaction_id"], "since": review["created_at"]}
            for review in request_matching.pending_reviews(conn)]


def merge(conn: Connection, keep: int, absorb: int, policy: MatchConfig | None = None) -> JSON:
    """ABSORB's requests and votes join KEEP (a person confirmed they ask for one thing)."""
    if keep == absorb:
        raise RequestError("a feature request cannot be merged into itself")
    _open(conn, keep)
    _open(conn, absorb)
    if _scope(conn, keep) != _scope(conn, absorb):
        raise RequestError(f"feature requests {keep} and {absorb} are in different scopes "
                           f"({_scope(conn, keep)!r} and {_scope(conn, absorb)!r}); they never merge")
    confirmed = request_matching.decide_reviews(conn, absorb, "confirmed", keep)
    if not confirmed:
        # Merged without being suggested: keep the decision with the score the matcher gives it now.
        score, why = _score_between(conn, policy, absorb, keep)
        request_matching.add_review(conn, absorb, keep, None, score, why, "merge", state="confirmed")
    request_matching.decide_reviews(conn, absorb, "rejected")  # its other suggestions: a person chose
    request_matching.retarget_reviews(conn, absorb, keep)
    request_matching.move_members(conn, absorb, keep, "merged")
    moved = request_matching.move_interactions(conn, absorb, keep)
    feature_requests.set_status(conn, absorb, "merged")
    request_matching.update_profile(conn, absorb, merged_into=keep, held=False)
    feature_requests.set_votes(conn, keep, interactions.count_voters(conn, keep))
    feature_requests.set_votes(conn, absorb, 0)
    audit(conn, "feature_request", keep, "merged", {"absorbed": absorb, "interactions": moved})
    result = {"kept": _brief(conn, keep), "absorbed": absorb, "interactions_moved": moved}
    orphan = _ticket(conn, absorb)
    if orphan:
        # The hub never deletes what it wrote; the person closes it as a duplicate in the tracker.
        result["absorbed_ticket"] = orphan
    return result


def split(conn: Connection, fr_id: int, interaction_id: int | None = None) -> JSON:
    """Without an interaction: reject FR's suggested match (it stands alone and gets its ticket).
    With one: move that request (and the "+1"s in its thread) out of FR into a new feature request."""
    fr = _open(conn, fr_id)
    if interaction_id is None:
        if not request_matching.pending_reviews(conn, fr_id):
            raise RequestError(f"feature request {fr_id} has no suggested match to reject; name the interaction "
                               "to move out of it")
        request_matching.decide_reviews(conn, fr_id, "rejected")
        request_matching.update_profile(conn, fr_id, held=False)
        audit(conn, "feature_request", fr_id, "suggestion_rejected", {})
        return {"feature_request": _brief(conn, fr_id), "rejected": True}
    row = interactions.get_interaction(conn, interaction_id)
    if row is None or row["feature_request_id"] != fr_id:
        raise RequestError(f"interaction {interaction_id} is not part of feature request {fr_id}")
    moving = [interaction_id]
    if row["thread_id"]:
        moving += [i for i in request_matching.thread_votes(conn, fr_id, row["source_system"], row["thread_id"])
                   if i != interaction_id]
    if request_matching.interaction_count(conn, fr_id) <= len(moving):
        raise RequestError(f"interaction {interaction_id} is all of feature request {fr_id}; nothing to split")
    title = (row["title"] or row["text"] or "")[:200].strip() or "Feature request"
    new_id = feature_requests.create_feature_request(conn, title, (row["text"] or "")[:1000], "", utcnow())
    request_matching.set_profile(conn, new_id, _scope(conn, fr_id))
    member = request_matching.member_of(conn, interaction_id)
    if member is None:
        text = (row["title"] or "", (row["text"] or "")[:600])
        request_matching.add_member(conn, new_id, interaction_id, text_hash(*text), "founded", None)
    else:
        request_matching.move_members(conn, fr_id, new_id, "founded", [interaction_id])
        if member["score"] is not None and member["joined"] == "matched":
            # A vote the matcher made and a person undid: a rejection at that score.
            request_matching.add_review(conn, new_id, fr_id, interaction_id, float(member["score"]),
                                        "split by a person", "split", state="rejected")
    request_matching.move_interactions(conn, fr_id, new_id, moving)
    for changed in (fr_id, new_id):
        feature_requests.set_votes(conn, changed, interactions.count_voters(conn, changed))
    audit(conn, "feature_request", fr_id, "split", {"interactions": moving, "new_feature_request": new_id,
                                                     "title": fr["title"]})
    return {"feature_request": _brief(conn, fr_id), "new_feature_request": _brief(conn, new_id),
            "interactions_moved": moving}


def listing(conn: Connection) -> list[JSON]:
    """Open feature requests, most votes first, with their scope and whether they wait for a person."""
    rows = feature_requests.open_requests(conn)
    profiles = request_matching.profiles(conn, [r["id"] for r in rows])
    found = []
    for row in rows:
        profile = profiles.get(row["id"])
        found.append({"id": row["id"], "title": row["title"], "votes": row["votes"],
                      "scope": profile["scope"] if profile else "",
                      "waiting_for_review": bool(profile and profile["held"]),
                      "members": len(request_matching.members_of(conn, row["id"])),
                      "ticket": _ticket(conn, row["id"])})
    return found


def show(conn: Connection, fr_id: int) -> JSON:
    row = feature_requests.find_feature_request(conn, fr_id)
    if row is None:
        raise RequestError(f"no feature request {fr_id}")
    return {"feature_request": {**dict(row), **_brief(conn, fr_id)},
            "members": request_matching.members_of(conn, fr_id),
            "suggestions": request_matching.pending_reviews(conn, fr_id)}


def _ticket(conn: Connection, fr_id: int) -> str | None:
    tickets = tickets_of(conn, [], [fr_id])
    return tickets[0]["external_id"] if tickets else None


def _score_between(conn: Connection, policy: MatchConfig | None, absorb: int, keep: int) -> tuple[float, str]:
    """The matcher's score of ABSORB's founding request against KEEP, as of now."""
    members = request_matching.members_of(conn, absorb)
    if policy is None or not members:
        return 0.0, "merged by a person"
    state = matching(conn, policy)
    first = interactions.get_interaction(conn, members[0]["interaction_id"])
    if first is None:
        return 0.0, "merged by a person"
    request = state.request(conn, first)
    request = type(request)(_scope(conn, keep), request.fingerprint, request.vector)
    _, score = state.index.best(request, among=frozenset({keep}))
    return score.total, f"merged by a person; {score.explanation}"

