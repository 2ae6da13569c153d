"""A person's erasure in the wiki: their history page deleted, and what other pages said of them forgotten.

A wiki keeps every version of a page, so writing a page again without them is not enough.  Their own history
page is deleted with its versions (a ``delete`` effect, sent with the tickets' updates).  The pages that showed
their voice (the feature requests they asked for, the index of requests, the FAQ drafts made from their
questions) are written again without it, and
then their earlier versions are deleted (a ``prune`` effect), where the wiki's connector can do each; what it
cannot is listed as not erased.  The staff's own text on those pages stays as it is now; only its history goes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Engine, select

from continuum.config import HubConfig
from continuum.connector import JSON
from continuum.store import erasure
from continuum.store.tables import interactions, links, outbox


def page_wiki(hub: HubConfig, system: str, action: str) -> str | None:
    """The pipeline that keeps its knowledge pages in ``system``, when that system's connector does ``action``."""
    from continuum.kit.registry import plugin

    config = hub.systems.get(system)
    if config is None or action not in plugin(config.connector).capabilities.effects:
        return None
    return next((name for name, p in hub.pipelines.items() if p.knowledge and p.knowledge.system == system), None)


def delete_pages(conn: Connection, hub: HubConfig, people: list[int]) -> list[JSON]:
    """Plan the deletion of their history pages, where the wiki's connector can delete one, and let the hub
    forget each page at once (no later run writes it again, whatever the delete's fate)."""
    from continuum.engine.context import SyncContext
    from continuum.engine.outbound import record_effect

    planned: list[JSON] = []
    for page in erasure.pages_about(conn, people):
        pipeline = page_wiki(hub, page["system"], "delete")
        if pipeline is None:
            continue
        ctx = SyncContext(db=conn.engine, hub=hub, pipeline_name=pipeline, connectors={})
        key = record_effect(conn, ctx, system=page["system"], action="delete", object_type="page",
                            record_type="customer_page", record_id=page["customer"],
                            subject=f"erase/customer_page/{page['id']}", fields={}, target_id=page["id"])
        erasure.forget_page(conn, page["system"], page["id"])
        planned.append({"pipeline": pipeline, "system": page["system"], "key": key, "action": "delete page"})
    return planned


def pages_that_showed(conn: Connection, feature_request_ids: Iterable[int], interaction_ids: Iterable[int] = ()
                      ) -> list[JSON]:
    """The pages that showed their voice: their feature requests' pages and the index of requests, and the FAQ
    drafts made from their questions (``interaction_ids``: theirs); by system, record and page id (no word of
    theirs)."""
    ids, theirs = sorted(set(feature_request_ids)), sorted(set(interaction_ids))
    answers = select(interactions.c.id).where(interactions.c.in_reply_to.in_(theirs or [-1]),
                                              interactions.c.direction == "outbound")
    showed = (links.c.record_type == "faq_page") & links.c.record_id.in_(answers)
    if ids:
        showed = showed | ((links.c.record_type == "feature_page") & links.c.record_id.in_(ids)) | (
            links.c.record_type == "feature_index")
    rows = conn.execute(select(links.c.system, links.c.record_type, links.c.record_id, links.c.external_id).where(
        showed).order_by(links.c.id))
    return [{"system": r.system, "record_type": r.record_type, "record_id": r.record_id, "id": r.external_id}
            for r in rows]


def cannot_prune(hub: HubConfig, pages: list[JSON]) -> list[JSON]:
    """The pages among ``pages`` whose wiki cannot delete earlier versions: listed as not erased remotely."""
    return [{"system": p["system"], "id": p["id"], "action": "page", "object": "page versions",
             "why": f"{p['system']}: the page's earlier versions keep what it said about them, and its connector "
                    "cannot delete a page's versions; delete them in the wiki"}
            for p in pages if page_wiki(hub, p["system"], "prune") is None]


def rewrite_and_prune(hub: HubConfig, db: Engine, pages: list[JSON]) -> JSON:
    """Write the pages again without them, then delete each one's earlier versions.  A page whose new version
    did not land is not pruned (its current version still shows them): it is named under ``kept``."""
    from continuum.config import pipeline_systems
    from continuum.engine.apply import apply_effects
    from continuum.engine.context import SyncContext, build_connectors
    from continuum.engine.knowledge import publish_pages
    from continuum.engine.outbound import record_effect

    done: JSON = {}
    for system in sorted({p["system"] for p in pages}):
        pipeline = page_wiki(hub, system, "prune")
        if pipeline is None:
            continue
        ctx = SyncContext(db=db, hub=hub, pipeline_name=pipeline,
                          connectors=build_connectors(hub, pipeline_systems(hub, pipeline), db))
        publish_pages(ctx, system)
        kept: list[str] = []
        with db.begin() as conn:
            for page in (p for p in pages if p["system"] == system):
                if _publish_open(conn, system, page):
                    kept.append(page["id"])
                    continue
                record_effect(conn, ctx, system=system, action="prune", object_type="page",
                              record_type=page["record_type"], record_id=page["record_id"],
                              subject=f"erase/prune/{page['id']}/{_version(conn, system, page)}", fields={},
                              target_id=page["id"])
        done[f"{pipeline}/{system}"] = {**dict(apply_effects(ctx, system).counts), "kept": kept}
    return done


def _publish_open(conn: Connection, system: str, page: JSON) -> bool:
    from continuum.store.outbox import OPEN_STATES

    return conn.execute(select(outbox.c.id).where(
        outbox.c.system == system, outbox.c.action == "publish", outbox.c.record_type == page["record_type"],
        outbox.c.record_id == page["record_id"], outbox.c.state.in_(OPEN_STATES)).limit(1)).first() is not None


def _version(conn: Connection, system: str, page: JSON) -> str:
    found = conn.execute(select(links.c.external_version).where(
        links.c.system == system, links.c.external_id == page["id"]).order_by(links.c.id.desc()).limit(1)).first()
    return str(found[0]) if found else "unknown"
