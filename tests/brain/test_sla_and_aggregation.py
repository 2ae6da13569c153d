"""SLA with business hours, one alert per breach; feature requests with votes, voices, answers and notices."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from typer.testing import CliRunner

from continuum.cli import app
from continuum.policy.sla import Calendar, parse_duration
from continuum.store.tables import outbox
from tests.brain.helpers import breach, company_posts, feature_request_rows, interaction, slack_texts
from tests.e2e.conftest import Loop

runner = CliRunner()
BERLIN = Calendar(timezone="Europe/Berlin", hours=("09:00", "17:00"), holidays=["2026-12-25"])


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    friday_4pm = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 16:00 in Berlin
    assert BERLIN.add_working_time(friday_4pm, parse_duration("2h")) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    saturday = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert BERLIN.add_working_time(saturday, parse_duration("1h")) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    christmas_eve_4pm = datetime(2026, 12, 24, 15, 0, tzinfo=UTC)
    assert BERLIN.add_working_time(christmas_eve_4pm, parse_duration("2h")).date().isoformat() == "2026-12-28"
    assert BERLIN.add_working_time(friday_4pm, parse_duration("1d")) == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def test_a_breach_alerts_once_and_status_lists_it_until_answered(loop: Loop, monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    topic, post = loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    loop.sync()
    row = interaction(loop, post)
    assert row["sla_due"] is not None
    breach(loop, row["id"])
    for _ in range(3):
        loop.sync()
    (issue,) = loop.jira.issues()
    alerts = [c for c in loop.jira.comments(issue["key"]) if "SLA breached" in json.dumps(c)]
    assert len(alerts) == 1 and len([t for t in slack_texts(loop, "#sla-alerts") if "SLA breached" in t]) == 1
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["sla"]["breached"] == 1 and status["sla"]["items"]["breached"][0]["id"] == row["id"]
    loop.jira.add_staff_comment(issue["key"], "Fixed in today's release.", public=True)
    loop.sync()
    assert len(company_posts(loop, topic)) == 1
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["sla"]["breached"] == 0  # answered: the clock stopped


def _ask(loop: Loop) -> dict[str, int]:
    for user in ("mara", "hana", "deshawn"):
        loop.discourse.add_user(user, user.title(), None)
    mara, _ = loop.discourse.create_topic("mara", "feature-requests", "Dark mode please!",
                                          "The bright white dashboard hurts at night. A dark theme?")
    loop.discourse.reply("hana", mara, "+1, same here")  # Hana's first request for it
    hana, _ = loop.discourse.create_topic("hana", "feature-requests", "Night theme for the web app",
                                          "Is there any way to switch to a night mode?")  # her second: no new vote
    deshawn, _ = loop.discourse.create_topic("deshawn", "feature-requests", "Export invoices to PDF in bulk",
                                             "We need to download all invoices of a month as PDFs at once.")
    return {"mara": mara, "hana": hana, "deshawn": deshawn}


def test_similar_requests_become_one_ticket_with_votes_and_voices(loop: Loop) -> None:
    topics = _ask(loop)
    loop.sync()
    frs = sorted(feature_request_rows(loop), key=lambda r: r["id"])
    assert [fr["votes"] for fr in frs] == [2, 1]  # dark mode: Mara and Hana (Hana twice); bulk PDF: DeShawn
    assert len(loop.jira.issues()) == 2
    dark = next(i for i in loop.jira.issues() if "Dark" in i["fields"]["summary"])
    text = json.dumps(dark["fields"]["description"])
    assert "Votes: 2 customers" in text and "Customer voices" in text and "night mode" in text
    # Three more voices in one run: exactly ONE update of the ticket in that run.
    for user in ("ines", "li", "omar"):
        loop.discourse.add_user(user, user.title(), None)
        loop.discourse.create_topic(user, "feature-requests", f"Dark theme ({user})", "Please add a dark theme")
    before = loop.jira.effect_counts()["updated"]
    loop.sync()
    assert loop.jira.effect_counts()["updated"] - before == 1
    assert "Votes: 5 customers" in json.dumps(loop.jira.get_issue(dark["key"])["fields"]["description"])
    loop.sync()
    assert loop.jira.effect_counts()["updated"] - before == 1
    assert topics


def test_an_answer_reaches_every_thread_and_shipping_tells_each_customer_once(loop: Loop) -> None:
    topics = _ask(loop)
    loop.sync()
    dark = next(i for i in loop.jira.issues() if "Dark" in i["fields"]["summary"])
    loop.jira.add_staff_comment(dark["key"], "It is on the roadmap for the next quarter.", public=True)
    loop.sync()
    assert len(company_posts(loop, topics["mara"])) == 1 and len(company_posts(loop, topics["hana"])) == 1
    assert company_posts(loop, topics["deshawn"]) == []
    loop.jira.release_version(dark["key"], "3.0")
    for _ in range(3):
        loop.sync()
    notices = {name: [p for p in company_posts(loop, t) if "has shipped" in p["raw"]] for name, t in topics.items()}
    # Mara and Hana both first asked in Mara's thread: one notice there tells both; none in Hana's own thread.
    assert len(notices["mara"]) == 1 and notices["hana"] == [] and notices["deshawn"] == []
    with loop.db.connect() as conn:
        keys = [r.idempotency_key for r in conn.execute(select(outbox).where(outbox.c.action == "reply"))]
    assert len(keys) == len(set(keys)) == 3  # two answers (one per thread) and one notice
