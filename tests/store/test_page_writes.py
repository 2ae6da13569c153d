"""The per-page forms of per-record writes give the same store as the per-record ones (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from continuum.engine.identity import resolve_customer, resolve_new_customers
from continuum.store import customers, outbox
from continuum.store.db import utcnow
from continuum.store.tables import audit_events, interactions
from continuum.store.tables import customers as customer_table


def test_new_authors_in_bulk_get_one_customer_each_and_a_verified_email_still_joins(any_db: Engine) -> None:
    with any_db.begin() as conn:
        known = resolve_customer(conn, "chat", {"author_account_id": "U1", "author_email": "ana@example.com",
                                                "author_email_verified": True})
        made = resolve_new_customers(conn, "forum", [
            {"author_account_id": "7", "author_name": "Same Name"},
            {"author_account_id": "8", "author_name": "Same Name"},  # same values: still two customers
            {"author_account_id": "7", "author_name": "Same Name"},  # a second post of the first author
            {"author_account_id": "9", "author_email": "ANA@example.com", "author_email_verified": True},
        ])
        audited = conn.execute(select(func.count()).select_from(audit_events).where(
            audit_events.c.record_type == "customer", audit_events.c.action == "created")).scalar_one()
        assert set(made) == {"7", "8", "9"}
        assert made["7"] != made["8"] and known not in (made["7"], made["8"])
        assert made["9"] == known
        assert customers.owners_of(conn, "forum", ["7", "8", "9"]) == made
        assert audited == 3  # ana once, then 7 and 8


def test_an_account_registered_meanwhile_keeps_that_runs_customer(any_db: Engine) -> None:
    with any_db.begin() as conn:
        theirs = resolve_customer(conn, "forum", {"author_account_id": "7", "author_name": "Them"})
        before = conn.execute(select(func.count()).select_from(customer_table)).scalar_one()
        # As if our page's lookup ran before the other run registered "7".
        made = resolve_new_customers(conn, "forum", [{"author_account_id": "7", "author_name": "Us"},
                                                      {"author_account_id": "8", "author_name": "New"}])
        after = conn.execute(select(func.count()).select_from(customer_table)).scalar_one()
    assert made["7"] == theirs and after == before + 1  # ours for "7" was dropped


def test_buffered_effects_go_in_at_the_flush_first_of_a_key_wins(any_db: Engine) -> None:
    def effect(key: str, target: str) -> dict[str, object]:
        return {"key": key, "pipeline": "p", "system": "jira", "action": "create", "object_type": "issue",
                "record_type": "interaction", "record_id": 1, "fields": {"to": target}, "target_id": None,
                "context": {}}

    with any_db.begin() as conn:
        outbox.buffer_effects(conn)
        outbox.add_effect(conn, **effect("k1", "first"))  # type: ignore[arg-type]
        outbox.add_effect(conn, **effect("k2", "second"))  # type: ignore[arg-type]
        outbox.add_effect(conn, **effect("k1", "again"))  # type: ignore[arg-type]
        assert outbox.known_keys(conn, ["k1", "k2"]) == set()  # nothing written before the flush
        assert outbox.flush_effects(conn) == 2
        rows = outbox.open_effects(conn, "p")
        outbox.add_effect(conn, **effect("k3", "direct"))  # type: ignore[arg-type]  # no buffer any more
        assert outbox.known_keys(conn, ["k3"]) == {"k3"}
    assert [(r["idempotency_key"], r["payload"]["to"]) for r in rows] == [("k1", "first"), ("k2", "second")]


def test_voters_of_counts_distinct_inbound_customers_per_request(any_db: Engine) -> None:
    from continuum.store import feature_requests
    from continuum.store.interactions import count_voters, insert_new, voters_of

    now = utcnow()
    with any_db.begin() as conn:
        a, b = (feature_requests.create_feature_request(conn, t, "", "", now) for t in ("A", "B"))
        people = [customers.create_customer(conn, f"c{i}", None, "standard", now) for i in range(3)]
        rows = [(a, people[0], "inbound"), (a, people[0], "inbound"), (a, people[1], "inbound"),
                (a, people[2], "outbound"), (b, people[2], "inbound")]
        insert_new(conn, [{"source_system": "forum", "source_id": f"post:{i}", "customer_id": c, "direction": d,
                           "kind": "feature_request", "title": "", "text": "", "status": "new",
                           "content_hash": str(i), "first_seen_at": now, "last_seen_at": now,
                           "is_thread_start": True, "feature_request_id": fr} for i, (fr, c, d) in enumerate(rows)])
        counted = voters_of(conn, [a, b, 999])
        assert counted == {a: 2, b: 1, 999: 0}
        assert counted[a] == count_voters(conn, a) and counted[b] == count_voters(conn, b)
        assert conn.execute(select(func.count()).select_from(interactions)).scalar_one() == 5


def test_first_contact_is_a_lookup_that_heals_after_a_deletion_or_a_merge(any_db: Engine) -> None:
    from continuum.store import first_contacts
    from continuum.store.interactions import (
        delete_interaction,
        first_inbound,
        ids_by_source,
        insert_new,
        reassign_customer,
    )

    now = utcnow()

    def post(n: int, customer: int, direction: str = "inbound") -> dict[str, object]:
        return {"source_system": "forum", "source_id": f"post:{n}", "customer_id": customer, "direction": direction,
                "kind": "question", "title": "", "text": "", "status": "new", "content_hash": str(n),
                "first_seen_at": now, "last_seen_at": now, "is_thread_start": True}

    with any_db.begin() as conn:
        ann, bob = (customers.create_customer(conn, n, None, "standard", now) for n in ("ann", "bob"))
        insert_new(conn, [post(1, bob), post(2, ann, "outbound"), post(3, ann), post(4, ann)])
        ids = ids_by_source(conn, "forum", [f"post:{n}" for n in range(1, 5)])
        # As the read stage records it (post 4 arrives in a later page: the lower id stays).
        first_contacts.record(conn, {ann: ids["post:3"]})
        first_contacts.record(conn, {ann: ids["post:4"]})
        assert first_contacts.firsts(conn, [ann, bob]) == first_inbound(conn, [ann, bob]) == {
            ann: ids["post:3"], bob: ids["post:1"]}  # bob was never recorded: scanned
        delete_interaction(conn, ids["post:3"])  # a dropped first message: the next one is the first
        assert first_contacts.firsts(conn, [ann]) == {ann: ids["post:4"]}
        reassign_customer(conn, bob, ann)  # bob's older post joins ann
        assert first_contacts.firsts(conn, [ann, bob]) == first_inbound(conn, [ann, bob]) == {ann: ids["post:1"]}
