"""A small store for the report's tests: known figures, a hostile customer name and title, a secret in an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from continuum.store.report import record_calls
from continuum.store.tables import customers, dead_letters, feature_requests, interactions

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOSTILE_NAME = '<img src=x onerror="document.title=\'pwned\'">Eve</b>'
HOSTILE_TITLE = "<script>document.title='pwned'</script>Dark mode & more"
SECRET = "s3cr3t-token-9f2"  # the password of a connection in the environment (AIRFLOW_CONN_REPORT_TEST)


def seed_store(db: Engine) -> None:
    day = timedelta(days=1)
    with db.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": 1, "display_name": "Ann Lee", "tier": "standard", "created_at": NOW, "updated_at": NOW},
            {"id": 2, "display_name": HOSTILE_NAME, "tier": "standard", "created_at": NOW, "updated_at": NOW}])
        conn.execute(feature_requests.insert(), [
            # Every row names every column: an executemany takes its columns from the first row alone.
            {"id": 1, "title": HOSTILE_TITLE, "votes": 4, "status": "open", "shipped_at": None, "created_at": NOW,
             "updated_at": NOW},
            {"id": 2, "title": "Export to CSV", "votes": 7, "status": "shipped", "shipped_at": NOW,
             "created_at": NOW, "updated_at": NOW},
            {"id": 3, "title": "Nobody asked", "votes": 0, "status": "open", "shipped_at": None, "created_at": NOW,
             "updated_at": NOW}])
        rows = [
            # support: answered in 2 h within its SLA, answered late, overdue, and one still in time
            _row(1, "discourse", "question", 1, NOW - 3 * day, "support", answered=NOW - 3 * day + timedelta(hours=2),
                 due=NOW - 2 * day),
            _row(2, "x", "complaint", 1, NOW - 3 * day, "support", answered=NOW - day, due=NOW - 2 * day),
            _row(3, "x", "question", 2, NOW - 2 * day, "support", due=NOW - day),
            _row(4, "discourse", "question", 1, NOW - day, "support", due=NOW + day),
            # rnd: one feature request with no SLA, answered after 10 h
            _row(5, "mastodon", "feature_request", 2, NOW - day, "rnd", answered=NOW - day + timedelta(hours=10)),
        ]
        conn.execute(interactions.insert(), rows)
        conn.execute(dead_letters.insert(), [
            {"pipeline": "p", "system": "x", "stream": "posts", "stage": "map", "record_key": f"x/posts/{n}",
             "error": f"field 'created': not a date\nrecord {n}", "payload": {}, "state": "open",
             "created_at": NOW, "updated_at": NOW} for n in (1, 2)] + [
            {"pipeline": "p", "system": "jira", "stream": "issues", "stage": "apply", "record_key": "jira/1",
             "error": f"401 from https://bot:{SECRET}@jira.example/rest <b>denied</b>", "payload": {},
             "state": "open", "created_at": NOW, "updated_at": NOW}])
        record_calls(conn, "p", {"x": {"calls": 12, "retries": 2, "throttled": 1}, "jira": {"calls": 0}}, NOW)
        record_calls(conn, "p", {"jira": {"calls": 5}, "x": {"calls": 3}}, NOW)  # the same day: added up
        record_calls(conn, "q", {"x": {"calls": 1}}, NOW + timedelta(days=1))


def _row(n: int, system: str, kind: str, customer: int, created: datetime, team: str,
         answered: datetime | None = None, due: datetime | None = None) -> dict[str, object]:
    return {"id": n, "source_system": system, "source_id": f"post:{n}", "customer_id": customer,
            "direction": "inbound", "kind": kind, "text": f"text {n}", "created_at": created, "status": "routed",
            "team": team, "sla_due": due, "answered_at": answered, "content_hash": f"h{n}",
            "feature_request_id": 1 if kind == "feature_request" else None,
            "first_seen_at": created, "last_seen_at": created}
