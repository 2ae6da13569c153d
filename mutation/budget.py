"""A pytest plugin for `make mutation`: each mutant gets a time budget for its tests.

mutmut runs, for each mutant, the tests that reach the mutated function, fastest first, and stops at the
first failure.  A mutant that survives runs all of them, which for engine code is every end-to-end test:
the budget (``CONTINUUM_MUTANT_BUDGET_S`` seconds of running tests; 0 turns it off) ends such a run early.  pytest then
exits as interrupted (2), and mutation/report.py counts the mutant as *not* killed: the budget can only
lower the kill rate, never raise it.  The clean and stats runs are never cut short.
"""

from __future__ import annotations

import os
import time

import pytest

_NOT_A_MUTANT = {"", "stats", "fail", "mutant_generation", "list_all_tests"}
_started = 0.0
_session: pytest.Session | None = None


def _budget_s() -> float:
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    return 0.0 if mutant in _NOT_A_MUTANT else float(os.environ.get("CONTINUUM_MUTANT_BUDGET_S") or 0)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The clock starts once the tests are collected: collecting a long list of tests is not running them."""
    global _started, _session
    _started, _session = time.monotonic(), session


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    budget = _budget_s()
    if budget and _session is not None and time.monotonic() - _started > budget:
        _session.shouldstop = f"mutation budget of {budget:g}s used up"
