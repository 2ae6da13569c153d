"""One endpoint per configured system that can push: its verifier and its secrets.

Secrets come from the system's Airflow Connection (``extra``), resolved through
:func:`continuum.connections.resolve_connection`, which registers them with Airflow's masker.  They are
kept for a short while (``ttl_s``) so that a burst of deliveries does not read the Connection each time,
and a rotated secret is picked up within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from continuum.config import HubConfig
from continuum.connections import ConnectionProblem, resolve_connection
from continuum.kit.registry import plugin
from continuum.kit.webhooks import WebhookVerifier


class SecretsMissing(LookupError):
    """The system's Connection lacks a webhook secret; the message names the Connection and the key, never a value."""


@dataclass
class Endpoint:
    system: str
    connection: str
    verifier: WebhookVerifier
    ttl_s: float = 60.0
    _cached: tuple[float, dict[str, str]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def secrets(self) -> Mapping[str, str]:
        with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < self.ttl_s:
                return self._cached[1]
        try:
            extra = resolve_connection(self.connection).extra
        except ConnectionProblem as exc:
            raise SecretsMissing(str(exc.for_system(self.system))) from None
        missing = [key for key in self.verifier.secret_fields if not str(extra.get(key) or "").strip()]
        if missing:
            raise SecretsMissing(f"system {self.system!r}: connection {self.connection!r} has no "
                                 f"{', '.join(missing)} in its extra (the webhook's secret(s))")
        found = {key: str(extra[key]).strip() for key in self.verifier.secret_fields}
        with self._lock:
            self._cached = (time.monotonic(), found)
        return found


def endpoints(hub: HubConfig, ttl_s: float = 60.0) -> dict[str, Endpoint]:
    """Every system of the hub config whose connector can push, by system name."""
    found: dict[str, Endpoint] = {}
    for name, system in hub.systems.items():
        verifier = plugin(system.connector).webhook_verifier()
        if verifier is not None:
            found[name] = Endpoint(name, system.connection, verifier, ttl_s)
    return found
