"""One Airflow pool per external system: the system's request budget.

Every task that calls a system runs in that system's pool, whichever
pipeline's DAG it belongs to, so concurrent DAGs together never run more
tasks against one system than its pool has slots.  Inside a task the shared
HTTP layer still honours ``Retry-After`` and rate-limit headers; the pool
bounds how many such clients run at once.

Slots: ``CONTINUUM_POOL_SLOTS`` (``"jira=4,discourse=2"``) or the ``slots``
argument; otherwise :data:`DEFAULT_SLOTS`.  The same thing by hand::

    airflow pools set continuum_jira 2 "Continuum: concurrent tasks calling jira"
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from continuum.config import HubConfig

DEFAULT_SLOTS = 2
PREFIX = "continuum_"


def pool_name(system: str) -> str:
    return f"{PREFIX}{system}"


def pool_description(system: str) -> str:
    return f"Continuum: concurrent tasks calling {system}"


def _slots_from_env() -> dict[str, int]:
    raw = os.environ.get("CONTINUUM_POOL_SLOTS", "")
    slots: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        system, sep, value = part.partition("=")
        if not sep or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"CONTINUUM_POOL_SLOTS: {part!r} is not <system>=<slots ≥ 1>")
        slots[system.strip()] = int(value)
    return slots


def pool_specs(hub: HubConfig | None = None, slots: dict[str, int] | None = None) -> dict[str, int]:
    """Pool name → slots for every configured system."""
    from continuum.config import load_config

    hub = hub or load_config()
    wanted = {**_slots_from_env(), **(slots or {})}
    unknown = sorted(set(wanted) - set(hub.systems))
    if unknown:
        raise ValueError(f"pool slots given for unknown system(s): {', '.join(unknown)}")
    return {pool_name(system): wanted.get(system, DEFAULT_SLOTS) for system in hub.systems}


def ensure_pools(hub: HubConfig | None = None, slots: dict[str, int] | None = None) -> dict[str, int]:
    """Create the missing pools in Airflow's metadata database; returns name → slots as they now are.

    An existing pool keeps the size an operator gave it unless ``slots`` (or
    ``CONTINUUM_POOL_SLOTS``) names its system: re-running the set-up never
    undoes a tuning made in the UI.
    """
    from airflow.models.pool import Pool

    specs = pool_specs(hub, slots)
    explicit = {pool_name(s) for s in {**_slots_from_env(), **(slots or {})}}
    result: dict[str, int] = {}
    for name, size in specs.items():
        system = name[len(PREFIX):]
        existing = Pool.get_pool(name)
        if existing is not None and name not in explicit:
            result[name] = int(existing.slots)
            continue
        Pool.create_or_update_pool(name, size, pool_description(system), include_deferred=False)
        result[name] = size
    return result
