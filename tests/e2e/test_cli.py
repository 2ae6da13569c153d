"""The command line, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from typer.testing import CliRunner

from continuum.cli import app
from tests.e2e.conftest import Loop

runner = CliRunner()


def test_validate_accepts_the_shipped_files_and_names_line_and_field_of_a_mistake(tmp_path: Path) -> None:
    assert runner.invoke(app, ["validate"]).exit_code == 0
    bad = tmp_path / "continuum.yaml"
    bad.write_text("systems:\n  a: {connector: a, connection: c, secret: x}\npipelines: {}\n")
    result = runner.invoke(app, ["validate", "--config", str(bad)])
    assert result.exit_code == 2  # a configuration mistake
    assert f"{bad}:2: systems.a.secret" in result.output


def test_schema_prints_the_json_schemas_of_every_file_format() -> None:
    result = runner.invoke(app, ["schema"])
    schemas = json.loads(result.stdout)
    assert set(schemas) == {"hub", "mapping", "rules"}
    assert "pipelines" in schemas["hub"]["properties"] and "inbound" in schemas["mapping"]["properties"]
    assert {"banter", "rules", "sla", "feature_requests", "alerts"} <= set(schemas["rules"]["properties"])
    assert json.loads(runner.invoke(app, ["schema", "rules"]).stdout)["title"] == "RuleBook"


def test_sync_then_status_json_and_dead_letters(loop: Loop, monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.create_topic("ann", "feature-requests", "Dark mode", "Dark mode please")
    loop.discourse.create_topic("ann", "feature-requests", "Huge", "y" * 70_000)
    assert runner.invoke(app, ["sync", "community"]).exit_code == 6  # it finished, with a dead letter
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["interactions"] == 1 and status["dead_letters"] == 1 and status["by_status"] == {"routed": 1}
    letters = json.loads(runner.invoke(app, ["dead-letters", "--json"]).stdout)
    assert letters[0]["field"] == "text" and "65536 allowed" in letters[0]["error"]


def test_replay_after_fixing_the_mapping(loop: Loop, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.create_topic("ann", "feature-requests", "Huge", "y" * 70_000)
    runner.invoke(app, ["sync", "community"])
    # The operator decides long posts are fine: raise the limit in a copy of the mappings, then replay.
    from continuum.mapping import mappings_dir

    for path in mappings_dir().glob("*.yaml"):
        text = path.read_text().replace("max_length: 65536", "max_length: 100000")
        (tmp_path / path.name).write_text(text)
    monkeypatch.setenv("CONTINUUM_MAPPINGS_DIR", str(tmp_path))
    result = runner.invoke(app, ["replay", "--system", "discourse"])
    assert "replayed=1" in result.output
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["dead_letters"] == 0 and status["interactions"] == 1


def test_simulate_runs_until_stopped_and_prints_working_urls() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "continuum.cli", "simulate"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=dict(os.environ))
    try:
        lines = [proc.stdout.readline().split("\t") for _ in range(2)]  # type: ignore[union-attr]
        urls = {name: url for name, url, _ in lines}
        assert set(urls) == {"discourse", "jira"}
        assert requests.get(f"{urls['discourse']}/posts.json", timeout=5).status_code == 403  # no key: refused
        assert requests.get(f"{urls['jira']}/rest/api/3/myself", timeout=5).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0
