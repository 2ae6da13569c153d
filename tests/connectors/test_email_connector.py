"""EmailConnector against real servers on loopback: pymap for IMAP, aiosmtpd for SMTP (delivering into the
IMAP mailbox).  What the shared contract suite does not cover: incremental reads and a new UIDVALIDITY,
filters and threading on the corpus, the hub's own mail, SMTP's "try again later", and the whole loop
through the engine (a customer's mail, a ticket, the staff answer mailed back in the customer's thread)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connectors.email.connector import EmailConnector
from connectors.email.contract import HARNESS, relayed_with_key
from connectors.email.markup import KEY_HEADER, compose, key_header
from connectors.email.plugin import PLUGIN, SIM_PASSWORD, SIM_USER
from connectors.email.seed import corpus, seed
from connectors.email.simservers import LocalMailServers
from continuum.config import HubConfig, SourceSpec
from continuum.connector import ConnectionInfo, Effect, SourceRecord
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.read import read_source
from continuum.engine.run import run_pipeline
from continuum.kit import ClientError
from continuum.store.tables import dead_letters, interactions, outbox
from tests.engine.fakes import FakeTracker

pytest.importorskip("pymap", reason="the e-mail tests need the pymap IMAP server (pip install pymap)")
pytest.importorskip("aiosmtpd", reason="the e-mail tests need the aiosmtpd SMTP server (pip install aiosmtpd)")

ENGINE_MAPPINGS = Path(__file__).resolve().parents[1] / "engine" / "mappings"
FIRST = "CAF3k2x9-first@mail.example.com"
CUSTOMERS = {"CAF3k2x9-first@mail.example.com", "CAF3k2x9-reply+gmail@mail.example.com",
             "AM7PR03MB6481C0FFEE@AM7PR03MB6481.eurprd03.prod.outlook.example",
             "000001d9a1b2$c3d4e5f0$6b7c8d9e@corp.example", "9A8B7C6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D@berg.example",
             "1772719200.42.chen@mail.example.net", "latin1-0001@exemple.example", "sjis-0001@rei.example",
             "CAH7xq2-ines-export@mail.duarte.example"}


@pytest.fixture
def servers() -> Iterator[LocalMailServers]:
    with LocalMailServers() as running:
        yield running


def make(servers: LocalMailServers, password: str = SIM_PASSWORD, **options: Any) -> EmailConnector:
    conn = ConnectionInfo("email_test", servers.base_url, SIM_USER, password, {"smtp_url": servers.smtp_url})
    connector = PLUGIN.create(conn, {"smtp_retry_wait_s": 0.2, **options})
    assert isinstance(connector, EmailConnector)
    return connector


def read(connector: EmailConnector, cursor: dict[str, Any] | None = None) -> tuple[list[SourceRecord], Any]:
    records: list[SourceRecord] = []
    for page in connector.read_changes("messages", cursor):
        records += page.records
        cursor = page.cursor.to_json()
    return records, cursor


def by_id(records: list[SourceRecord]) -> dict[str, SourceRecord]:
    return {r.external_id: r for r in records}


def reply(key: str, text: str, maybe_applied: bool = False, to: str = "Ann Lee <ann.lee@example.com>") -> Effect:
    return Effect(key=key, action="reply", object_type="message", target_id=FIRST, maybe_applied=maybe_applied,
                  fields={"to": to, "subject": "CSV export times out", "body": text},
                  context={"in_reply_to": FIRST, "purpose": "reply"})


# -- reading ----------------------------------------------------------------------------


def test_the_corpus_reads_as_customers_only_with_threads_and_a_problem_for_the_broken_one(
        servers: LocalMailServers) -> None:
    seed(servers)
    servers.deliver(corpus("broken-charset.eml"))
    records, cursor = read(make(servers))
    found = by_id(records)
    assert set(found) == CUSTOMERS | {"broken-charset-0001@example.com"}  # no vacation notice, bounce or list
    broken = found["broken-charset-0001@example.com"]
    assert broken.problem == ("body", "bytes not valid utf-8 at offset 14")
    assert broken.payload["continuum"]["text"] is None
    assert all(r.problem is None for r in records if r is not broken)
    gmail = found["CAF3k2x9-reply+gmail@mail.example.com"].payload
    assert (gmail["continuum"]["thread_id"], gmail["continuum"]["parent_id"]) == (
        FIRST, "ck-1a2b3c.9f8e7d6c5b4a3210@hub.example")
    assert gmail["continuum"]["text"].startswith("Thanks, splitting it by month works")
    first = found[FIRST].payload["continuum"]
    assert first["is_thread_start"] and first["thread_id"] == FIRST and first["date"] == "2026-03-02T10:12:31+01:00"
    assert found["sjis-0001@rei.example"].payload["subject"] == "請求書について"
    assert found["1772719200.42.chen@mail.example.net"].payload["continuum"]["from_html"] is True
    assert cursor["folders"]["INBOX"]["uidvalidity"] == servers.uidvalidity("INBOX")
    assert read(make(servers), cursor)[0] == []  # nothing new
    servers.deliver(corpus("plain-first.eml").replace(b"first@", b"again@"))
    assert [r.external_id for r in read(make(servers), cursor)[0]] == ["CAF3k2x9-again@mail.example.com"]


def test_pages_follow_page_size_and_each_cursor_covers_its_page(servers: LocalMailServers) -> None:
    HARNESS.add_records(servers, 7)
    connector = make(servers, folders=["Support"], page_size=3)
    pages = list(connector.read_changes("messages", None))
    assert [len(p.records) for p in pages] == [3, 3, 1]
    resumed, _ = read(make(servers, folders=["Support"]), pages[1].cursor.to_json())
    assert [r.external_id for r in resumed] == ["contract-6@example.com"]


def test_a_new_uidvalidity_reads_the_folder_again_and_the_engine_makes_nothing_twice(
        servers: LocalMailServers, sqlite_db: Engine) -> None:
    HARNESS.add_records(servers, 4)
    hub = HubConfig.model_validate({"systems": {"email": {"connector": "email", "connection": "none"}},
                                    "pipelines": {"p": {"sources": [{"system": "email", "stream": "messages",
                                                                     "mapping": "email.message.yaml"}]}}})
    source = SourceSpec(system="email", stream="messages", mapping="email.message.yaml")
    ctx = SyncContext(db=sqlite_db, hub=hub, pipeline_name="p",
                      connectors={"email": make(servers, folders=["Support"])})
    assert read_source(ctx, source).counts["interactions_created"] == 4
    old = servers.uidvalidity("Support")
    servers.renumber("Support")
    assert servers.uidvalidity("Support") != old
    HARNESS.add_records(servers, 1)
    again = read_source(ctx, source).counts
    assert (again["records_read"], again["interactions_unchanged"], again["interactions_created"]) == (5, 4, 1)
    with sqlite_db.connect() as conn:
        assert len(conn.execute(select(interactions)).all()) == 5


def test_a_broken_message_is_a_dead_letter_naming_it_and_its_field_and_the_rest_goes_on(
        servers: LocalMailServers, sqlite_db: Engine) -> None:
    servers.deliver(corpus("broken-charset.eml"))
    servers.deliver(corpus("plain-first.eml"))
    hub = HubConfig.model_validate({"systems": {"email": {"connector": "email", "connection": "none"}},
                                    "pipelines": {"p": {"sources": [{"system": "email", "stream": "messages",
                                                                     "mapping": "email.message.yaml"}]}}})
    ctx = SyncContext(db=sqlite_db, hub=hub, pipeline_name="p", connectors={"email": make(servers)})
    stats = read_source(ctx, SourceSpec(system="email", stream="messages", mapping="email.message.yaml"))
    assert (stats.counts["dead_letters"], stats.counts["interactions_created"]) == (1, 1)
    with sqlite_db.connect() as conn:
        (letter,) = conn.execute(select(dead_letters)).mappings().all()
    assert (letter["stage"], letter["field"], letter["record_key"]) == (
        "map", "body", "messages/message:broken-charset-0001@example.com")
    assert letter["error"] == ("email message broken-charset-0001@example.com: field body: "
                               "bytes not valid utf-8 at offset 14")
    assert "The amount is" in letter["payload"]["raw"]  # the raw message is kept to look at


def test_a_reply_without_thread_headers_joins_the_thread_by_subject(servers: LocalMailServers) -> None:
    servers.deliver(corpus("plain-first.eml"))
    servers.deliver(b"From: Ann Lee <ann.lee@example.com>\r\nTo: support@hub.example\r\n"
                    b"Subject: RE: CSV export times out\r\nMessage-ID: <lost-headers@example.com>\r\n"
                    b"Date: Wed, 4 Mar 2026 09:00:00 +0000\r\n\r\nAny news?\r\n")
    servers.deliver(b"From: Someone Else <else@example.org>\r\nTo: support@hub.example\r\n"
                    b"Subject: Re: CSV export times out\r\nMessage-ID: <other-person@example.org>\r\n\r\nMe too\r\n")
    found = by_id(read(make(servers))[0])
    assert found["lost-headers@example.com"].payload["continuum"]["thread_id"] == FIRST
    assert not found["lost-headers@example.com"].payload["continuum"]["is_thread_start"]
    # Another sender's mail with the same subject is not someone else's thread.
    assert found["other-person@example.org"].payload["continuum"]["thread_id"] == "other-person@example.org"


def test_the_hubs_own_mail_reads_back_with_its_key_and_a_forged_key_is_not_trusted(servers: LocalMailServers) -> None:
    sender = compose(key="ck-own-1", sender=parse_address(SIM_USER), to="ann.lee@example.com", subject="x",
                     body="Our answer", parent=FIRST, root=FIRST, automatic="auto-replied", secret=SIM_PASSWORD)
    servers.deliver(sender.as_bytes())
    forged = compose(key="ck-forged", sender=parse_address(SIM_USER), to="ann.lee@example.com", subject="x",
                     body="Not ours", parent=None, root=None, automatic="auto-generated", secret="guessed")
    servers.deliver(forged.as_bytes())
    found = {r.payload["continuum"]["text"]: r for r in read(make(servers))[0]}
    # Our own mail is kept even though it says Auto-Submitted: the engine tells it apart by the key and account.
    assert found["Our answer"].own_key == "ck-own-1"
    assert found["Not ours"].own_key is None
    assert key_header("ck-forged", SIM_USER, SIM_PASSWORD) not in str(forged[KEY_HEADER])


def parse_address(address: str) -> Any:
    from email.headerregistry import Address

    return Address("Acme Support", addr_spec=address)


# -- answering --------------------------------------------------------------------------


def test_an_answer_threads_is_filed_in_sent_and_a_retry_finds_it_there(servers: LocalMailServers) -> None:
    connector = make(servers, display_name="Acme Support")
    (result,) = connector.write([reply("ck-answer-1", "Please export one month at a time.")])
    assert result.ok, result.error
    (sent,) = servers.relayed
    assert sent.rcpt_to == ("ann.lee@example.com",) and sent.mail_from == SIM_USER
    message = BytesParser(policy=policy.default).parsebytes(sent.data)
    assert message["From"] == "Acme Support <support@hub.example>" and message["Subject"] == "Re: CSV export times out"
    assert (message["In-Reply-To"], message["References"]) == (f"<{FIRST}>", f"<{FIRST}>")
    assert message["Message-ID"] == f"<{result.external_id}>" and message["Auto-Submitted"] == "auto-replied"
    (filed,) = servers.messages("Sent").values()
    assert BytesParser(policy=policy.default).parsebytes(filed)["Message-ID"] == message["Message-ID"]
    (again,) = make(servers).write([reply("ck-answer-1", "Please export one month at a time.", maybe_applied=True)])
    assert again.found_existing and again.external_id == result.external_id and len(servers.relayed) == 1
    # A maybe-applied effect that never went out is sent (once) under the same Message-ID rule.
    (late,) = make(servers).write([reply("ck-answer-2", "Second answer", maybe_applied=True)])
    assert late.ok and not late.found_existing and len(relayed_with_key(servers, "ck-answer-2")) == 1
    notice = Effect(**{**reply("ck-notice", "It shipped.").__dict__, "context": {
        "in_reply_to": FIRST, "purpose": "notice"}})
    assert make(servers).write([notice])[0].ok
    (told,) = relayed_with_key(servers, "ck-notice")
    assert BytesParser(policy=policy.default).parsebytes(told)["Auto-Submitted"] == "auto-generated"


def test_try_again_later_is_retried_after_a_wait_and_a_refusal_is_final(servers: LocalMailServers) -> None:
    servers.refuse_next("451 4.7.1 Too many messages, slow down", times=1)
    (result,) = make(servers, smtp_retry_wait_s=1.0).write([reply("ck-throttled", "after a pause")])
    assert result.ok, result.error
    (sent,) = servers.relayed
    waited = sent.at - servers.refused_at[0]
    assert waited >= 1.0, f"sent again {waited:.2f}s after a 451, not after the 1 s back-off"
    servers.refuse_next("554 5.7.1 Message rejected as spam", times=1)
    (refused,) = make(servers).write([reply("ck-spam", "no luck")])
    assert not refused.ok and "554 5.7.1 Message rejected as spam" in str(refused.error)
    assert "ck-spam" in str(refused.error) and len(servers.relayed) == 1


def test_a_bad_recipient_fails_that_effect_only(servers: LocalMailServers) -> None:
    results = make(servers).write([reply("ck-bad-to", "x", to="not an address"), reply("ck-good", "fine")])
    assert [r.ok for r in results] == [False, True]
    assert "fields['to']" in str(results[0].error)


def test_wrong_credentials_are_an_auth_error_naming_the_system_not_the_secret(servers: LocalMailServers) -> None:
    with pytest.raises(ClientError) as caught:
        make(servers, password="wrong-secret-5e1f").check()
    assert caught.value.is_auth_error and str(caught.value).startswith("email: IMAP")
    assert "wrong-secret-5e1f" not in str(caught.value)
    (result,) = make(servers, password="wrong-secret-5e1f").write([reply("ck-refused", "x")])
    assert not result.ok and "wrong-secret-5e1f" not in str(result.error)


def test_the_local_smtp_server_is_no_open_relay_and_delivers_into_the_mailbox(servers: LocalMailServers) -> None:
    host, port = servers.smtp_url.removeprefix("smtp://").split(":")
    with smtplib.SMTP(host, int(port)) as anonymous:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            anonymous.sendmail("spammer@example.com", ["victim@example.org"], b"Subject: x\r\n\r\nspam\r\n")
        anonymous.sendmail("ann.lee@example.com", [SIM_USER], corpus("plain-first.eml"))
    assert [r.external_id for r in read(make(servers))[0]] == [FIRST]


# -- the whole loop ---------------------------------------------------------------------


def test_a_customers_mail_becomes_a_ticket_and_the_staff_answer_goes_back_in_her_thread(
        servers: LocalMailServers, sqlite_db: Engine) -> None:
    hub = HubConfig.model_validate({
        "systems": {"email": {"connector": "email", "connection": "none", "options": {"display_name": "Acme"}},
                    "tracker": {"connector": "fake", "connection": "none"}},
        "pipelines": {"p": {
            "sources": [{"system": "email", "stream": "messages", "mapping": "email.message.yaml"}],
            "targets": [{"system": "tracker", "mapping": str(ENGINE_MAPPINGS / "tracker.issue.yaml"),
                         "comment_mapping": str(ENGINE_MAPPINGS / "tracker.comment.yaml"), "stream": "issues"}],
            "reply_mapping": {"email": "email.message.yaml"},
            "routing": [{"name": "all mail", "when": {}, "then": {"route": "tracker"}}]}}})
    tracker = FakeTracker()
    ctx = SyncContext(db=sqlite_db, hub=hub, pipeline_name="p",
                      connectors={"email": make(servers, display_name="Acme"), "tracker": tracker})
    host, port = servers.smtp_url.removeprefix("smtp://").split(":")
    with smtplib.SMTP(host, int(port)) as customer:  # Ann writes to the support address
        customer.sendmail("ann.lee@example.com", [SIM_USER], corpus("plain-first.eml"))
    run_pipeline(ctx)
    (issue_id,) = tracker.issues
    tracker.staff_comment(issue_id, "Exports of one month at a time finish in seconds <b>today</b>.")
    stats: RunStats = run_pipeline(ctx)
    assert stats.counts.get("replies_planned") == 1
    (sent,) = servers.relayed
    message = BytesParser(policy=policy.default).parsebytes(sent.data)
    assert sent.rcpt_to == ("ann.lee@example.com",) and message["In-Reply-To"] == f"<{FIRST}>"
    plain, page = message.get_body(preferencelist=("plain",)), message.get_body(preferencelist=("html",))
    assert plain is not None and page is not None
    body = plain.get_content()
    assert "Hello Ann Lee," in body and "finish in seconds <b>today</b>." in body and "Acme" in body
    assert "&lt;b&gt;today&lt;/b&gt;" in page.get_content() and message["Auto-Submitted"] == "auto-replied"
    run_pipeline(ctx)  # the answer in Sent and a re-run: nothing new, nothing sent twice
    assert len(servers.relayed) == 1
    with sqlite_db.connect() as conn:
        assert conn.execute(select(outbox.c.state).where(outbox.c.system == "email")).scalars().all() == ["done"]
