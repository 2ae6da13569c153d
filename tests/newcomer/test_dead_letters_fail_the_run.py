"""Issue #10, item 4: a run that dead-lettered records exits non-zero (6, not 1), with a threshold."""

from __future__ import annotations

import json

import pytest

from continuum.cli.errors import EXIT_DEAD_LETTERS
from tests.newcomer.conftest import Loop, cli


def test_sync_exits_6_when_every_record_was_dead_lettered(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    for n in range(5):
        loop.discourse.create_topic("ann", "bugs", f"Huge {n}", "y" * 70_000)
    result = cli("sync", "--json")
    assert result.exit_code == EXIT_DEAD_LETTERS, result.output
    assert json.loads(result.stdout)["community"]["dead_lettered"] == 5
    assert "5 record(s) or effect(s) failed" in result.stderr and "continuum dead-letters" in result.stderr


def test_the_threshold_is_configurable_and_a_clean_run_exits_0(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.create_topic("ann", "bugs", "Huge", "y" * 70_000)
    assert cli("sync", "--max-dead-letters", "1").exit_code == 0
    loop.discourse.create_topic("ann", "bugs", "Huge again", "z" * 70_000)
    monkeypatch.setenv("CONTINUUM_MAX_DEAD_LETTERS", "1")
    assert cli("sync").exit_code == 0
    monkeypatch.setenv("CONTINUUM_MAX_DEAD_LETTERS", "0")
    loop.discourse.create_topic("ann", "bugs", "Export crashes", "The CSV export crashes")
    assert cli("sync").exit_code == 0  # nothing failed in this run: the old letters are not counted again
