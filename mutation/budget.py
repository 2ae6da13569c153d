"""A pytest plugin for `make mutation`: each mutant gets a time budget for its tests.

mutmut runs, for each mutant, the tests that reach the mutated function, fastest first, and stops at the
first failure.  A mutant that survives runs all of them, which for engine code is every end-to-end test:
the budget (``CONTINUUM_MUTANT_BUDGET_S`` seconds of running tests; 0 turns it off) ends such a run early.  pytest then
exits as interrupted (2), and mutation/report.py counts the mutant as *not* killed: the budget can only
lower the kill rate, never raise it.  The clean and stats runs are never cut short.

The budget is checked between tests, so a mutant that makes one test loop forever (a drain loop whose
exit condition was mutated, a wait that never ends) would hold its worker for good, and mutmut's own
CPU limit does not catch a loop that sleeps.  A watchdog thread ends such a run from inside once a test
has run ``CONTINUUM_MUTANT_HANG_S`` seconds past the budget, with mutmut's timeout code (36): a test
that never finishes has noticed the change, as mutmut counts its own timeouts.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

_NOT_A_MUTANT = {"", "stats", "fail", "mutant_generation", "list_all_tests"}
_started = 0.0
_session: pytest.Session | None = None


def _budget_s() -> float:
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    return 0.0 if mutant in _NOT_A_MUTANT else float(os.environ.get("CONTINUUM_MUTANT_BUDGET_S") or 0)


_TIMEOUT_EXIT = 36  # mutmut's "timeout" status
_last_finish = 0.0


def _hang_s() -> float:
    return float(os.environ.get("CONTINUUM_MUTANT_HANG_S") or 120)


def _watch(budget: float) -> None:
    """Ends the process when one test has run far past the budget: it is stuck, not slow."""
    while True:
        time.sleep(1.0)
        now = time.monotonic()
        if now - _started > budget and now - _last_finish > _hang_s():
            os.write(2, f"mutation watchdog: a test ran over {_hang_s():g}s; counted as a timeout\n".encode())
            os._exit(_TIMEOUT_EXIT)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The clock starts once the tests are collected: collecting a long list of tests is not running them."""
    global _started, _session, _last_finish
    _started, _session = time.monotonic(), session
    _last_finish = _started
    budget = _budget_s()
    if budget:
        threading.Thread(target=_watch, args=(budget,), name="mutation-watchdog", daemon=True).start()


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    global _last_finish
    _last_finish = time.monotonic()
    budget = _budget_s()
    if budget and _session is not None and time.monotonic() - _started > budget:
        _session.shouldstop = f"mutation budget of {budget:g}s used up"
