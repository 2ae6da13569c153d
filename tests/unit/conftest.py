"""Fixtures for the HTTP-layer tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from continuum.http import STATS, new_session
from tests.unit.httpkit import ItemsSim, fast


@pytest.fixture(autouse=True)
def clean_stats() -> Iterator[None]:
    STATS.reset()
    yield
    STATS.reset()


@pytest.fixture
def sim() -> Iterator[ItemsSim]:
    simulator = ItemsSim()
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    s = new_session("items", fast())
    yield s
    s.close()
