"""Customers' attachments: stored once per customer and content in a document store (the Box simulator over
loopback), linked from the ticket; a blocked file is a dead letter, the ticket still made; crash-safe."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from connectors.box.config import BoxConfig
from connectors.box.connector import BoxConnector
from connectors.box.plugin import SIM_ROOT_FOLDER, SIM_TOKEN
from connectors.box.simulator import BoxSimulator
from continuum.config import HubConfig
from continuum.connector import JSON, Attachment, ConnectionInfo, Page, SourceRecord
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from continuum.failpoints import SimulatedCrash
from continuum.store.tables import attachment_copies, attachments, dead_letters, outbox
from tests.engine.fakes import FakeForum, FakeTracker

MAPPINGS = Path(__file__).parent / "mappings"
SHIPPED = Path(__file__).parents[2] / "mappings"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
LOG = b"2026-12-01 ERROR sync failed\n" * 40


class AttachingForum(FakeForum):
    """The engine fake forum, with files on its posts (``files=[(name, bytes), ...]``)."""

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        for page in super().read_changes(stream, cursor):
            yield Page([SourceRecord(r.stream, r.object_type, r.external_id,
                                     {k: v for k, v in r.payload.items() if k != "files"}, parent_id=r.parent_id,
                                     attachments=tuple(_attachment(n, c) for n, c in r.payload.get("files", ())))
                        for r in page.records], page.cursor)


def _attachment(name: str, content: bytes) -> Attachment:
    return Attachment(name, None, len(content), hashlib.sha256(content).hexdigest(),
                      base64.b64encode(content).decode())


def hub() -> HubConfig:
    return HubConfig.model_validate({
        "systems": {"forum": {"connector": "fake", "connection": "none"},
                    "tracker": {"connector": "fake", "connection": "none"},
                    "box": {"connector": "box", "connection": "box_default"}},
        "pipelines": {"p": {
            "sources": [{"system": "forum", "stream": "posts", "mapping": str(MAPPINGS / "forum.post.yaml")}],
            "targets": [{"system": "tracker", "mapping": str(MAPPINGS / "tracker.issue.yaml")}],
            "attachments": {"system": "box", "mapping": str(SHIPPED / "box.file.yaml")},
            "routing": [{"name": "ideas", "when": {"kind": ["feature_request"]}, "then": {"route": "tracker"}}],
        }},
    })


@pytest.fixture
def sim() -> Iterator[BoxSimulator]:
    with BoxSimulator() as simulator:
        yield simulator


@pytest.fixture
def world(sqlite_db: Engine, sim: BoxSimulator) -> tuple[SyncContext, AttachingForum, FakeTracker]:
    config = BoxConfig.from_connection(ConnectionInfo("box_test", sim.base_url, None, SIM_TOKEN),
                                       {"root_folder_id": SIM_ROOT_FOLDER, "max_bytes": 4096})
    forum, tracker = AttachingForum(), FakeTracker()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p",
                      connectors={"forum": forum, "tracker": tracker, "box": BoxConnector(config)})
    return ctx, forum, tracker


def count(db: Engine, table: Any, *where: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def links_comment(tracker: FakeTracker, issue_id: str) -> str:
    [comment] = [c["text"] for c in tracker.issues[issue_id]["comments"]]
    return str(comment)


def test_a_file_sent_again_is_stored_once_and_both_tickets_link_to_it(world, sim: BoxSimulator) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Sync fails, screenshot attached", files=[("screen.png", PNG)])
    run_pipeline(ctx)
    forum.post("ann", 2, "Still failing, here again with the log", files=[("screen again.png", PNG),
                                                                          ("sync.log", LOG)])
    stats = run_pipeline(ctx)
    stored = sim.files()
    assert sorted(f["name"] for f in stored) == ["screen.png", "sync.log"]  # the duplicate is not uploaded
    # Only the log went to Box in the second run: the screenshot's copy was known, so nothing asked Box for it.
    assert stats.counts.get("store_applied") == 1 and "store_found" not in stats.counts
    [folder] = sim.folders(SIM_ROOT_FOLDER)
    assert folder["name"].startswith("customer-") and folder["name"].endswith(" ann")
    by_name = {f["name"]: f["shared_link"]["url"] for f in stored}
    first, second = sorted(tracker.issues)
    assert by_name["screen.png"] in links_comment(tracker, first)
    later = links_comment(tracker, second)
    assert by_name["screen.png"] in later and by_name["sync.log"] in later and "screen again.png" in later
    assert count(ctx.db, attachment_copies) == 2 and count(ctx.db, attachments) == 3
    # No bytes are kept once the files are stored: not on the attachments, not in the done effects.
    assert count(ctx.db, attachments, attachments.c.content_b64.is_not(None)) == 0
    with ctx.db.connect() as conn:
        payloads = conn.execute(select(outbox.c.payload).where(outbox.c.action == "store")).scalars().all()
    assert len(payloads) == 2 and all("content_b64" not in p for p in payloads)


def test_a_blocked_file_is_a_dead_letter_naming_it_and_the_limit_and_the_ticket_is_made(world, sim) -> None:
    ctx, forum, tracker = world
    forum.post("bob", 1, "Crash dump attached", files=[("dump.exe", b"MZ" * 10), ("huge.log", b"x" * 5000),
                                                        ("fine.log", LOG)])
    stats = run_pipeline(ctx)
    assert tracker.created == 1
    assert [f["name"] for f in sim.files()] == ["fine.log"]
    with ctx.db.connect() as conn:
        errors = sorted(conn.execute(select(dead_letters.c.error).where(dead_letters.c.stage == "apply")).scalars())
    assert len(errors) == 2 and stats.counts.get("dead_lettered") == 2
    assert "'dump.exe'" in errors[0] and "allowed_types" in errors[0]
    assert "'huge.log'" in errors[1] and "5000 bytes is over max_bytes (4096)" in errors[1]
    comment = links_comment(tracker, next(iter(tracker.issues)))
    assert sim.files()[0]["shared_link"]["url"] in comment
    assert "dump.exe not stored" in comment and "huge.log not stored" in comment


def test_a_rerun_plans_nothing_new(world, sim: BoxSimulator) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Screenshot", files=[("screen.png", PNG)])
    run_pipeline(ctx)
    effects_before, comments = count(ctx.db, outbox), tracker.comments_added
    stats = run_pipeline(ctx)
    assert count(ctx.db, outbox) == effects_before == 3  # the ticket, the file, the comment linking it
    assert tracker.comments_added == comments == 1 and len(sim.files()) == 1
    assert not any(k.endswith(("_applied", "_found")) for k in stats.counts)


def test_a_crash_between_the_upload_and_its_commit_finds_the_file_on_retry(world, sim, monkeypatch) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Screenshot", files=[("screen.png", PNG)])
    monkeypatch.setenv("CONTINUUM_FAILPOINTS", "after_write:box")
    monkeypatch.setenv("CONTINUUM_FAILPOINTS_MODE", "raise")
    with pytest.raises(SimulatedCrash):
        run_pipeline(ctx)
    assert len(sim.files()) == 1 and count(ctx.db, attachment_copies) == 0  # made in Box, not known here
    monkeypatch.delenv("CONTINUUM_FAILPOINTS")
    stats = run_pipeline(ctx)
    assert stats.counts.get("store_found") == 1 and "store_applied" not in stats.counts
    assert len(sim.files()) == 1 and count(ctx.db, attachment_copies) == 1
    assert sim.files()[0]["shared_link"]["url"] in links_comment(tracker, next(iter(tracker.issues)))


def test_the_document_store_must_be_a_configured_system() -> None:
    raw = hub().model_dump()
    raw["pipelines"]["p"]["attachments"]["system"] = "dropbox"
    with pytest.raises(ValueError, match="names system 'dropbox', which is not under systems"):
        HubConfig.model_validate(raw)


def test_the_customers_history_page_lists_each_file_once_with_its_stored_copy(world, sim: BoxSimulator) -> None:
    from continuum.engine.pagedocs import customer_document
    from continuum.store.customers import get_customer
    from continuum.store.db import utcnow
    from continuum.store.tables import customers

    ctx, forum, _ = world
    forum.post("ann", 1, "Sync fails, screenshot attached", files=[("screen.png", PNG)])
    forum.post("ann", 2, "Again, with the log and a dump", files=[("screen again.png", PNG), ("sync.log", LOG),
                                                                  ("dump.exe", b"MZ" * 10)])
    run_pipeline(ctx)
    urls = {f["name"]: f["shared_link"]["url"] for f in sim.files()}
    with ctx.db.connect() as conn:
        ann = get_customer(conn, conn.execute(select(customers.c.id)).scalar_one())
        assert ann is not None
        document = customer_document(conn, ann, 50, ["tracker"], utcnow())
    [files] = [b for b in document["blocks"] if b["heading"] == "Files"]
    # The screenshot sent twice is one file, linked to its one copy in Box; the blocked one says so.
    assert [row[1:] for row in files["rows"]] == [
        [{"text": "screen.png", "url": urls["screen.png"]}, "2 KB", "box"],
        [{"text": "sync.log", "url": urls["sync.log"]}, "1 KB", "box"],
        ["dump.exe", "20 bytes", "not stored"],
    ]
    assert all(row[0] for row in files["rows"])  # each dated by the post that brought it


def test_the_crm_timeline_entry_lists_the_files_with_their_stored_copies(sqlite_db: Engine, sim: BoxSimulator) -> None:
    from connectors.hubspot.plugin import PLUGIN as HUBSPOT
    from continuum.engine.context import RunStats
    from continuum.engine.crm import plan_timeline
    from continuum.store.db import utcnow
    from continuum.store.tables import identities, interactions

    config = hub().model_dump()
    config["systems"]["crm"] = {"connector": "hubspot", "connection": "crm_default"}
    config["pipelines"]["p"]["crm"] = {"system": "crm", "mapping": "hubspot.contact.yaml"}
    box = BoxConfig.from_connection(ConnectionInfo("box_test", sim.base_url, None, SIM_TOKEN),
                                    {"root_folder_id": SIM_ROOT_FOLDER, "max_bytes": 4096})
    forum = AttachingForum()
    # The CRM connector is only asked to escape text here: planning sends nothing.
    crm = HUBSPOT.create(ConnectionInfo("crm_default", "http://127.0.0.1:9", None, "unused"), {})
    ctx = SyncContext(db=sqlite_db, hub=HubConfig.model_validate(config), pipeline_name="p",
                      connectors={"forum": forum, "tracker": FakeTracker(), "box": BoxConnector(box), "crm": crm})
    forum.post("ann", 1, "Sync fails, log attached", files=[("sync.log", LOG), ("dump.exe", b"MZ" * 10)])
    ctx.hub.pipelines["p"].crm = None  # this run: read and store the files only
    run_pipeline(ctx)
    ctx.hub.pipelines["p"].crm = HubConfig.model_validate(config).pipelines["p"].crm
    urls = {f["name"]: f["shared_link"]["url"] for f in sim.files()}
    with sqlite_db.begin() as conn:
        customer = conn.execute(select(interactions.c.customer_id)).scalar_one()
        conn.execute(identities.insert().values(customer_id=customer, system="crm", account_id="501",
                                                created_at=utcnow()))
        assert plan_timeline(conn, ctx, "crm", RunStats()) == 1
        (fields,) = conn.execute(select(outbox.c.payload).where(outbox.c.action == "log")).scalars()
    body = fields["body"].replace("<br>", "\n")  # HubSpot's note body is HTML: the connector escaped the text
    assert body.startswith("Sync fails, log attached\n\nFiles:\n")
    assert f"- sync.log (1 KB): {urls['sync.log']}" in body and "- dump.exe (20 bytes): not stored" in body
