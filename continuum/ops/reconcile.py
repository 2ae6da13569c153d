"""``continuum reconcile``: after a lost or restored store, find what the hub already made, instead of
making it again.

Every object the hub writes carries the effect's deterministic key (a Jira label, a Jira comment
property, a hidden marker in a Discourse reply, Slack message metadata), and re-reading the sources
plans the very same effects under the very same keys.  So reconcile runs the pipeline once in
*recovering* mode: every effect is looked up by its key before it is written.  Issues are found in bulk,
one search per page of keys (the Jira connector's ``find_keys``, used in batches of 50 by its bulk
create); a found object gets its link back and is not written again; only what is truly missing is made.

A normal sync refuses to create where the target already holds objects made under keys the store has
never sent (:class:`~continuum.engine.apply.UnknownHubObjects`), until reconcile has run or ``--force``.
"""

from __future__ import annotations

from sqlalchemy import Engine

from continuum.config import HubConfig
from continuum.connector import JSON
from continuum.engine.run import sync


def reconcile(hub: HubConfig, pipeline: str, db: Engine) -> JSON:
    """Rebuild the links of ``pipeline`` from the keys on the targets; returns what was found and made."""
    counts = sync(pipeline, hub, db, recovering=True).counts
    found = {name.removesuffix("_found"): n for name, n in counts.items() if name.endswith("_found")}
    made = {name.removesuffix("_applied"): n for name, n in counts.items() if name.endswith("_applied")}
    return {"pipeline": pipeline, "found": found, "made": made, "counts": counts}
