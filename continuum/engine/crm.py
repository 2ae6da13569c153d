"""Two-way contact sync with a CRM, system-neutral: which side's value each field takes, and what to write back.

The mapping says per field ``direction`` (in, out, both) and, for ``both``, who ``wins`` a conflict.  The last
value both sides agreed on (``last``, kept per contact and field) tells who changed a field since the last sync:
a value the hub wrote comes back unchanged from the CRM, equals ``last``, and is not a change, so two-way fields
never ping-pong (invariant 4).  The field name on the system's side is the last part of the field's ``path``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from continuum.mapping.spec import MappingFile


@dataclass(frozen=True)
class SyncedField:
    name: str  # the canonical field (email, handles.x)
    vendor: str  # the system's field written back
    direction: str
    wins: str | None


@dataclass
class ContactPlan:
    """One contact's outcome: the system's fields to write, the hub's fields to take, the new agreed values."""

    write: dict[str, Any] = field(default_factory=dict)
    take: dict[str, Any] = field(default_factory=dict)
    last: dict[str, Any] = field(default_factory=dict)


def synced_fields(mapping: MappingFile) -> list[SyncedField]:
    return [SyncedField(name, str(spec.path or name).rsplit(".", 1)[-1], spec.direction, spec.wins)
            for name, spec in mapping.inbound.items()]


def plan_contact(fields: list[SyncedField], crm: Mapping[str, Any], hub: Mapping[str, Any],
                 last: Mapping[str, Any], crm_is_later: bool = False) -> ContactPlan:
    """``crm``: the contact's canonical fields as just read; ``hub``: the hub's values; ``last``: agreed values.

    ``crm_is_later`` decides a ``wins: later`` conflict (the CRM record's version is newer than the hub's edit)."""
    plan = ContactPlan(last=dict(last))
    for f in fields:
        theirs, ours, agreed = crm.get(f.name), hub.get(f.name), last.get(f.name)
        crm_changed = f.name in crm and theirs != agreed
        hub_changed = f.direction != "in" and ours is not None and ours != agreed
        if f.direction == "in" or (f.direction == "both" and crm_changed and not hub_changed):
            if crm_changed:
                plan.take[f.name] = plan.last[f.name] = theirs
        elif f.direction == "out" or not crm_changed:
            if hub_changed and ours != theirs:
                plan.write[f.vendor] = plan.last[f.name] = ours
            elif hub_changed:
                plan.last[f.name] = ours  # both already agree: nothing to write
        elif theirs == ours:  # both changed, to the same value
            plan.last[f.name] = theirs
        elif f.wins == "crm" or (f.wins == "later" and crm_is_later):
            plan.take[f.name] = plan.last[f.name] = theirs
        else:
            plan.write[f.vendor] = plan.last[f.name] = ours
    return plan
