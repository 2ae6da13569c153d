"""Matching state lives in the store: vectors cached once, members rebuilt next transaction (SQLite and PG)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, func, select

from continuum.engine import aggregate
from continuum.policy.rulebook import FeatureRequestPolicy, RuleBook
from continuum.store import interactions
from continuum.store.db import utcnow
from continuum.store.request_matching import embedding_cache, request_members, request_profiles


def _post(conn: Any, n: int, title: str, text: str) -> dict[str, Any]:
    now = utcnow()
    interactions.insert_new(conn, [{
        "source_system": "discourse", "source_id": f"post:{n}", "thread_id": str(n), "direction": "inbound",
        "kind": "feature_request", "title": title, "text": text, "status": "new", "is_thread_start": True,
        "content_hash": str(n), "first_seen_at": now, "last_seen_at": now, "created_at": now}])
    row = interactions.get_interaction(conn, interactions.id_of(conn, "discourse", f"post:{n}"))
    assert row is not None
    return dict(row)


def test_vectors_are_cached_once_and_a_later_transaction_matches_against_stored_members(any_db: Engine) -> None:
    # Thresholds low enough that this pair votes: what is tested here is the store, not the calibration.
    policy = FeatureRequestPolicy(threshold=60, suggest_threshold=50)
    ctx: Any = SimpleNamespace(rulebook=RuleBook(feature_requests=policy), pipeline_name="test")
    with any_db.begin() as conn:
        first = _post(conn, 1, "Dark mode", "The white background hurts my eyes at night; a dark theme please.")
        second = _post(conn, 2, "Dark theme", "Please add a dark theme, the bright background hurts at night.")
        other = _post(conn, 3, "Export to PDF", "Download every invoice of a month as one PDF file.")
        outcome, founded, _ = aggregate.aggregate(conn, ctx, first, None)
        assert outcome == "new_feature_request"
        # One batch embedded the request and the new ones after it (read-ahead), all cached.
        assert conn.execute(select(func.count()).select_from(embedding_cache)).scalar_one() == 3
    with any_db.begin() as conn:  # a new transaction: the index comes back from the store
        outcome, fr_id, score = aggregate.aggregate(conn, ctx, second, None)
        assert (outcome, fr_id) == ("voted", founded), score
        outcome, separate, _ = aggregate.aggregate(conn, ctx, other, None)
        assert outcome == "new_feature_request" and separate != founded
        assert conn.execute(select(func.count()).select_from(embedding_cache)).scalar_one() == 3
        members = dict(conn.execute(select(request_members.c.interaction_id, request_members.c.joined)).all())
        assert members == {first["id"]: "founded", second["id"]: "matched", other["id"]: "founded"}
        assert conn.execute(select(func.count()).select_from(request_profiles)).scalar_one() == 2


def test_a_later_transaction_reuses_the_index_only_while_the_store_holds_what_it_expects(any_db: Engine,
                                                                                        monkeypatch: Any) -> None:
    """Building the index again for every page made triage quadratic; a stale one would vote for the wrong
    request. It is reused after its own commits, and built again after a rollback or someone else's change."""
    from continuum.store.tables import feature_requests

    policy = FeatureRequestPolicy(threshold=60, suggest_threshold=50)
    ctx: Any = SimpleNamespace(rulebook=RuleBook(feature_requests=policy), pipeline_name="test")
    built: list[int] = []
    original = aggregate._build

    def counting(conn: Any, matcher: Any) -> Any:
        built.append(1)
        return original(conn, matcher)

    monkeypatch.setattr(aggregate, "_build", counting)
    with any_db.begin() as conn:
        first = _post(conn, 11, "Dark mode", "The white background hurts my eyes at night; a dark theme please.")
        second = _post(conn, 12, "Dark theme", "Please add a dark theme, the bright background hurts at night.")
        third = _post(conn, 13, "Export to PDF", "Download every invoice of a month as one PDF file.")
        fourth = _post(conn, 14, "Invoices as PDF", "Export all invoices of a month to one PDF file, please.")
        _, founded, _ = aggregate.aggregate(conn, ctx, first, None)
    with any_db.begin() as conn:  # its own commit: the same index
        assert aggregate.aggregate(conn, ctx, second, None)[:2] == ("voted", founded)
    assert len(built) == 1
    try:
        with any_db.begin() as conn:
            assert aggregate.aggregate(conn, ctx, third, None)[0] == "new_feature_request"
            raise RuntimeError("the page fails after founding a request")
    except RuntimeError:
        pass
    with any_db.begin() as conn:  # rolled back: the index that knew the PDF request is not used
        outcome, again, _ = aggregate.aggregate(conn, ctx, third, None)
        assert outcome == "new_feature_request"
    assert len(built) == 2
    with any_db.begin() as conn:  # a person closes it: the next transaction must not vote for it
        conn.execute(feature_requests.update().where(feature_requests.c.id == again).values(status="shipped"))
    with any_db.begin() as conn:
        outcome, fr_id, _ = aggregate.aggregate(conn, ctx, fourth, None)
        assert outcome == "new_feature_request" and fr_id != again
    assert len(built) == 3
