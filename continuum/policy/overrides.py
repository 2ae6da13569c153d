"""Human overrides: a person's triage decision wins over the rules, now and on every later run.

Two ways in: ``continuum override`` on the command line, or a label on the
ticket (``continuum-priority-high``, ``continuum-team-sales``,
``continuum-kind-bug``, ``continuum-sla-vip``) that the next sync reads back.
This module decides what an override changes; :mod:`continuum.engine.overrides`
stores it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args

from continuum.connector import JSON
from continuum.policy.rules import Action, Kind, Priority
from continuum.policy.sla import SlaConfig

FIELDS = ("kind", "team", "priority", "sla", "route", "action")
LABEL = re.compile(r"^continuum-(kind|team|priority|sla)-([a-z0-9_]+)$")
_ALLOWED: dict[str, tuple[str, ...]] = {"kind": get_args(Kind), "priority": get_args(Priority),
                                         "action": get_args(Action)}


def validate(changes: Mapping[str, Any]) -> JSON:
    """The given (non-None) changes, checked: only known fields, only allowed values."""
    clean = {k: v for k, v in changes.items() if v is not None}
    unknown = set(clean) - set(FIELDS)
    if unknown:
        raise ValueError(f"cannot override {', '.join(sorted(unknown))}; can override {', '.join(FIELDS)}")
    for name, value in clean.items():
        allowed = _ALLOWED.get(name)
        if allowed and value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return clean


def overridden_values(row: Mapping[str, Any], clean: JSON, sla: SlaConfig) -> JSON:
    """The interaction's new column values once the (validated) override ``clean`` is kept.

    ``override`` holds every override so far, merged; the fields it names take
    the person's value; the due time follows a new priority or SLA policy
    unless the customer was answered already; an interaction not ticketed yet
    goes back to triage when the override changes what to do with it.
    """
    merged = {**(row["override"] or {}), **clean}
    values: JSON = {"override": merged}
    for name in ("kind", "team", "priority", "route"):
        if name in clean:
            values[name] = clean[name]
    if "sla" in clean:
        values["sla_policy"] = clean["sla"]
    if {"priority", "sla"} & set(clean) and row["answered_at"] is None:
        values["sla_due"] = sla.due_time(values.get("sla_policy", row["sla_policy"]),
                                         values.get("priority", row["priority"]),
                                         row["created_at"] or row["first_seen_at"])
    if (row["status"] in ("triaged", "ignored") and {"action", "route"} & set(clean)) or \
            (row["status"] == "needs_review" and {"kind", "action", "route"} & set(clean)):
        values["status"] = "new"  # not ticketed yet: triage runs again, with the override in charge
    return values


def from_labels(labels: list[str] | None) -> dict[str, str]:
    """Overrides a person put on a ticket as labels."""
    found: dict[str, str] = {}
    for label in labels or []:
        match = LABEL.match(str(label).lower())
        if match:
            found[match.group(1)] = match.group(2)
    return found
