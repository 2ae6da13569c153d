"""MastodonConnector (Mastodon.py on the shared HTTP layer) against the Mastodon simulator over real HTTP:
what the shared contract suite does not cover.  Every exchange is checked against the description."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.mastodon.connector import MastodonConnector
from connectors.mastodon.contract import HARNESS
from connectors.mastodon.markup import ZWSP, html_to_text, status_length, without_leading_mentions
from connectors.mastodon.plugin import PLUGIN, SIM_ACCOUNT, SIM_TOKEN
from connectors.mastodon.seed import seed
from connectors.mastodon.simulator import MastodonSimulator
from continuum.connector import ConnectionInfo, Effect, SourceRecord
from continuum.http import GATES
from continuum.kit import ClientError
from continuum.kit.ratelimit import spent_window
from continuum.mapping import load_mapping
from continuum.mapping.render import map_inbound

NORA, TOMAS, AIKO = "nora@fosstodon.example", "tomas@mastodon.example", "aiko@hachyderm.example"


@pytest.fixture
def sim() -> Iterator[MastodonSimulator]:
    simulator = MastodonSimulator()
    seed(simulator)
    simulator.start()
    yield simulator
    simulator.stop()
    HARNESS.check_exchanges(simulator)


def make(sim: MastodonSimulator, login: str = SIM_ACCOUNT, token: str = SIM_TOKEN,
         **options: Any) -> MastodonConnector:
    connector = PLUGIN.create(ConnectionInfo("mastodon_test", sim.base_url, login, token), options)
    assert isinstance(connector, MastodonConnector)
    return connector


def read(connector: MastodonConnector,
         cursor: dict[str, Any] | None) -> tuple[list[SourceRecord], dict[str, Any] | None]:
    records: list[SourceRecord] = []
    for page in connector.read_changes("posts", cursor):
        records += page.records
        cursor = page.cursor
    return records, cursor


def by_text(records: list[SourceRecord], words: str) -> SourceRecord:
    return next(r for r in records if words in r.payload["continuum"]["text"])


def reply(key: str, status_id: str, text: str, maybe_applied: bool = False) -> Effect:
    return Effect(key=key, action="reply", object_type="status", fields={"status": text}, target_id=status_id,
                  maybe_applied=maybe_applied, context={"in_reply_to": f"status:{status_id}"})


def test_reads_mentions_oldest_first_in_pages_and_resumes_from_the_cursor(sim: MastodonSimulator) -> None:
    connector = make(sim, page_size=2)
    pages = list(connector.read_changes("posts", None))
    customers = [r for p in pages for r in p.records if r.payload["continuum"]["acct"] != SIM_ACCOUNT]
    assert [r.payload["continuum"]["acct"] for r in customers] == [NORA, "ben@social.example", TOMAS, TOMAS, AIKO,
                                                                     AIKO]
    assert len(pages) == 3 and all(p.cursor["last_id"] for p in pages)
    _, cursor = read(connector, None)
    again, cursor = read(make(sim), cursor)
    assert again == [], "a re-read from the saved cursor brought records"
    later = sim.post(NORA, "@acme and a JSON export would be lovely too")
    fresh, _ = read(make(sim), cursor)
    assert [r.external_id for r in fresh] == [str(later)]


def test_threads_are_rebuilt_and_the_company_s_own_post_is_its_voice(sim: MastodonSimulator) -> None:
    connector = make(sim)
    records, _ = read(connector, None)
    launch = by_text(records, "Scheduled reports are live")
    assert launch.payload["continuum"]["acct"] == connector.account  # what the engine's own-voice check compares
    nora = by_text(records, "CSV files")
    assert nora.payload["continuum"]["thread_id"] == launch.external_id == nora.payload["in_reply_to_id"]
    bug = by_text(records, "counts every order twice")
    follow_up = by_text(records, "Firefox and Chrome")
    assert bug.payload["continuum"]["is_thread_start"] and follow_up.parent_id == bug.external_id
    company_answer = next(r for r in records if r.external_id == follow_up.payload["in_reply_to_id"])
    assert company_answer.payload["continuum"]["acct"] == connector.account  # read with its thread: our voice
    assert all(isinstance(r.external_id, str) and r.external_id.isdigit() for r in records)
    assert sum(1 for x in sim.calls("GET", "/context")) == 2  # Ben's reply reused Nora's thread: no third call
    dm = by_text(records, "invite a teammate")
    mapped = map_inbound(load_mapping("mastodon.post.yaml"), dm.payload)
    assert mapped["channel"] == "mastodon/direct" and mapped["author_handle"] == AIKO
    assert mapped["author_account_id"] == str(sim.account_id(AIKO)) and mapped["kind"] == "unknown"
    assert "<" not in mapped["text"] and mapped["text"].startswith("@acme how do I invite")


def test_a_reply_addresses_the_customer_in_their_thread_no_wider_than_their_status(sim: MastodonSimulator) -> None:
    records, _ = read(make(sim), None)
    dm = by_text(records, "invite a teammate")
    result = make(sim).write([reply("answer-dm-1", dm.external_id, "Settings, Team, Invite, and pick Member.")])[0]
    assert result.ok, result.error
    made = next(s for s in sim.statuses("acme") if s["id"] == result.external_id)
    assert made["in_reply_to_id"] == dm.external_id and made["visibility"] == "direct"
    assert made["text"] == f"@{AIKO} Settings, Team, Invite, and pick Member."
    assert sim.effect_counts()["replies"] == 1


def test_a_maybe_applied_retry_finds_the_reply_even_after_the_server_forgot_the_key(sim: MastodonSimulator) -> None:
    records, _ = read(make(sim), None)
    bug = by_text(records, "counts every order twice")
    first = make(sim).write([reply("answer-bug-1", bug.external_id, "Fixed in 4.2.1, thanks!")])[0]
    sim.pass_time()  # Mastodon keeps an Idempotency-Key for an hour only
    again = make(sim).write([reply("answer-bug-1", bug.external_id, "Fixed in 4.2.1, thanks!", maybe_applied=True)])[0]
    assert again.ok and again.found_existing and again.external_id == first.external_id
    assert sim.effect_counts()["replies"] == 1


def test_a_long_answer_becomes_a_numbered_chain_within_the_server_s_limit(sim: MastodonSimulator) -> None:
    sim.max_characters = 120
    records, _ = read(make(sim), None)
    nora = by_text(records, "CSV files")
    answer = " ".join(f"Step {n}: open Reports, choose the range and press Export as CSV." for n in range(1, 7))
    result = make(sim).write([reply("answer-csv-1", nora.external_id, answer)])[0]
    assert result.ok, result.error
    chain, above = [], nora.external_id
    while (nxt := next((s for s in sim.statuses("acme") if s["in_reply_to_id"] == above), None)) is not None:
        chain.append(nxt["text"])
        above = nxt["id"]
    assert len(chain) >= 4 and chain[0].startswith(f"@{NORA} ")
    assert all(status_length(text) <= 120 for text in chain)
    assert [text.rsplit(" ", 1)[-1] for text in chain] == [f"({n}/{len(chain)})" for n in range(1, len(chain) + 1)]
    joined = " ".join(without_leading_mentions(text).rsplit(" ", 1)[0] for text in chain)
    assert joined == answer


def test_edits_and_deletions_come_back_as_updated_and_deleted_records(sim: MastodonSimulator) -> None:
    records, cursor = read(make(sim), None)
    nora, ben = by_text(records, "CSV files"), by_text(records, "on a roll")
    sim.edit(int(nora.external_id), "@acme Nice one! I'd love CSV and Excel exports of my reports.")
    sim.delete(int(ben.external_id))
    changed, cursor = read(make(sim), cursor)
    edited = next(r for r in changed if r.external_id == nora.external_id)
    assert edited.version and edited.version == edited.payload["edited_at"] and not edited.deleted
    assert "Excel" in edited.payload["continuum"]["text"]
    gone = next(r for r in changed if r.external_id == ben.external_id)
    assert gone.deleted and gone.object_type == "status" and gone.stream == "posts"
    quiet, _ = read(make(sim), cursor)
    assert quiet == [], "an edit or a deletion came back twice"
    assert len(sim.calls("GET", "/api/v1/statuses")) >= 2  # a bulk re-lookup per run, not a call per status


def test_a_spent_window_stops_cleanly_and_the_next_run_loses_nothing(sim: MastodonSimulator) -> None:
    for n in range(6):
        sim.post(TOMAS, f"@acme one more thing, number {n}")
    sim.rate_limit = len(sim.exchanges) + 3  # a few calls left in this 5-minute window
    kept: list[SourceRecord] = []
    cursor: dict[str, Any] | None = None
    with pytest.raises(Exception) as caught:
        for page in make(sim, page_size=2).read_changes("posts", None):
            kept += page.records
            cursor = page.cursor
    window = spent_window(caught.value)
    assert window is not None and window.resume_in_s > 60 and "mastodon" in str(window)
    assert sim.effect_counts()["calls"] <= sim.rate_limit + 1, "calls went on after the window was spent"
    GATES.reset()
    sim.rate_limit = 300
    sim.pass_time()  # the window has reset
    rest, _ = read(make(sim), cursor)
    ids = [r.external_id for r in kept + rest]
    everything, _ = read(make(sim), None)
    assert set(ids) == {r.external_id for r in everything} and len(ids) == len(set(ids))


def test_check_recognises_a_bad_token_and_a_token_of_another_account(sim: MastodonSimulator) -> None:
    with pytest.raises(ClientError) as caught:
        make(sim, token="not-a-token-123").check()
    assert caught.value.is_auth_error and "not-a-token-123" not in str(caught.value)
    with pytest.raises(ValueError, match=r"tomas@mastodon\.example"):
        make(sim, token=sim.token_for("tomas")).check()
    make(sim).check()


def test_customer_text_is_escaped_and_status_html_read_as_safe_text() -> None:
    connector = MastodonConnector.escape_text
    escaped = connector("@everyone see #sale at https://evil.example :blobcat: mail me@x.org")
    assert escaped == f"@{ZWSP}everyone see #{ZWSP}sale at https:{ZWSP}//evil.example :{ZWSP}blobcat: mail me@x.org"
    content = ('<p>Hi <span class="h-card"><a href="https://m.example/@acme" class="u-url mention">@<span>acme'
               '</span></a></span> &lt;b&gt; &amp; more<br />line two</p><p>next<script>x()</script></p>')
    assert html_to_text(content) == "Hi @acme <b> & more\nline two\n\nnext"
