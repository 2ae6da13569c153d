"""`wins: later`: a field edited on both sides since the last sync takes the later change, against the HubSpot
simulator over real HTTP; the run after writes nothing (no echo)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from connectors.hubspot.plugin import PLUGIN, SIM_TOKEN
from connectors.hubspot.simulator import HubspotSimulator
from continuum.config import HubConfig
from continuum.connector import ConnectionInfo
from continuum.engine.context import SyncContext
from continuum.engine.crm import Seen, modified_at, plan_contact, synced_fields
from continuum.engine.run import run_pipeline
from continuum.engine.stages import run_unit, stage_named, units
from continuum.mapping.spec import MappingFile
from continuum.simkit import Clock
from continuum.store.tables import crm_fields
from tests.engine.fakes import FakeForum

MAPPINGS = Path(__file__).parent / "mappings"


@pytest.fixture
def sim() -> Iterator[HubspotSimulator]:
    # The wall clock: the CRM's modification times and the hub's change times are on one time line.
    with HubspotSimulator(clock=Clock()) as simulator:
        yield simulator  # type: ignore[misc]


def later_world(db: Engine, sim: HubspotSimulator, tmp_path: Path) -> tuple[SyncContext, FakeForum]:
    mapping = tmp_path / "crm.contact.yaml"
    mapping.write_text((MAPPINGS / "crm.contact.yaml").read_text().replace("wins: crm", "wins: later"))
    hub = HubConfig.model_validate({
        "systems": {"forum": {"connector": "fake", "connection": "none"},
                    "crm": {"connector": "hubspot", "connection": "crm_default"}},
        "pipelines": {"p": {
            "sources": [{"system": "forum", "stream": "posts", "mapping": str(MAPPINGS / "crmforum.post.yaml")}],
            "crm": {"system": "crm", "mapping": str(mapping), "timeline": False}}}})
    forum = FakeForum()
    connector = PLUGIN.create(ConnectionInfo("crm_default", sim.base_url, None, SIM_TOKEN), {})
    return SyncContext(db=db, hub=hub, pipeline_name="p", connectors={"forum": forum, "crm": connector}), forum


def read_only(ctx: SyncContext) -> None:
    """The hub learns (the forum read) without its CRM stage running: its change is older than what follows."""
    for unit in units(stage_named("read"), ctx.hub, ctx.pipeline_name):
        run_unit(stage_named("read"), ctx, unit)


def test_the_later_change_wins_over_cycles_of_edits_on_both_sides_and_nothing_echoes(
        sqlite_db: Engine, sim: HubspotSimulator, tmp_path: Path) -> None:
    ann = sim.add_contact("ann@example.com", "Ann", "Lee")
    ctx, forum = later_world(sqlite_db, sim, tmp_path)
    forum.post("ann", 1, "Please add dark mode", email="ann@example.com")
    run_pipeline(ctx)
    assert sim.raw_property(ann, "twitterhandle") == "ann"
    writes = sim.effect_counts()["contacts_updated"]
    for cycle in range(6):
        hub_later = cycle % 2 == 0
        hub_handle, sales_handle = f"ann-{cycle}", f"sales-{cycle}"
        if hub_later:  # sales edit first; the member renames on the forum after
            sim.edit_contact(ann, twitterhandle=sales_handle)
            time.sleep(1.1)  # the simulator's clock counts whole seconds
            forum.post("ann", 10 + cycle, f"Still waiting ({cycle})", email="ann@example.com", handle=hub_handle)
        else:  # the hub learns the rename first; sales edit the handle after, before the CRM stage runs
            forum.post("ann", 10 + cycle, f"Still waiting ({cycle})", email="ann@example.com", handle=hub_handle)
            read_only(ctx)
            time.sleep(1.1)
            sim.edit_contact(ann, twitterhandle=sales_handle)
        run_pipeline(ctx)
        writes += 1 if hub_later else 0
        assert sim.effect_counts()["contacts_updated"] == writes, cycle
        assert sim.raw_property(ann, "twitterhandle") == (hub_handle if hub_later else sales_handle), cycle
        for _ in range(2):  # the contact the hub wrote (or left) is read back: no write
            run_pipeline(ctx)
            assert sim.effect_counts()["contacts_updated"] == writes, f"cycle {cycle}: an echo write"
    with sqlite_db.connect() as conn:
        stamped = conn.execute(select(crm_fields.c.hub_changed_at).where(crm_fields.c.field == "handles.forum")
                               ).scalar_one()
    assert stamped is not None  # the hub's own change time is kept per field


def test_the_crm_stamp_is_read_from_either_vendor_and_unknown_times_leave_the_hub_value() -> None:
    assert modified_at("2026-11-02T09:00:01.250Z") == datetime(2026, 11, 2, 9, 0, 1, 250000, tzinfo=UTC)
    assert modified_at("2026-11-02T09:00:01.000+0000") == datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC)
    assert modified_at("17") is None and modified_at(None) is None
    fields = synced_fields(MappingFile.model_validate({"system": "crm", "object": "contact", "inbound": {
        "handles.x": {"path": "X__c", "direction": "both", "wins": "later"}}}))
    base = datetime(2026, 11, 2, 9, tzinfo=UTC)
    before = {"handles.x": Seen("z", "z", base - timedelta(days=1))}

    def conflict(crm_at: datetime | None, hub_at: datetime | None) -> dict[str, str]:
        plan = plan_contact(fields, {"handles.x": "c"}, {"handles.x": "h"}, before, crm_at=crm_at,
                            hub_at={"handles.x": hub_at} if hub_at else {})
        return plan.write

    assert conflict(base + timedelta(seconds=1), base) == {}  # the CRM's edit is later: it stays
    assert conflict(base, base + timedelta(seconds=1)) == {"X__c": "h"}  # the hub's is later: written
    assert conflict(None, base) == {"X__c": "h"} and conflict(base, None) == {"X__c": "h"}
    plan = plan_contact(fields, {"handles.x": "c"}, {"handles.x": "h"}, before, crm_at=base,
                        hub_at={"handles.x": base + timedelta(seconds=1)})
    assert plan.last["handles.x"].hub_at == base + timedelta(seconds=1)  # stored for the next conflict
