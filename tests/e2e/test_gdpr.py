"""A person's rights, end to end on the simulators: export what is held, then erase it everywhere it can be.

Zofia writes on three channels (a bug and a feature request on the forum, the same request on X and on
Mastodon); the community manager confirms her three accounts are one person.  After ``erase`` (and a sync
that re-reads every channel), neither the store nor any system the hub writes to (the simulators' state)
holds her name, handles or e-mail; her own posts stay on the channels, as the erase result says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text
from typer.testing import CliRunner

from connectors.x.plugin import SIM_ACCOUNT as X_ACCOUNT
from continuum.cli import app
from continuum.config import HubConfig, load_config
from continuum.demo.simulators import simulators
from continuum.engine.run import sync
from continuum.ops import customers as customer_ops
from continuum.ops.gdpr import erase, export, find_customer
from continuum.store.customers import summaries
from continuum.store.db import open_store
from continuum.store.links import link_in
from continuum.store.locking import EXIT_LOCKED, pipeline_lock
from continuum.store.tables import audit_events, customers, interactions, tombstones

NAME, EMAIL = "Zofia Quillfeather", "zofia.quillfeather@quillhaus.example"
HANDLES = ("zquillfeather", "zofia_quillfeather", "zofiaqf")  # forum, X, Mastodon (zofiaqf@quillhaus.example)
MARKS = (NAME, EMAIL, *HANDLES, "Quillfeather")
CHANNELS = ("discourse", "x", "mastodon")
# What only her words contain: a copy of them anywhere is a copy the erasure missed.
WORDS = "pelican-grey"
BUG = "Field app crashes when a photo is attached"


def _say(running: dict[str, Any]) -> None:
    """Her posts, added to the shipped story before the first sync."""
    forum = running["discourse"]
    forum.add_user(HANDLES[0], NAME, EMAIL)
    forum.create_topic(HANDLES[0], "feature-requests", "Offline mode for the field app",
                       f"Please add an offline mode to the field app: our {WORDS} sites have no signal at all, "
                       "so the app should keep our work and sync it later.")
    forum.create_topic(HANDLES[0], "bugs", BUG,
                       f"Since 4.2 the field app crashes whenever I attach a photo to a {WORDS} site report. "
                       "It happens every time, on two phones.")
    running["x"].add_user(HANDLES[1], NAME)
    running["x"].post(HANDLES[1], f"@{X_ACCOUNT} an offline mode for the field app, please: our {WORDS} sites have no "
                                  "signal and the app loses our work")
    running["mastodon"].add_account(HANDLES[2], NAME, "quillhaus.example")
    running["mastodon"].post(f"{HANDLES[2]}@quillhaus.example", f"@acme please give the field app an offline "
                                                                f"mode, our {WORDS} sites have no signal at all")


def _state_text(sim: Any) -> str:
    """Everything a simulator holds (its objects), lower-cased; not its request log."""
    skip = {"lock", "exchanges", "faults", "_url_map", "_server", "_thread", "record_exchanges", "_counts"}
    parts: list[str] = []
    seen: set[int] = set()

    def walk(value: Any, depth: int) -> None:
        if depth > 14 or id(value) in seen:
            return
        if value is None or isinstance(value, str | int | float | bool):
            parts.append(str(value))
            return
        seen.add(id(value))
        if isinstance(value, bytes):
            parts.append(value.decode("utf-8", "replace"))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key, depth + 1)
                walk(item, depth + 1)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                walk(item, depth + 1)
        elif hasattr(value, "__dict__") or hasattr(value, "__slots__"):
            fields = getattr(value, "__dict__", None) or {s: getattr(value, s, None)
                                                          for s in getattr(type(value), "__slots__", ())}
            walk(fields, depth + 1)

    walk({k: v for k, v in vars(sim).items() if k not in skip}, 0)
    return " ".join(parts).lower()


def _store_hits(db: Engine, marks: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    with db.connect() as conn:
        for name in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{name}"')):
                line = " ".join(str(v) for v in row).lower()
                for mark in marks:
                    if mark.lower() in line:
                        found.setdefault(name, []).append(mark)
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubConfig, Engine, dict[str, Any]]]:
    hub = load_config()
    url = f"sqlite:///{tmp_path_factory.mktemp('gdpr') / 'store.db'}"
    with simulators(hub) as running:
        _say(running)
        db = open_store(url)
        for name in hub.pipelines:
            sync(name, hub, db)
        with db.begin() as conn:  # the community manager: these three accounts are one person
            ids = [p["id"] for p in summaries(conn, "quillfeather")]
            for other in ids[1:]:
                customer_ops.merge(conn, ids[0], other)
        with db.connect() as conn:  # staff answer her bug in Jira: the hub replies in her forum thread
            bug = conn.execute(select(interactions.c.id).where(
                interactions.c.customer_id == ids[0], interactions.c.source_system == "discourse",
                interactions.c.title.like("Field app crashes%"))).scalar_one()
            ticket = link_in(conn, "interaction", bug, "jira")
        assert ticket is not None
        running["jira"].staff_answer(ticket["external_id"], "Fixed in 4.2.1, thanks for the report!")
        for _ in range(2):  # the reply goes out, then is read back: its FAQ draft quotes her bug report
            for name in hub.pipelines:
                sync(name, hub, db)
        yield hub, db, running
        db.dispose()


def test_erase_waits_for_no_run_it_is_refused_while_one_holds_a_lock_and_changes_nothing(
        world: tuple[HubConfig, Engine, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    hub, db, _ = world
    monkeypatch.setenv("CONTINUUM_DB_URL", db.url.render_as_string(hide_password=False))
    with pipeline_lock(db, next(iter(hub.pipelines))):  # a sync of the pipeline is running
        refused = CliRunner().invoke(app, ["erase", EMAIL])
    assert refused.exit_code == EXIT_LOCKED, refused.output
    with db.connect() as conn:
        assert find_customer(conn, EMAIL)  # still there: nothing was done


def test_export_then_erase_leaves_no_trace_in_the_store_or_the_systems_written_to(
        world: tuple[HubConfig, Engine, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub, db, running = world
    with db.connect() as conn:
        person = find_customer(conn, EMAIL)
        held = export(conn, person)
    # Her accounts, and the CRM contact the hub made for each before the three were merged into one person.
    assert {i["system"] for i in held["identities"]} == {*CHANNELS, "hubspot"}
    contacts = sorted(i["account_id"] for i in held["identities"] if i["system"] == "hubspot")
    assert {e["source_system"] for e in held["interactions"]} >= set(CHANNELS)
    assert held["tickets"] and held["feature_requests"]  # a ticket, and the request her voices joined
    assert held["audit"]
    json.dumps(held, default=str)  # one JSON document
    written = [s for s in hub.systems if s not in CHANNELS and s in running]
    before = {s: [m for m in MARKS if m.lower() in _state_text(running[s])] for s in written}
    # Staff answered her bug: its FAQ draft quotes her report's title (and links her post).
    assert [p for p in running["confluence"].pages() if p["title"].startswith("FAQ") and BUG in p["title"]]
    assert before["jira"], "her name was never on a ticket: the test proves nothing"

    monkeypatch.setenv("CONTINUUM_DB_URL", db.url.render_as_string(hide_password=False))
    exported = CliRunner().invoke(app, ["export", EMAIL, "--out", str(tmp_path / "zofia.json")])
    assert exported.exit_code == 0, exported.output
    assert json.loads((tmp_path / "zofia.json").read_text())["customer"]["id"] == person
    dry = CliRunner().invoke(app, ["erase", str(person), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)
    said = CliRunner().invoke(app, ["erase", EMAIL, "--dry-run"])
    assert said.exit_code == 0 and f"would erase {plan['interactions_purged']} interactions" in said.stdout, \
        said.output
    assert "update planned: jira" in said.stdout and "not erased remotely: x post" in said.stdout
    assert "delete page planned: confluence" in said.stdout
    assert plan["dry_run"] and {(u["system"], u["action"]) for u in plan["updates"]} == {
        ("jira", "update"), ("confluence", "delete page"), ("hubspot", "delete entry")}
    with db.connect() as conn:  # the dry run changed nothing
        assert find_customer(conn, EMAIL) == person

    done = erase(db, hub, person)
    for name in hub.pipelines:  # every channel is read again: her old posts are tombstoned, not read anew
        sync(name, hub, db)

    assert _store_hits(db, (*MARKS, WORDS)) == {}
    left = {(item["system"], item["action"]) for item in done["not_erased_remotely"]}
    # Her history page in the wiki is deleted and purged with its earlier versions: no system written to
    # holds anything of her, and none is left to name.
    assert before["confluence"], "she never had a wiki page: the test proves nothing"
    assert not {s for s in written if (s, "page") in left}
    # The CRM contacts are the company's own records: listed for a person to delete (the hub reads them no
    # more); the timeline notes that quoted her words are deleted.
    assert sorted(i["id"] for i in done["not_erased_remotely"] if i["system"] == "hubspot") == contacts
    crm = running["hubspot"]
    held_by_crm = SimpleNamespace(objects=[o for o in crm.objects("contacts") if str(o["id"]) not in contacts]
                                  + crm.objects("notes"))
    after = {s: [m for m in (*MARKS, WORDS, BUG) if m.lower() in _state_text(held_by_crm if s == "hubspot"
                                                                              else running[s])] for s in written}
    assert after == {s: [] for s in written}
    # The pages that quoted her were written again and their earlier versions deleted; the pages stay.
    assert {p["record_type"] for p in done["pages_rewritten"]} == {"feature_page", "feature_index", "faq_page"}
    (pages,) = done["sent"]["pages"].values()
    assert pages["prune_applied"] == len(done["pages_rewritten"]) and not pages["kept"], pages
    wiki = {p["id"]: p for p in running["confluence"].pages()}
    assert all(p["id"] in wiki for p in done["pages_rewritten"])
    assert {(c, "post") for c in CHANNELS} <= left  # her own posts, hers to delete on each platform
    assert ("discourse", "reply") in left  # the hub's answer in her thread: no connector deletes a reply
    with db.connect() as conn:
        assert conn.execute(select(customers.c.display_name).where(customers.c.id == person)).scalar_one() \
            == "[erased]"
        assert conn.execute(select(interactions.c.status).where(interactions.c.customer_id == person)
                            ).scalars().all() == ["deleted"] * held_inbound(held)
        assert len(conn.execute(select(tombstones)).all()) >= len(CHANNELS)
        (event,) = conn.execute(select(audit_events.c.changes).where(audit_events.c.action == "erased")).scalars()
    assert event["not_erased_remotely"] == json.loads(json.dumps(done["not_erased_remotely"]))


def held_inbound(held: dict[str, Any]) -> int:
    return sum(1 for e in held["interactions"] if e["customer_id"] is not None and e["direction"] == "inbound")
