"""Every connector test starts and ends with no rate-limit gate or spent window held and no calls counted:
the shared HTTP layer keeps them per system for the whole process, and one test's spent window must not
stop the next test's calls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from continuum.http import GATES, STATS


@pytest.fixture(autouse=True)
def _fresh_http_layer() -> Iterator[None]:
    GATES.reset()
    STATS.reset()
    yield
    GATES.reset()
