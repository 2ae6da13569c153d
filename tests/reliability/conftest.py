"""Reliability figures: each test adds what it tried and found; the summary prints them at the end."""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from typing import Any

import pytest

from tests.reliability.figures import FIGURES


def seed_for(name: str) -> int:
    """CONTINUUM_SEED pins every random choice; otherwise a fresh seed, printed on failure."""
    value = os.environ.get("CONTINUUM_SEED")
    return int(value) if value else random.SystemRandom().randrange(1, 2**31)


@pytest.fixture
def figures() -> dict[str, Any]:
    return FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not (FIGURES["crash_trials"] or FIGURES["hostile_inputs"] or FIGURES["faults_injected"]):
        return
    shown = {k: (dict(v) if isinstance(v, Counter) else v) for k, v in FIGURES.items()}
    terminalreporter.write_sep("-", "reliability figures")
    terminalreporter.write_line(json.dumps(shown, sort_keys=True))
