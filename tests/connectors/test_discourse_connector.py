"""DiscourseConnector against the Discourse simulator over real HTTP: what the shared contract suite does not cover."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.discourse.connector import DiscourseConnector
from connectors.discourse.markup import idempotency_marker
from connectors.discourse.plugin import PLUGIN, SIM_API_KEY, SIM_API_USERNAME
from connectors.discourse.seed import seed
from connectors.discourse.simulator import DiscourseSimulator
from continuum.connector import ConnectionInfo, Effect, Page, SourceRecord
from continuum.kit.errors import ClientError
from continuum.kit.pagination import PageLoopError


@pytest.fixture
def sim() -> Iterator[DiscourseSimulator]:
    simulator = DiscourseSimulator()
    seed(simulator)
    simulator.start()
    yield simulator
    simulator.stop()


def make(sim: DiscourseSimulator, login: str = SIM_API_USERNAME, **options: object) -> DiscourseConnector:
    connector = PLUGIN.create(ConnectionInfo("discourse_test", sim.base_url, login, SIM_API_KEY), dict(options))
    assert isinstance(connector, DiscourseConnector)
    return connector


def read_all(connector: DiscourseConnector, cursor: dict | None) -> tuple[list[Page], list[SourceRecord]]:
    pages = list(connector.read_changes("posts", cursor))
    return pages, [r for p in pages for r in p.records]


def reply_effect(key: str, topic_id: int, raw: str, maybe_applied: bool = False, **context: object) -> Effect:
    return Effect(key=key, action="reply", object_type="post", fields={"raw": raw}, target_id=str(topic_id),
                  maybe_applied=maybe_applied, context=dict(context))


def test_options_are_normalised_and_the_key_stays_hidden(sim: DiscourseSimulator) -> None:
    connector = make(sim, categories=" Support, bugs ,", page_size=7)
    assert connector.account == SIM_API_USERNAME
    assert connector.config.categories == ("support", "bugs") and connector.config.page_size == 7
    assert SIM_API_KEY not in repr(connector.config)


def test_first_read_returns_every_post_oldest_first_with_full_payload(sim: DiscourseSimulator) -> None:
    connector = make(sim, page_size=10)
    pages, records = read_all(connector, None)
    expected = [p["id"] for p in sim.posts()]
    assert [int(r.external_id) for r in records] == expected
    assert all(len(p.records) <= 10 for p in pages) and len(pages) >= 4
    for page in pages:
        assert page.cursor is not None
        assert page.cursor["last_post_id"] == max(int(r.external_id) for r in page.records)
    opener = records[0]
    assert opener.stream == "posts" and opener.object_type == "post"
    assert opener.parent_id == str(opener.payload["topic_id"])
    assert opener.version == opener.payload["updated_at"]
    for key in ("id", "topic_id", "post_number", "reply_to_post_number", "username", "name", "user_id", "raw",
                "cooked", "created_at", "updated_at", "topic_title", "topic_slug", "category_id"):
        assert key in opener.payload, key
    extra = opener.payload["continuum"]
    assert extra["category_slug"] == "feature-requests" and extra["is_topic_opener"] is True
    assert extra["url"] == f"{sim.base_url}/t/dark-mode-please/{opener.parent_id}/1"
    reply = next(r for r in records if r.payload["post_number"] == 3 and r.parent_id == opener.parent_id)
    assert reply.payload["continuum"]["reply_to_post_number"] == 1
    # the company's own posts are handed out too; the engine recognises them
    assert any(r.payload["username"] == SIM_API_USERNAME for r in records)


def test_second_read_returns_only_new_posts_and_noop_costs_one_call(sim: DiscourseSimulator) -> None:
    connector = make(sim)
    pages, _ = read_all(connector, None)
    cursor = pages[-1].cursor
    calls = sim.effect_counts()["calls"]
    assert read_all(connector, cursor) == ([], [])
    assert sim.effect_counts()["calls"] - calls == 1

    topic_id, first = sim.create_topic("hana.sato", "support", "Where is the audit log?", "Looking for it.")
    answer = sim.reply("priya_r", topic_id, "Settings > Security > Audit log.", 1)
    calls = sim.effect_counts()["calls"]
    pages, records = read_all(connector, cursor)
    assert [r.external_id for r in records] == [str(first), str(answer)]
    assert pages[-1].cursor is not None and pages[-1].cursor["last_post_id"] == answer
    assert sim.effect_counts()["calls"] - calls == 1  # categories are cached, one feed page is enough


def test_paging_through_more_than_one_feed_page_never_skips_or_repeats(sim: DiscourseSimulator) -> None:
    topic_id, _ = sim.create_topic("kwame.m", "bugs", "Long thread about sync delays", "It is slow.")
    for n in range(120):
        sim.reply(["olu_adeyemi", "kwame.m", "greta_h"][n % 3], topic_id, f"Observation number {n}.")
    connector = make(sim, page_size=37)
    pages, records = read_all(connector, None)
    ids = [int(r.external_id) for r in records]
    assert ids == [p["id"] for p in sim.posts()]
    assert len(ids) == len(set(ids)) > 150
    assert len(sim.calls("GET", "/posts.json")) >= 4  # several 50-post feed pages walked backwards
    # resuming from any page's cursor yields exactly the rest
    middle = pages[2].cursor
    assert middle is not None
    _, rest = read_all(make(sim, page_size=37), middle)
    assert [int(r.external_id) for r in rest] == [i for i in ids if i > middle["last_post_id"]]


def test_exclusive_before_is_handled_too(sim: DiscourseSimulator) -> None:
    sim.before_inclusive = False  # as the description words it
    topic_id, _ = sim.create_topic("deshawn", "bugs", "Another long one", "Start.")
    for n in range(80):
        sim.reply("deshawn", topic_id, f"Update {n}")
    _, records = read_all(make(sim, page_size=500), None)
    assert [int(r.external_id) for r in records] == [p["id"] for p in sim.posts()]


def test_a_feed_that_keeps_starting_early_fails_the_read_before_any_page(sim: DiscourseSimulator) -> None:
    # Two posts a page, each next page served from up to three posts early: it never gets below `before`.
    sim.latest_limit = 2
    sim.set_paging_faults("repeat", rate=1.0)
    connector = make(sim)
    pages: list[Page] = []
    with pytest.raises(PageLoopError, match="before="):
        pages.extend(connector.read_changes("posts", None))
    assert pages == []  # no cursor was handed out past the posts the walk never reached
    asked = [x.query_string for x in sim.calls("GET", "/posts.json")]
    assert 2 <= len(asked) <= 12, asked  # asked again a bounded number of times
    sim.set_paging_faults(None)
    _, records = read_all(connector, None)
    assert [int(r.external_id) for r in records] == [p["id"] for p in sim.posts()]


def test_category_filter(sim: DiscourseSimulator) -> None:
    connector = make(sim, categories=["feature-requests", "support"])
    pages, records = read_all(connector, None)
    slugs = {r.payload["continuum"]["category_slug"] for r in records}
    assert slugs == {"feature-requests", "support"}
    expected = [p["id"] for p in sim.posts() if p["category_id"] in (2, 3)]
    assert [int(r.external_id) for r in records] == expected
    # the cursor covers skipped posts, so a busy other category costs nothing later
    assert pages[-1].cursor is not None and pages[-1].cursor["last_post_id"] == sim.posts()[-1]["id"]
    sim.create_topic("tkowalski", "lounge", "Friday banter", "Have a nice weekend!")
    pages, records = read_all(connector, pages[-1].cursor)
    assert records == [] and pages[-1].cursor is not None and pages[-1].cursor["last_post_id"] == sim.posts()[-1]["id"]


def test_new_and_sub_categories(sim: DiscourseSimulator) -> None:
    connector = make(sim, categories=["feature-requests"])
    pages, _ = read_all(connector, None)
    sim.add_category("Integrations", "integrations", parent_slug="feature-requests")
    _, post_id = sim.create_topic("priya_r", "integrations", "Zapier integration", "Zapier please.")
    _, records = read_all(connector, pages[-1].cursor)  # a category created since the connector looked
    assert [r.external_id for r in records] == [str(post_id)]
    assert records[0].payload["continuum"]["category_slug"] == "integrations"


def test_unknown_category_slug_is_a_clear_error(sim: DiscourseSimulator) -> None:
    with pytest.raises(ValueError, match="no-such-category"):
        make(sim, categories=["no-such-category"]).check()


def test_a_key_for_another_username_is_refused(sim: DiscourseSimulator) -> None:
    with pytest.raises(ClientError, match="403") as caught:
        make(sim, login="mara.lindqvist").check()
    assert caught.value.is_auth_error


def test_odd_planted_values_still_read(sim: DiscourseSimulator) -> None:
    pid = sim.insert_post(reply_to_post_number="not-a-number", name=None, raw="")
    _, records = read_all(make(sim), {"last_post_id": pid - 1})
    assert [r.external_id for r in records] == [str(pid)]
    assert records[0].payload["continuum"]["reply_to_post_number"] is None
    assert records[0].payload["raw"] == ""


@pytest.mark.parametrize("kind", ["reset", "502"])
def test_transient_read_failures_are_retried(sim: DiscourseSimulator, kind: str) -> None:
    sim.inject(kind, times=1, path_contains="/posts.json", method="GET")
    _, records = read_all(make(sim), None)
    assert [int(r.external_id) for r in records] == [p["id"] for p in sim.posts()]
    assert sim.faults.injected[kind] == 1


def test_reply_posts_with_marker_and_reports_url(sim: DiscourseSimulator) -> None:
    connector = make(sim)
    topic_id = 8
    [result] = connector.write([reply_effect("out-1", topic_id, "Thanks, we are on it.", reply_to_post_number=2)])
    assert result.ok and result.key == "out-1" and result.object_type == "post" and not result.found_existing
    post = next(p for p in sim.posts(topic_id) if str(p["id"]) == result.external_id)
    assert post["username"] == SIM_API_USERNAME and post["reply_to_post_number"] == 2
    assert post["raw"].startswith("Thanks, we are on it.") and idempotency_marker("out-1") in post["raw"]
    assert "continuum" not in post["cooked"]  # the marker is invisible once cooked
    assert result.url == f"{sim.base_url}/t/dark-mode-please/{topic_id}/{post['post_number']}"
    assert sim.effect_counts()["replies"] == 1


def test_maybe_applied_finds_the_earlier_reply_deep_in_a_long_topic(sim: DiscourseSimulator) -> None:
    connector = make(sim)
    topic_id, _ = sim.create_topic("annika_b", "support", "Busy thread", "Lots of replies follow.")
    for n in range(30):  # beyond the first 20-post chunk of the topic view
        sim.reply("annika_b", topic_id, f"reply {n}")
    [first] = connector.write([reply_effect("out-2", topic_id, "We replied once.")])
    for n in range(25):  # and our reply scrolls out of the newest chunk
        sim.reply("mara.lindqvist", topic_id, f"later {n}")
    [again] = connector.write([reply_effect("out-2", topic_id, "We replied once.", maybe_applied=True)])
    assert again.ok and again.found_existing and again.external_id == first.external_id
    assert again.url == first.url
    assert sim.effect_counts()["replies"] == 1
    assert len(sim.calls("GET", f"/t/{topic_id}/posts.json")) >= 1
    # only our own posts were opened for their raw text
    opened = {int(x.path.split("/")[2].split(".")[0]) for x in sim.calls("GET", "/posts/")}
    assert opened and all(p["username"] == SIM_API_USERNAME for p in sim.posts() if p["id"] in opened)


def test_maybe_applied_posts_when_the_first_attempt_never_landed(sim: DiscourseSimulator) -> None:
    connector = make(sim)
    sim.inject("502", times=1, path_contains="/posts.json", method="POST")
    [failed] = connector.write([reply_effect("out-3", 9, "Working on it.")])
    assert not failed.ok and "out-3" in (failed.error or "") and "502" in (failed.error or "")
    assert sim.effect_counts()["replies"] == 0  # a POST is never blindly retried
    [result] = connector.write([reply_effect("out-3", 9, "Working on it.", maybe_applied=True)])
    assert result.ok and not result.found_existing
    assert sim.effect_counts()["replies"] == 1


def test_bad_replies_name_what_is_wrong(sim: DiscourseSimulator) -> None:
    results = make(sim).write([reply_effect("bad-topic", 99999, "Nobody will see this."),
                               Effect("bad-action", "create", "post", {"raw": "x"}),
                               Effect("no-topic", "reply", "post", {"raw": "Hello"}, target_id="x"),
                               reply_effect("good", 9, "Second answer.")])
    assert [r.ok for r in results] == [False, False, False, True]
    assert "404" in (results[0].error or "") and "reply" in (results[1].error or "")
    assert "target_id" in (results[2].error or "")
    assert sim.effect_counts()["replies"] == 1


def test_own_replies_come_back_carrying_their_key(sim: DiscourseSimulator) -> None:
    connector = make(sim)
    pages, _ = read_all(connector, None)
    [result] = connector.write([reply_effect("out-4", 8, "Hello from support.")])
    sim.reply("kwame.m", 8, f"Copying what I saw: {idempotency_marker('forged-key')}")
    _, records = read_all(connector, pages[-1].cursor)
    ours, customers = records
    assert ours.external_id == result.external_id
    assert ours.payload["username"] == SIM_API_USERNAME and idempotency_marker("out-4") in ours.payload["raw"]
    # recognised by its key even before the engine linked it (a crash between posting and recording)
    assert ours.own_key == "out-4"
    assert customers.own_key is None  # a customer cannot pass for the hub
