"""Keep a person's override on an interaction: the one path for ``continuum override`` and ticket labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.policy.overrides import overridden_values, validate
from continuum.policy.sla import SlaConfig
from continuum.store.audit import audit
from continuum.store.interactions import get_interaction, update_interaction


def override(conn: Connection, interaction_id: int, changes: Mapping[str, Any], sla: SlaConfig,
             who: str = "cli") -> JSON:
    """Record the override and apply it to the interaction's fields at once; returns every override so far."""
    clean = validate(changes)
    row = get_interaction(conn, interaction_id)
    if row is None:
        raise ValueError(f"no interaction {interaction_id}")
    values = overridden_values(row, clean, sla)
    update_interaction(conn, interaction_id, **values)
    audit(conn, "interaction", interaction_id, "override", {"by": who, **clean})
    return dict(values["override"])
