"""Know the customer: exact joins only, suggestions for people, merge and split, one timeline."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from continuum.cli import app
from continuum.engine.identity import resolve_customer
from continuum.ops import customers as ops
from tests.brain.helpers import customer, interaction
from tests.e2e.conftest import Loop

runner = CliRunner()


def test_two_accounts_with_one_confirmed_email_are_one_customer(loop: Loop) -> None:
    loop.discourse.add_user("jbaptiste", "Jean-Baptiste Morel", "jb@atelier-morel.fr")
    loop.discourse.add_user("jb_morel", "JB", "jb@atelier-morel.fr")
    loop.discourse.add_user("jbm", "Jean-Baptiste M.", "other@example.org")
    _, work = loop.discourse.create_topic("jbaptiste", "support", "Invoice PDF", "How do I change the PDF logo?")
    _, home = loop.discourse.create_topic("jb_morel", "support", "Login", "Can I log in with Google at home?")
    _, other = loop.discourse.create_topic("jbm", "support", "VAT", "How is VAT shown on invoices for Norway?")
    loop.sync()
    a, b, c = (interaction(loop, p)["customer_id"] for p in (work, home, other))
    assert a == b != c


def test_an_unverified_email_never_joins(loop: Loop) -> None:
    with loop.db.begin() as conn:
        first = resolve_customer(conn, "forum", {"author_account_id": "1", "author_email": "x@example.com",
                                                 "author_email_verified": True})
        second = resolve_customer(conn, "forum", {"author_account_id": "2", "author_email": "x@example.com",
                                                  "author_email_verified": False})
        third = resolve_customer(conn, "chat", {"author_account_id": "U9", "author_email": "X@Example.com",
                                                "author_email_verified": True})
    assert first != second and third == first


def test_a_crm_record_makes_a_known_vip_customer(loop: Loop) -> None:
    with loop.db.begin() as conn:
        ops.import_records(conn, [{"crm_id": "0015g00000XYZ", "name": "Greta Hoffmann",
                                   "email": "greta@kraftwerk-it.de", "tier": "vip"}])
    loop.discourse.add_user("greta_h", "Greta H", "greta@kraftwerk-it.de")
    _, post = loop.discourse.create_topic("greta_h", "support", "Reminder emails", "Where do I set reminder emails?")
    loop.sync()
    row = interaction(loop, post)
    assert customer(loop, row["customer_id"])["tier"] == "vip"
    assert row["sla_policy"] == "vip"


def test_merge_and_split_through_the_cli_and_later_runs_follow_them(loop: Loop, monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("anna", "Anna Berg", "anna@fjord.no")
    loop.discourse.add_user("anna_b", "Anna B.", "anna.b@gmail.example")
    topic, first = loop.discourse.create_topic("anna", "support", "Export", "How do I export clients?")
    second = loop.discourse.reply("anna_b", topic, "Also, can Viewers see totals?")
    loop.sync()
    keep, absorb = interaction(loop, first)["customer_id"], interaction(loop, second)["customer_id"]
    assert keep != absorb
    result = runner.invoke(app, ["customers", "merge", str(keep), str(absorb)])
    assert result.exit_code == 0, result.output
    third = loop.discourse.reply("anna_b", topic, "Thanks!")
    loop.sync()
    assert interaction(loop, second)["customer_id"] == keep == interaction(loop, third)["customer_id"]
    shown = json.loads(runner.invoke(app, ["customers", "show", str(keep), "--json"]).stdout)
    # Her two forum accounts (each also got a CRM contact from the shipped config's `crm:` sync).
    assert len(shown["timeline"]) == 3 and len([i for i in shown["identities"] if i["system"] == "discourse"]) == 2
    account = next(i["account_id"] for i in shown["identities"] if i["handle"] == "anna_b")
    result = runner.invoke(app, ["customers", "split", str(keep), f"discourse:{account}"])
    assert result.exit_code == 0, result.output
    moved = interaction(loop, second)["customer_id"]
    assert moved != keep and interaction(loop, third)["customer_id"] == moved
    assert interaction(loop, first)["customer_id"] == keep
    fourth = loop.discourse.reply("anna_b", topic, "One more thing")
    loop.sync()
    assert interaction(loop, fourth)["customer_id"] == moved


def test_fuzzy_look_alikes_are_only_suggested(loop: Loop, monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("annab", "Anna Berg", "anna@fjordtech.no")
    loop.discourse.add_user("anneberg", "Anne Berg", "anne.berg@lakeside.se")
    _, a = loop.discourse.create_topic("annab", "support", "Q1", "How do I add a logo to invoices?")
    _, b = loop.discourse.create_topic("anneberg", "support", "Q2", "How do I change the invoice numbering?")
    loop.sync()
    pairs = json.loads(runner.invoke(app, ["customers", "suggest", "--json", "--threshold", "80"]).stdout)
    ids = {interaction(loop, a)["customer_id"], interaction(loop, b)["customer_id"]}
    assert any({p["a"], p["b"]} == ids for p in pairs)
    assert len(ids) == 2  # suggested, not merged
