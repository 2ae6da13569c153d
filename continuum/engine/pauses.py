"""Clean stops: a platform's rate-limit window is spent, so the run stops that system and goes on.

What was committed stays (each page with its cursor, each settled effect); what was not reached waits for the
next run: a stream resumes from its saved cursor, an effect stays as it was (pending, not failed, no attempt
counted, never a dead letter).  The run ends successfully with a ``rate_limited`` count and one line per
system saying when the window resets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TypeVar

from continuum.engine.context import RunStats, SyncContext
from continuum.kit.ratelimit import spent_window

log = logging.getLogger(__name__)

RATE_LIMITED = "rate_limited"
T = TypeVar("T")


def note_rate_limited(ctx: SyncContext, stats: RunStats, system: str, resume_in_s: float, then: str) -> None:
    """Count the stop, remember it for the run's later stages, and say it once per system and run."""
    ctx.spent_windows[system] = max(ctx.spent_windows.get(system, 0.0), time.monotonic() + resume_in_s)
    stats.add(RATE_LIMITED)
    line = f"{system}: rate-limit window spent, resumes in {resume_in_s:.0f} s; {then}"
    if stats.note(f"{RATE_LIMITED}:{system}", line):
        log.warning("%s", line)


def window_spent(ctx: SyncContext, system: str) -> bool:
    """Whether this run found the system's window spent, and it has not reset yet."""
    return ctx.spent_windows.get(system, 0.0) > time.monotonic()


def until_window_spent(pages: Iterator[T], ctx: SyncContext, stats: RunStats, system: str) -> Iterator[T]:
    """The pages of a read, ending cleanly (not raising) when the system's window is spent.

    Each page is handed on before the next one is asked for, so every page the caller committed keeps its
    cursor and the next run reads on from there."""
    try:
        yield from pages
    except Exception as exc:
        window = spent_window(exc)
        if window is None:
            raise
        note_rate_limited(ctx, stats, system, window.resume_in_s, "the next run continues from the saved cursor")
