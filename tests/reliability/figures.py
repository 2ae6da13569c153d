"""Reliability figures, shared by the tests and the summary the conftest prints."""

from __future__ import annotations

from collections import Counter
from typing import Any

FIGURES: dict[str, Any] = {"crash_trials": 0, "crash_outcomes": Counter(), "faults_injected": Counter(),
                           "hostile_inputs": 0, "duplicates_found": 0, "records_lost": 0, "checked": 0}


def add_tally(tally: Any) -> None:
    FIGURES["duplicates_found"] += tally.duplicates
    FIGURES["records_lost"] += tally.lost
    FIGURES["checked"] += tally.checked
