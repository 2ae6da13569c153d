"""Named crash points, so tests can stop a sync exactly where a real crash would hurt most.

``CONTINUUM_FAILPOINTS=after_write:jira`` makes :func:`hit` end the process
at once (``os._exit``: no cleanup, no commit), which is what a kill -9 or a
lost worker does.  Unset, a hit costs one dict lookup.
"""

from __future__ import annotations

import os


class SimulatedCrash(BaseException):
    """Raised instead of exiting when ``CONTINUUM_FAILPOINTS_MODE=raise`` (in-process tests).

    A BaseException, so that no ``except Exception`` in the engine can swallow it.
    """


def _armed() -> set[str]:
    return {name.strip() for name in os.environ.get("CONTINUUM_FAILPOINTS", "").split(",") if name.strip()}


def hit(name: str) -> None:
    if name in _armed():
        if os.environ.get("CONTINUUM_FAILPOINTS_MODE") == "raise":
            raise SimulatedCrash(name)
        os._exit(99)
