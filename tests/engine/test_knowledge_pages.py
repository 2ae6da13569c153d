"""Knowledge pages: the publish stage writes each selected customer's history (and, when asked, the feature
requests and their index) to the Confluence simulator over loopback; unchanged pages are not written again,
a changed page is one write, the staff's part of a page survives, and customer text stays text."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update

from connectors.confluence.contract import HARNESS, paragraph_text
from connectors.confluence.plugin import SIM_PARENT
from connectors.confluence.simcontract import confluence_errors, have_specs
from connectors.confluence.simulator import _WRAP, ConfluenceSimulator
from connectors.confluence.storage import END, START, clean
from continuum.config import HubConfig
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from continuum.engine.stages import STAGES, units
from continuum.failpoints import SimulatedCrash
from continuum.store.db import utcnow
from continuum.store.feature_requests import create_feature_request, set_votes
from continuum.store.tables import customers, identities, interactions, links, outbox
from continuum.testing.harness import HOSTILE_TEXTS
from tests.engine.fakes import FakeForum, FakeTracker

MAPPINGS = Path(__file__).parent / "mappings"
STAFF_NOTE = "<p>Staff: call Ann before any refund.</p>"


def hub(**knowledge: Any) -> HubConfig:
    return HubConfig.model_validate(
        {
            "systems": {
                "forum": {"connector": "fake", "connection": "none"},
                "tracker": {"connector": "fake", "connection": "none"},
                "wiki": {"connector": "confluence", "connection": "wiki_default"},
            },
            "pipelines": {
                "p": {
                    "sources": [{"system": "forum", "stream": "posts", "mapping": str(MAPPINGS / "forum.post.yaml")}],
                    "targets": [
                        {
                            "system": "tracker",
                            "mapping": str(MAPPINGS / "tracker.issue.yaml"),
                            "comment_mapping": str(MAPPINGS / "tracker.comment.yaml"),
                            "stream": "issues",
                        }
                    ],
                    "reply_mapping": {"forum": str(MAPPINGS / "forum.post.yaml")},
                    "routing": [
                        {"name": "chat", "when": {"kind": ["noise"]}, "then": {"action": "ignore"}, "stop": True},
                        {"name": "ideas", "when": {"kind": ["feature_request"]}, "then": {"route": "tracker"}},
                    ],
                    "knowledge": {"system": "wiki", **knowledge},
                }
            },
        }
    )


@pytest.fixture
def sim() -> Iterator[ConfluenceSimulator]:
    with ConfluenceSimulator() as simulator:
        yield simulator
        if have_specs():
            problems = confluence_errors(simulator.exchanges)
            assert not problems, "\n".join(problems[:5])


def world(db: Engine, sim: ConfluenceSimulator, **knowledge: Any) -> tuple[SyncContext, FakeForum, FakeTracker]:
    forum, tracker = FakeForum(), FakeTracker()
    ctx = SyncContext(
        db=db,
        hub=hub(**knowledge),
        pipeline_name="p",
        connectors={"forum": forum, "tracker": tracker, "wiki": HARNESS.connector(sim)},
    )
    return ctx, forum, tracker


def writes(sim: ConfluenceSimulator) -> int:
    counts = sim.effect_counts()
    return counts["created"] + counts["updated"] + counts["labels"]


def customer_pages(sim: ConfluenceSimulator) -> dict[str, dict[str, Any]]:
    return {p["title"]: p for p in sim.pages(SIM_PARENT) if "(customer " in p["title"]}


def section(page: dict[str, Any]) -> ElementTree.Element:
    body = str(page["body"])
    return ElementTree.fromstring(f"{_WRAP[0]}{body[body.index(START) : body.index(END) + len(END)]}{_WRAP[1]}")


def test_each_ticketed_customer_gets_a_page_and_a_rerun_writes_nothing(sqlite_db: Engine, sim) -> None:
    ctx, forum, tracker = world(sqlite_db, sim)
    forum.post("ann", 1, "Please add dark mode")
    forum.post("ann", 2, "lol nice weather", category="chat")  # ignored: not on her page
    forum.post("bob", 3, "Export to CSV would help")
    stats = run_pipeline(ctx)
    pages = customer_pages(sim)
    assert sorted(pages) == ["ann (customer 1)", "bob (customer 2)"] and stats.counts["publish_applied"] == 2
    ann = pages["ann (customer 1)"]
    cells = [paragraph_text(td) for td in section(ann).iter("td")]
    assert "Please add dark mode" in cells and "lol nice weather" not in cells
    assert "forum" in cells and "ann" in cells  # her identity: system and handle
    assert "100" in cells and "tracker" in cells and "feature_request" in cells  # her ticket, its kind
    assert ann["labels"] == ["continuum"] and writes(sim) == 4
    for _ in range(2):
        again = run_pipeline(ctx)
        assert writes(sim) == 4 and again.counts.get("pages_unchanged") == 2 and "publish_applied" not in again.counts
    assert tracker.created == 2


def test_a_new_interaction_is_one_write_on_that_customers_page_only(sqlite_db: Engine, sim) -> None:
    ctx, forum, _ = world(sqlite_db, sim)
    forum.post("ann", 1, "Please add dark mode")
    forum.post("bob", 3, "Export to CSV would help")
    run_pipeline(ctx)
    before, bob = writes(sim), customer_pages(sim)["bob (customer 2)"]
    forum.post("ann", 4, "And a high-contrast theme")
    stats = run_pipeline(ctx)
    assert writes(sim) - before == 1 and sim.effect_counts()["updated"] == 1
    assert stats.counts["publish_applied"] == 1 and stats.counts["pages_unchanged"] == 1
    pages = customer_pages(sim)
    assert "And a high-contrast theme" in pages["ann (customer 1)"]["body"] and pages["bob (customer 2)"] == bob


def test_a_staff_answer_changes_the_page_but_the_hubs_reply_is_no_ticket(sqlite_db: Engine, sim) -> None:
    ctx, forum, tracker = world(sqlite_db, sim)
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    tracker.staff_comment("100", "Dark mode ships next week")
    stats = run_pipeline(ctx)
    assert forum.replies == 1 and stats.counts["publish_applied"] == 1  # answered: her page changed
    rows = [
        [paragraph_text(td) for td in tr.iter("td")]
        for tr in section(customer_pages(sim)["ann (customer 1)"]).iter("tr")
    ]
    tickets = [r for r in rows if len(r) == 4 and r[1] in ("tracker", "forum")]
    assert [r[:2] for r in tickets] == [["100", "tracker"]], rows  # the reply on the forum is not a ticket
    [interaction] = [r for r in rows if len(r) == 6 and r[2] == "feature_request"]
    assert interaction[4] == "Please add dark mode" and interaction[3].startswith("answered 20")


def test_the_staffs_notes_survive_and_a_concurrent_edit_is_not_overwritten(sqlite_db: Engine, sim) -> None:
    ctx, forum, _ = world(sqlite_db, sim)
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    page_id = customer_pages(sim)["ann (customer 1)"]["id"]
    sim.edit_page(page_id, lambda body: STAFF_NOTE + body)
    sim.edit_before_next_update(page_id, lambda body: body + "<p>Later note</p>")
    forum.post("ann", 2, "Any news on dark mode?")
    run_pipeline(ctx)
    body = sim.page(page_id)["body"]
    assert body.startswith(STAFF_NOTE + START) and body.endswith(END + "<p>Later note</p>")
    assert "Any news on dark mode?" in body and sim.effect_counts()["conflicts"] == 1


def test_hostile_customer_text_stays_text_on_the_page(sqlite_db: Engine, sim) -> None:
    ctx, forum, _ = world(sqlite_db, sim)
    for n, text in enumerate(HOSTILE_TEXTS):
        forum.post("mallory", n + 1, text)
    stats = run_pipeline(ctx)
    assert stats.counts["publish_applied"] == 1, stats.counts
    [page] = customer_pages(sim).values()
    root = section(page)  # well-formed XHTML
    tags = {e.tag for e in root.iter() if e is not root}
    assert tags <= {
        "p",
        "h2",
        "table",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
        "br",
        "em",
        "sub",
        "{http://atlassian.com/content}structured-macro",
        "{http://atlassian.com/content}parameter",
    }
    assert len(list(root.iter("{http://atlassian.com/content}structured-macro"))) == 2  # the two markers only
    cells = [paragraph_text(td) for td in root.iter("td")]
    for text in HOSTILE_TEXTS:
        assert clean(text).strip() in cells, f"{text!r} is not on the page as text"


def test_a_crash_after_the_write_finds_the_page_on_the_rerun(sqlite_db: Engine, sim, monkeypatch) -> None:
    ctx, forum, _ = world(sqlite_db, sim)
    forum.post("ann", 1, "Please add dark mode")
    monkeypatch.setenv("CONTINUUM_FAILPOINTS", "after_write:wiki")
    monkeypatch.setenv("CONTINUUM_FAILPOINTS_MODE", "raise")
    with pytest.raises(SimulatedCrash):
        run_pipeline(ctx)
    monkeypatch.delenv("CONTINUUM_FAILPOINTS")
    stats = run_pipeline(ctx)
    assert len(customer_pages(sim)) == 1 and sim.effect_counts()["created"] == 1
    assert stats.counts.get("publish_found") == 1
    assert run_pipeline(ctx).counts.get("pages_unchanged") == 1


def test_the_rule_picks_who_gets_a_page(sqlite_db: Engine, sim) -> None:
    ctx, forum, _ = world(sqlite_db, sim, customer_pages={"select": ["vip"], "title": "Customer {id}: {name}"})
    forum.post("ann", 1, "Please add dark mode")
    forum.post("cid", 2, "lol nice weather", category="chat")
    run_pipeline(ctx)
    assert not customer_pages(sim) and not [p for p in sim.pages(SIM_PARENT) if p["title"].startswith("Customer ")]
    with sqlite_db.begin() as conn:
        conn.execute(update(customers).where(customers.c.display_name == "cid").values(tier="vip"))
    run_pipeline(ctx)
    assert [p["title"] for p in sim.pages(SIM_PARENT) if p["title"].startswith("Customer ")] == ["Customer 2: cid"]


def test_feature_request_pages_and_an_index_sorted_by_votes(sqlite_db: Engine, sim) -> None:
    ctx, forum, _ = world(sqlite_db, sim, customer_pages=None, feature_request_pages={})
    for n, who in enumerate(["ann", "bob", "cid"]):
        forum.post(who, n + 1, f"idea from {who}")
    run_pipeline(ctx)
    with sqlite_db.begin() as conn:
        dark = create_feature_request(conn, "Dark mode", "A dark theme", "dark mode", utcnow())
        csv = create_feature_request(conn, "CSV export", "Export as CSV", "csv", utcnow())
        ids = dict(conn.execute(select(interactions.c.text, interactions.c.id)).all())
        for text, request in (("idea from ann", csv), ("idea from bob", dark), ("idea from cid", dark)):
            conn.execute(update(interactions).where(interactions.c.id == ids[text]).values(feature_request_id=request))
        set_votes(conn, dark, 2)
        set_votes(conn, csv, 1)
    run_pipeline(ctx)
    titles = {p["title"]: p for p in sim.pages(SIM_PARENT)}
    assert {"Feature request 1: Dark mode", "Feature request 2: CSV export", "Feature requests by votes"} <= set(titles)
    voices = [paragraph_text(td) for td in section(titles["Feature request 1: Dark mode"]).iter("td")]
    assert "idea from bob" in voices and "idea from cid" in voices and "2" in voices
    index = section(titles["Feature requests by votes"])
    rows = [[paragraph_text(td) for td in tr.iter("td")] for tr in index.iter("tr")][1:]
    assert [r[:2] for r in rows] == [["Dark mode", "2"], ["CSV export", "1"]]
    assert [a.get("href") for a in index.iter("a")][:1] == [
        f"{sim.base_url}/wiki/spaces/SUP/pages/{titles['Feature request 1: Dark mode']['id']}"
    ]
    before = writes(sim)
    assert run_pipeline(ctx).counts.get("pages_unchanged") == 3 and writes(sim) == before


def test_the_publish_stage_runs_last_and_only_for_a_pipeline_with_a_wiki(sqlite_db: Engine, sim) -> None:
    config = hub()
    assert STAGES[-1].name == "publish" and units(STAGES[-1], config, "p") == [{"system": "wiki"}]
    apply_units = units(next(s for s in STAGES if s.name == "apply"), config, "p")
    assert {"system": "wiki"} not in apply_units  # its pages are planned and applied by the publish stage
    raw = config.model_dump()
    raw["pipelines"]["p"]["knowledge"] = None
    assert units(STAGES[-1], HubConfig.model_validate(raw), "p") == []


def test_knowledge_settings_are_validated_with_errors_naming_them() -> None:
    raw = hub().model_dump()
    raw["pipelines"]["p"]["knowledge"]["system"] = "notion"
    with pytest.raises(ValueError, match="names system 'notion', which is not under systems"):
        HubConfig.model_validate(raw)
    with pytest.raises(ValueError, match=r"names \{email\}; it may use \{name\}, \{id\}"):
        hub(customer_pages={"title": "{email}"})
    with pytest.raises(ValueError, match="select"):
        hub(customer_pages={"select": ["everyone"]})


def test_a_wiki_that_cannot_publish_is_a_clear_error(sqlite_db: Engine) -> None:
    forum, tracker = FakeForum(), FakeTracker()
    ctx = SyncContext(
        db=sqlite_db,
        hub=hub(),
        pipeline_name="p",
        connectors={"forum": forum, "tracker": tracker, "wiki": FakeTracker()},
    )
    forum.post("ann", 1, "Please add dark mode")
    with pytest.raises(ValueError, match=r"pipelines\.p\.knowledge\.system: 'wiki' cannot publish pages"):
        run_pipeline(ctx)
    with sqlite_db.connect() as conn:
        assert conn.execute(select(links.c.id).where(links.c.system == "wiki")).first() is None


def test_a_staff_answer_to_a_question_becomes_a_draft_faq_page(sqlite_db: Engine, sim) -> None:
    ctx, forum, tracker = world(sqlite_db, sim, customer_pages=None, faq_pages={"kinds": ["feature_request"]})
    forum.post("ann", 1, 'Please add dark mode <ac:structured-macro ac:name="html"/> <ri:user ri:account-id="1"/>')
    run_pipeline(ctx)
    assert not [p for p in sim.pages(SIM_PARENT) if p["title"].startswith("FAQ")]  # not answered yet
    tracker.staff_comment("100", "Yes: Settings > Theme > Dark, since 2.4.")
    run_pipeline(ctx)
    [faq] = [p for p in sim.pages(SIM_PARENT) if p["title"].startswith("FAQ")]
    assert faq["title"].startswith("FAQ 2: Please add dark mode") and faq["labels"] == ["continuum", "continuum-kb"]
    root = section(faq)
    texts = [paragraph_text(p) for p in root.iter("p")]
    assert texts[0].startswith("Draft:") and "Yes: Settings > Theme > Dark, since 2.4." in texts
    assert any(t.startswith("Please add dark mode <ac:structured-macro") for t in texts)  # the question, as text
    assert len(list(root.iter("{http://atlassian.com/content}structured-macro"))) == 2  # only the hub's markers
    assert "ann" not in "".join(root.itertext())  # a question, not who asked it
    before = writes(sim)
    assert run_pipeline(ctx).counts.get("pages_unchanged") == 1 and writes(sim) == before


def test_a_faq_draft_whose_question_is_deleted_is_written_again_without_it(sqlite_db: Engine, sim) -> None:
    from continuum.engine.context import RunStats
    from continuum.engine.deletions import erase_row
    from continuum.store.interactions import get_interaction

    ctx, forum, tracker = world(sqlite_db, sim, customer_pages=None, faq_pages={"kinds": ["feature_request"]})
    forum.post("ann", 1, "Please add dark mode to the mobile app", url="https://forum.example/t/dark-mode-ann/1")
    run_pipeline(ctx)
    tracker.staff_comment("100", "Yes: Settings > Theme > Dark, since 2.4.")
    run_pipeline(ctx)
    [faq] = [p for p in sim.pages(SIM_PARENT) if p["title"].startswith("FAQ")]
    assert "dark mode" in faq["body"]
    with sqlite_db.begin() as conn:  # the author deleted the question (an erasure purges it the same way)
        row = get_interaction(conn, 1)
        assert row is not None and row["direction"] == "inbound"
        erase_row(conn, ctx, row, "author", RunStats())
    run_pipeline(ctx)
    page = sim.page(faq["id"])
    assert page["title"].startswith("FAQ 2: question removed")
    assert "dark mode" not in page["body"].lower() and "dark-mode-ann" not in page["body"]
    assert "The question was removed" in page["body"] and "Settings &gt; Theme &gt; Dark" in page["body"]
    before = writes(sim)
    run_pipeline(ctx)
    assert writes(sim) == before  # written once


def test_no_faq_draft_is_made_for_a_question_deleted_before_its_page(sqlite_db: Engine, sim) -> None:
    from continuum.engine.context import RunStats
    from continuum.engine.deletions import erase_row
    from continuum.store.interactions import get_interaction

    ctx, forum, tracker = world(sqlite_db, sim, customer_pages=None, faq_pages={"kinds": ["feature_request"]})
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    with sqlite_db.begin() as conn:
        row = get_interaction(conn, 1)
        assert row is not None
        erase_row(conn, ctx, row, "author", RunStats())
    tracker.staff_comment("100", "Yes: Settings > Theme > Dark, since 2.4.")
    run_pipeline(ctx)
    assert not [p for p in sim.pages(SIM_PARENT) if p["title"].startswith("FAQ")]
    assert forum.replies == 0  # nobody is answered in a deleted post's thread
    with sqlite_db.connect() as conn:
        assert conn.execute(select(interactions.c.status).where(interactions.c.id == 1)).scalar_one() == "deleted"


def test_a_merged_or_erased_customers_page_keeps_no_history(sqlite_db: Engine, sim) -> None:
    ctx, forum, _ = world(sqlite_db, sim)
    forum.post("ann", 1, "Please add dark mode")
    forum.post("bob", 2, "Export to CSV would help")
    run_pipeline(ctx)
    pages = customer_pages(sim)
    ann_id, bob_id = pages["ann (customer 1)"]["id"], pages["bob (customer 2)"]["id"]
    with sqlite_db.begin() as conn:
        conn.execute(update(customers).where(customers.c.id == 2).values(merged_into=1))
        conn.execute(update(interactions).where(interactions.c.customer_id == 2).values(customer_id=1))
    run_pipeline(ctx)
    bob = sim.page(bob_id)
    assert "Merged into customer 1" in bob["body"] and "Export to CSV" not in bob["body"]
    assert "Export to CSV would help" in sim.page(ann_id)["body"]  # the history moved with the merge
    with sqlite_db.begin() as conn:  # erased (as an erasure would leave it): no customer 1 any more
        conn.execute(delete(links).where(links.c.record_type == "interaction"))
        conn.execute(delete(outbox).where(outbox.c.record_type == "interaction"))
        conn.execute(delete(interactions))
        conn.execute(delete(identities))
        conn.execute(delete(customers))
    run_pipeline(ctx)
    ann = sim.page(ann_id)
    assert ann["title"] == "Erased customer 1" and "dark mode" not in ann["body"] and "ann" not in ann["body"]
    assert "Erased" in ann["body"] and sim.page(bob_id)["title"] == "Erased customer 2"


def test_a_page_shows_the_latest_interactions_and_says_how_many_there_are(sqlite_db: Engine, sim) -> None:
    ctx, forum, _ = world(sqlite_db, sim, customer_pages={"max_interactions": 2})
    for n in range(3):
        forum.post("ann", n + 1, f"idea number {n}", created=f"2026-11-2{n}T10:00:00Z")
    run_pipeline(ctx)
    [page] = customer_pages(sim).values()
    texts = [paragraph_text(p) for p in section(page).iter("p")] + [
        paragraph_text(td) for td in section(page).iter("td")
    ]
    assert any("The latest 2 of 3 interactions are shown." in t for t in texts)
    assert "idea number 0" not in texts and {"idea number 1", "idea number 2"} <= set(texts)
