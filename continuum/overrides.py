"""Human overrides: a person's triage decision wins over the rules, now and on every later run.

Two ways in: ``continuum override`` on the command line, or a label on the
ticket (``continuum-priority-high``, ``continuum-team-sales``,
``continuum-kind-bug``, ``continuum-sla-vip``) that the next sync reads back.
"""

from __future__ import annotations

import re
from typing import Any, get_args

from sqlalchemy import Connection, select, update

from continuum.rules import Action, Kind, Priority
from continuum.sla import SlaConfig
from continuum.store import repo
from continuum.store.tables import interactions

FIELDS = ("kind", "team", "priority", "sla", "route", "action")
LABEL = re.compile(r"^continuum-(kind|team|priority|sla)-([a-z0-9_]+)$")
_ALLOWED: dict[str, tuple[str, ...]] = {"kind": get_args(Kind), "priority": get_args(Priority),
                                         "action": get_args(Action)}


def validate(changes: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in changes.items() if v is not None}
    unknown = set(clean) - set(FIELDS)
    if unknown:
        raise ValueError(f"cannot override {', '.join(sorted(unknown))}; can override {', '.join(FIELDS)}")
    for name, value in clean.items():
        allowed = _ALLOWED.get(name)
        if allowed and value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return clean


def override(conn: Connection, interaction_id: int, changes: dict[str, Any], sla: SlaConfig,
             who: str = "cli") -> dict[str, Any]:
    """Record the override and apply it to the interaction's fields at once."""
    clean = validate(changes)
    row = conn.execute(select(interactions).where(interactions.c.id == interaction_id)).mappings().first()
    if row is None:
        raise ValueError(f"no interaction {interaction_id}")
    merged = {**(row["override"] or {}), **clean}
    values: dict[str, Any] = {"override": merged}
    for name in ("kind", "team", "priority", "route"):
        if name in clean:
            values[name] = clean[name]
    if "sla" in clean:
        values["sla_policy"] = clean["sla"]
    if {"priority", "sla"} & set(clean) and row["answered_at"] is None:
        values["sla_due"] = sla.due_time(values.get("sla_policy", row["sla_policy"]),
                                         values.get("priority", row["priority"]),
                                         row["created_at"] or row["first_seen_at"])
    if row["status"] in ("triaged", "ignored") and {"action", "route"} & set(clean):
        values["status"] = "new"  # not ticketed yet: triage runs again, with the override in charge
    conn.execute(update(interactions).where(interactions.c.id == interaction_id).values(**values))
    repo.audit(conn, "interaction", interaction_id, "override", {"by": who, **clean})
    return merged


def from_labels(labels: list[str] | None) -> dict[str, str]:
    """Overrides a person put on a ticket as labels."""
    found: dict[str, str] = {}
    for label in labels or []:
        match = LABEL.match(str(label).lower())
        if match:
            found[match.group(1)] = match.group(2)
    return found
