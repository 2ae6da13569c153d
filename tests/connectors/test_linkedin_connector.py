"""LinkedInConnector reading the LinkedIn simulator over real HTTP: what the shared contract suite does not cover."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.linkedin.client import LIMITS, LinkedInClient, until_midnight_utc
from connectors.linkedin.config import LinkedInConfig
from connectors.linkedin.connector import LinkedInConnector
from connectors.linkedin.contract import exchange_errors
from connectors.linkedin.plugin import PLUGIN, SIM_ORGANIZATION
from connectors.linkedin.seed import seed
from connectors.linkedin.simulator import LinkedInSimulator
from continuum.connector import ConnectionInfo, SourceRecord
from continuum.http import GATES, STATS, RetryPolicy, new_session
from continuum.kit import ClientError, RateLimitExhausted
from continuum.kit.config import ConfigError
from continuum.kit.errors import is_auth_error


@pytest.fixture
def sim() -> Iterator[LinkedInSimulator]:
    simulator = LinkedInSimulator()
    seed(simulator)
    simulator.start()
    yield simulator
    simulator.stop()
    problems = [p for x in simulator.exchanges if x.fault is None for p in exchange_errors(x)]
    assert not problems, problems[:5]


def make(sim: LinkedInSimulator, fast: bool = False, **options: Any) -> LinkedInConnector:
    data = PLUGIN.simulator_connection(sim.base_url)
    conn = ConnectionInfo("linkedin_test", data["host"], data.get("login"), data.get("password"))
    connector = PLUGIN.create(conn, options)
    assert isinstance(connector, LinkedInConnector)
    if fast:  # quick retries, so a spent window is reached in milliseconds
        session = new_session("linkedin", RetryPolicy(backoff_initial_s=0.01, backoff_max_s=0.02), rate_limits=LIMITS)
        connector.client = LinkedInClient(connector.config, session)
    return connector


def read(connector: LinkedInConnector, cursor: Any) -> tuple[list[SourceRecord], Any]:
    records: list[SourceRecord] = []
    for page in connector.read_changes("posts", cursor):
        records += page.records
        cursor = page.cursor
    return records, cursor


def by_text(records: list[SourceRecord], needle: str) -> SourceRecord:
    return next(r for r in records if needle in r.payload["continuum"]["text"])


def test_config_takes_an_id_or_urn_and_hides_the_token(sim: LinkedInSimulator) -> None:
    conn = ConnectionInfo("li", "", "1001", "tok-secret-1")
    config = LinkedInConfig.from_connection(conn)
    assert config.organization == SIM_ORGANIZATION and config.url == "https://api.linkedin.com"
    assert "tok-secret-1" not in repr(config)
    with pytest.raises(ConfigError, match="organization"):
        LinkedInConfig.from_connection(ConnectionInfo("li", "", "acme", "tok"))
    with pytest.raises(ConfigError, match="api_version"):
        LinkedInConfig.from_connection(conn, {"api_version": "2024-01"})


def test_first_read_rebuilds_threads_and_knows_the_company_voice(sim: LinkedInSimulator) -> None:
    connector = make(sim)
    records, _ = read(connector, None)
    posts = [r for r in records if r.payload["continuum"]["kind"] == "post"]
    comments = [r for r in records if r.payload["continuum"]["kind"] == "comment"]
    assert len(posts) == 2 and len(comments) == 5
    launch = by_text(records, "spring release")
    assert launch.external_id.startswith("urn:li:share:") and launch.payload["continuum"]["is_thread_start"]
    assert launch.payload["continuum"]["author"] == connector.account == SIM_ORGANIZATION  # the company's voice
    csv = by_text(records, "CSV files")
    plus_one = by_text(records, "+1, a CSV download")
    assert csv.parent_id == plus_one.parent_id == launch.external_id  # the thread is the post
    assert csv.payload["continuum"]["parent_id"] == launch.external_id
    assert plus_one.payload["continuum"]["parent_id"] == csv.external_id  # a reply in Amara's thread
    assert plus_one.payload["continuum"]["author"].startswith("urn:li:person:")
    assert plus_one.version == str(plus_one.payload["lastModified"]["time"])
    assert all(r.payload["continuum"]["created_at"].endswith("Z") for r in records)


def test_paging_resume_and_a_later_comment(sim: LinkedInSimulator) -> None:
    post = sim.add_post("Busy thread")
    person = sim.add_person("pager", "Page Turner")
    for n in range(25):
        sim.add_comment(person, post, f"comment {n}")
    connector = make(sim, page_size=10)
    records, cursor = read(connector, None)
    assert len({r.external_id for r in records}) == len(records) == 2 + 5 + 1 + 25
    lists = [x for x in sim.calls("GET", "/comments") if "ids=" not in x.query_string and "share" in x.path]
    assert any("start=20" in x.query_string for x in lists), "the busy post was not paged"
    again, cursor2 = read(make(sim, page_size=10), cursor)
    assert again == []
    later = sim.add_comment(person, post, "one more thing")
    fresh, _ = read(make(sim, page_size=10), cursor2)
    assert [r.external_id for r in fresh] == [later]


def test_a_new_reply_in_an_old_thread_is_read(sim: LinkedInSimulator) -> None:
    connector = make(sim)
    records, cursor = read(connector, None)
    csv = by_text(records, "CSV files")
    reply = sim.add_comment("urn:li:person:sofia-marin-22", csv.external_id, "Same for us, CSV please")
    fresh, _ = read(make(sim), cursor)
    assert [(r.external_id, r.payload["continuum"]["parent_id"]) for r in fresh] == [(reply, csv.external_id)]


def test_edits_and_deletions_come_back(sim: LinkedInSimulator) -> None:
    records, cursor = read(make(sim), None)
    bug, howto = by_text(records, "Safari 17"), by_text(records, "invite a colleague")
    sim.edit_comment(bug.external_id, "Blank page in Safari 17.4 on the shared dashboard, reproducible.")
    sim.delete_comment(howto.external_id)
    changed, cursor = read(make(sim), cursor)
    assert {(r.external_id, r.deleted) for r in changed} == {(bug.external_id, False), (howto.external_id, True)}
    edited = next(r for r in changed if not r.deleted)
    assert int(edited.version or 0) > int(bug.version or 0) and "17.4" in edited.payload["continuum"]["text"]
    gone = next(r for r in changed if r.deleted)
    assert gone.object_type == "post" and gone.stream == "posts"
    assert read(make(sim), cursor)[0] == []  # reported once


def test_recheck_is_bounded_and_batched(sim: LinkedInSimulator) -> None:
    _, cursor = read(make(sim, recheck_max=2), None)
    assert len(cursor["recent"]) == 2
    sim.exchanges.clear()
    read(make(sim), cursor)
    batches = [x for x in sim.calls("GET") if "ids=List(" in x.query_string]
    assert 1 <= len(batches) <= 2 and all(x.request_headers.get("X-Restli-Method") == "BATCH_GET" for x in batches)


def test_a_spent_daily_limit_stops_cleanly_and_the_next_run_resumes(sim: LinkedInSimulator) -> None:
    for n in range(3):
        post = sim.add_post(f"Post {n}")
        sim.add_comment("urn:li:person:amara-osei-41", post, f"Comment on post {n}")
    expected = {r.external_id for r in read(make(sim), None)[0]}
    sim.exchanges.clear()
    sim.daily_limit, sim._calls_today = 3, 0
    kept: list[SourceRecord] = []
    cursor = None
    with pytest.raises(RateLimitExhausted) as caught:
        for page in make(sim, fast=True).read_changes("posts", None):
            kept += page.records
            cursor = page.cursor
    assert caught.value.resume_in_s == pytest.approx(until_midnight_utc(), abs=5)
    assert not is_auth_error(caught.value)
    assert "linkedin" in str(caught.value)
    limited = [x for x in sim.exchanges if x.status == 429]
    assert limited and "retry-after" not in {k.lower() for k in limited[0].response_headers}
    calls = len(sim.exchanges)
    with pytest.raises(RateLimitExhausted):  # the rest of the run sends nothing
        make(sim, fast=True).check()
    assert len(sim.exchanges) == calls
    GATES.reset()  # the next day, with its own quota
    sim.new_day()
    sim.daily_limit = 40
    rest, _ = read(make(sim), cursor)
    assert {r.external_id for r in kept + rest} == expected


def test_wrong_token_is_an_auth_error_naming_linkedin(sim: LinkedInSimulator) -> None:
    data = PLUGIN.simulator_connection(sim.base_url)
    connector = PLUGIN.create(ConnectionInfo("li", data["host"], data["login"], "not-the-token-77"), {})
    with pytest.raises(ClientError) as caught:
        connector.check()
    message = str(caught.value)
    assert caught.value.is_auth_error and "linkedin" in message and "not-the-token-77" not in message
    assert "Invalid access token" in str(caught.value)


def test_calls_per_hundred_comments(sim: LinkedInSimulator) -> None:
    post = sim.add_post("Hundred")
    person = sim.add_person("counter", "Count")
    for n in range(100):
        sim.add_comment(person, post, f"c{n}")
    STATS.reset()
    records, _ = read(make(sim), None)
    calls = STATS.snapshot()["linkedin"]["calls"]
    assert len(records) == 108
    assert calls <= 6, calls  # 1 posts call + 1 comments call per post (3 posts) + 1 thread with replies


def test_a_run_stopped_inside_a_busy_post_loses_nothing(sim: LinkedInSimulator) -> None:
    post = sim.add_post("Busy thread")
    person = sim.add_person("pager", "Page Turner")
    wanted = {sim.add_comment(person, post, f"comment {n}") for n in range(25)}
    pages = make(sim, page_size=10).read_changes("posts", None)
    got: set[str] = set()
    cursor: Any = None
    for page in pages:  # commit pages until the first chunk of the busy post, then "crash"
        got |= {r.external_id for r in page.records}
        cursor = page.cursor
        if got & wanted:
            break
    assert 0 < len(got & wanted) < 25
    rest, _ = read(make(sim, page_size=10), cursor)
    assert wanted <= got | {r.external_id for r in rest}


def test_the_mapping_turns_records_into_interactions_and_escapes_the_answer(sim: LinkedInSimulator) -> None:
    from continuum.mapping import load_mapping
    from continuum.mapping.render import map_inbound, map_outbound

    mapping = load_mapping("linkedin.post.yaml")
    records, _ = read(make(sim), None)
    rows = {r.external_id: map_inbound(mapping, r.payload) for r in records}
    csv = by_text(records, "CSV files")
    row = rows[csv.external_id]
    assert row["thread_id"] == csv.parent_id and row["parent_id"] == csv.parent_id and not row["is_thread_start"]
    assert row["author_account_id"] == row["author_handle"] == "urn:li:person:amara-osei-41"
    assert "CSV files" in row["text"] and row["kind"] == "unknown" and row["channel"] == "linkedin/1001"
    post = by_text(records, "spring release")
    assert rows[post.external_id]["is_thread_start"] and rows[post.external_id]["author_account_id"] == SIM_ORGANIZATION
    fields = map_outbound(mapping, "reply", {"customer": {"display_name": "@[Amara](urn:li:person:1)"},
                                              "answer": {"text": "Use #export_csv"}}, make(sim).escape_text)
    assert "\\@\\[Amara\\]\\(urn:li:person:1\\)" in fields["text"] and "\\#export\\_csv" in fields["text"]


def test_a_seed_file_section_loads_threads() -> None:
    from connectors.linkedin.seed import load

    sim = LinkedInSimulator()
    load(sim, {"people": [{"id": "ann-1", "name": "Ann"}], "posts": [{"text": "Dark mode", "comments": [
        {"author": "ann-1", "text": "Finally", "replies": [{"author": "ann-1", "text": "Thanks"}]}]}]})
    first, second = sim.comments.values()
    assert second.parent == first.id and sim.people["urn:li:person:ann-1"] == "Ann"
