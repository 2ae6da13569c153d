"""What a simulator can be told to do wrong: queued faults, seeded fault rates and paging faults.

One :class:`FaultPlan` per simulator holds all of it, with one seeded random
generator, so a run with the same seed and the same calls misbehaves the
same way every time.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

# "timeout": the request is served, but the answer comes only after ``latency_s`` (a client
# with a shorter read timeout gives up on a request that did happen).
FAULT_KINDS = ("429", "500", "502", "503", "latency", "timeout", "reset", "malformed")
# Pagination faults, served by the simulators' list endpoints (see ``continuum.simkit.paging``):
# "repeat" serves the next page starting a few items early; "shift" changes the list between
# two pages, as a concurrent edit would.
PAGING_MODES = ("repeat", "shift")


def check_kind(kind: str) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")


@dataclass
class Fault:
    kind: str
    remaining: int = 1
    path_contains: str = ""
    method: str | None = None
    retry_after: str = "1"
    latency_s: float = 0.5

    def __post_init__(self) -> None:
        # HTTP methods are upper case on the wire; "post" must match a POST.
        self.method = self.method.upper() if self.method else None

    def applies(self, method: str, path: str) -> bool:
        return self.remaining > 0 and self.path_contains in path and self.method in (None, method.upper())


@dataclass
class FaultPlan:
    """Queued faults (exactly N times) plus random rates (a seeded share of calls)."""

    queued: list[Fault] = field(default_factory=list)
    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 7
    retry_after: str = "1"
    latency_s: float = 0.5
    injected: Counter[str] = field(default_factory=Counter)
    paging_mode: str | None = None
    paging_rate: float = 0.0

    def __post_init__(self) -> None:
        # Public: paging faults and a simulator's "concurrent edits" draw from it too.
        self.rng = random.Random(self.seed)

    def set_rates(self, rates: dict[str, float], seed: int, retry_after: str, latency_s: float) -> None:
        """New random rates from a fresh seed; queued faults, paging faults and the tally stay."""
        for kind in rates:
            check_kind(kind)
        self.rates, self.seed, self.retry_after, self.latency_s = dict(rates), seed, retry_after, latency_s
        self.rng = random.Random(seed)

    def set_paging(self, mode: str | None, rate: float) -> None:
        if mode is not None and mode not in PAGING_MODES:
            raise ValueError(f"unknown paging mode {mode!r}; known: {', '.join(PAGING_MODES)}")
        self.paging_mode, self.paging_rate = mode, rate

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault this request gets, if any (counted as injected)."""
        chosen = next((fault for fault in self.queued if fault.applies(method, path)), None)
        if chosen is not None:
            chosen.remaining -= 1
        else:
            for kind, rate in self.rates.items():
                if rate > 0 and self.rng.random() < rate:
                    chosen = Fault(kind=kind, retry_after=self.retry_after, latency_s=self.latency_s)
                    break
        if chosen is not None:
            self.injected[chosen.kind] += 1
        return chosen

    def paging_fault(self, servable: tuple[str, ...] = PAGING_MODES) -> str | None:
        """The pagination fault to serve on this next-page request, if any (counted as injected).

        ``servable`` is what the endpoint can do here: a mode it cannot serve is neither drawn nor counted.
        """
        if self.paging_mode not in servable:
            return None
        if self.paging_mode and self.paging_rate > 0 and self.rng.random() < self.paging_rate:
            self.injected[f"paging_{self.paging_mode}"] += 1
            return self.paging_mode
        return None
