"""The store's side of erasure: what names a person, where it is found, and how it is cut out."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from continuum.ops.gdpr import find_customer
from continuum.store import erasure
from continuum.store.tables import audit_events, customers, identities

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _people(db: Engine) -> None:
    with db.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": 1, "display_name": "Ben Ode", "primary_email": "ben@ode.example", "tier": "standard",
             "merged_into": None, "created_at": NOW, "updated_at": NOW},
            {"id": 2, "display_name": "ben_o", "primary_email": None, "tier": "standard", "merged_into": 1,
             "created_at": NOW, "updated_at": NOW},
            {"id": 3, "display_name": "Cleo", "primary_email": None, "tier": "standard", "merged_into": None,
             "created_at": NOW, "updated_at": NOW}])
        conn.execute(identities.insert(), [
            {"customer_id": 1, "system": "forum", "account_id": "17", "handle": "ben", "email": "ben@ode.example",
             "created_at": NOW},
            {"customer_id": 1, "system": "x", "account_id": "ben_o", "handle": "ben_o", "email": None,
             "created_at": NOW}])
        conn.execute(audit_events.insert(), [
            {"at": NOW, "record_type": "interaction", "record_id": 9, "action": "created",
             "changes": {"text": "Thanks @Ben, and thanks ben_o! A benefit for 17 teams.", "by": "ben@ode.example"}}])


def test_marks_are_names_handles_and_emails_of_everyone_merged_but_not_bare_numbers(any_db: Engine) -> None:
    _people(any_db)
    with any_db.connect() as conn:
        assert erasure.family(conn, 1) == [1, 2]
        assert erasure.root_of(conn, 2) == 1
        marks = erasure.marks_of(conn, [1, 2])
    assert marks == ["ben@ode.example", "Ben Ode", "ben_o", "ben"]  # longest first; account "17" is no mark


def test_the_sweep_cuts_whole_words_only_and_keeps_the_rest(any_db: Engine) -> None:
    _people(any_db)
    with any_db.begin() as conn:
        marks = erasure.marks_of(conn, [1, 2])
        assert set(erasure.mentioning(conn, marks)) >= {"audit_events"}
        changed = erasure.sweep(conn, marks)
        changes = conn.execute(select(audit_events.c.changes)).scalar_one()
    assert changed == {"audit_events": 1}
    assert changes == {"text": "Thanks [erased], and thanks [erased]! A benefit for 17 teams.", "by": "[erased]"}


def test_a_customer_is_named_by_id_handle_or_email_and_a_merged_id_means_its_root(any_db: Engine) -> None:
    _people(any_db)
    with any_db.connect() as conn:
        assert find_customer(conn, "ben@ode.example") == 1
        assert find_customer(conn, "2") == 1
        assert find_customer(conn, "Cleo") == 3
