"""The SLA clock stops when the company answers, on the ticket or directly on the channel.

The other SLA test answers through Jira; here the company's own account replies in the customer's topic
and no ticket comment is involved.  A second, unanswered topic breaches alongside, so the test also
proves that a breach does alert in this set-up.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from continuum.cli import app
from continuum.engine.sla_watch import sla_report
from continuum.store.db import utcnow
from continuum.store.tables import interactions, outbox
from tests.brain.helpers import breach, interaction, slack_texts
from tests.e2e.conftest import Loop

runner = CliRunner()


def _sla_alerts_on_tickets(loop: Loop) -> dict[str, int]:
    return {issue["key"]: sum("SLA breached" in json.dumps(c) for c in loop.jira.comments(issue["key"]))
            for issue in loop.jira.issues()}


def test_a_direct_answer_in_the_topic_stops_the_clock(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.add_user("bob", "Bob", None)
    answered_topic, answered = loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off")
    _, waiting = loop.discourse.create_topic("bob", "bugs", "Logo blurry", "The logo on invoices is blurry")
    loop.sync()
    assert interaction(loop, answered)["sla_due"] is not None and interaction(loop, waiting)["sla_due"] is not None

    # The company's account answers in the topic itself (the forum, not the ticket).
    loop.discourse.reply("continuum", answered_topic, "Thanks Ann, a fix for the rounding ships on Friday.")
    loop.sync()
    assert interaction(loop, answered)["answered_at"] is not None
    assert interaction(loop, waiting)["answered_at"] is None

    for post in (answered, waiting):
        breach(loop, interaction(loop, post)["id"])
    for _ in range(2):
        loop.sync()
    by_key = {i["fields"]["summary"]: i["key"] for i in loop.jira.issues()}
    alerts = _sla_alerts_on_tickets(loop)
    assert alerts[by_key["Totals off"]] == 0 and alerts[by_key["Logo blurry"]] == 1
    chat = [t for t in slack_texts(loop, "#sla-alerts") if "SLA breached" in t]
    assert len(chat) == 1 and "Bob has waited" in chat[0] and "logo-blurry" in chat[0]

    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert [item["id"] for item in status["sla"]["items"]["breached"]] == [interaction(loop, waiting)["id"]]
    with loop.db.connect() as conn:
        planned = {(r.system, r.action, r.object_type, r.record_type, r.record_id, r.payload.get("channel"))
                   for r in conn.execute(select(outbox).where(outbox.c.record_type == "sla_alert"))}
    waiting_id = interaction(loop, waiting)["id"]
    assert planned == {("jira", "comment", "comment", "sla_alert", waiting_id, None),
                       ("slack", "notify", "message", "sla_alert", waiting_id, "#sla-alerts")}


def test_a_backfill_is_listed_not_alerted_and_soon_is_told_apart_from_breached(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    posts = [loop.discourse.create_topic("ann", "bugs", f"Bug {n}", f"Something is broken, case {n}")[1]
             for n in range(3)]
    loop.sync()
    ids = [interaction(loop, post)["id"] for post in posts]
    now = utcnow()
    with loop.db.begin() as conn:
        # Already overdue when the hub first saw it (a backfill), due within the hour, due tomorrow.
        for row_id, due, seen in ((ids[0], now - timedelta(hours=1), now - timedelta(minutes=5)),
                                  (ids[1], now + timedelta(hours=1), now - timedelta(hours=3)),
                                  (ids[2], now + timedelta(days=1), now - timedelta(hours=3))):
            conn.execute(update(interactions).where(interactions.c.id == row_id).values(sla_due=due,
                                                                                         first_seen_at=seen))
    with loop.db.connect() as conn:
        report = sla_report(conn, timedelta(hours=2), now)
    assert [r["id"] for r in report["breached"]] == [ids[0]] and [r["id"] for r in report["breaching_soon"]] == [
        ids[1]]
    assert not loop.sync().counts.get("sla_alerts")
    assert sum(_sla_alerts_on_tickets(loop).values()) == 0 and slack_texts(loop, "#sla-alerts") == []


def test_an_item_due_this_very_moment_is_breached_not_soon(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    _, post = loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    loop.sync()
    due = interaction(loop, post)["sla_due"]
    with loop.db.connect() as conn:
        at_due = sla_report(conn, timedelta(hours=1), now=due.replace(tzinfo=due.tzinfo or UTC))
        before = sla_report(conn, timedelta(hours=1), now=due.replace(tzinfo=due.tzinfo or UTC) - timedelta(minutes=1))
    assert [row["id"] for row in at_due["breached"]] == [interaction(loop, post)["id"]] and not at_due["breaching_soon"]
    assert [row["id"] for row in before["breaching_soon"]] == [interaction(loop, post)["id"]]
