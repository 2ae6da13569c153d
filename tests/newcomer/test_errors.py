"""Issue #10, item 3: every-day errors are one clear line and a documented exit code; --debug shows more."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from continuum.cli.errors import (
    EXIT_CONFIG,
    EXIT_CONNECTION,
    EXIT_DEAD_LETTERS,
    EXIT_RECONCILE,
    EXIT_STORE,
    EXIT_UNREACHABLE,
    epilog,
)
from tests.newcomer.conftest import Loop, cli

SECRET = "wrong-secret-value-4711"


def one_line(output: str) -> str:
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, "nothing was printed"
    return lines[-1]


def test_a_missing_connection_names_it_and_what_to_set(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    monkeypatch.delenv("AIRFLOW_CONN_CONTINUUM_JIRA")
    result = cli("sync")
    assert result.exit_code == EXIT_CONNECTION, result.output
    line = one_line(result.output)
    assert "system 'jira'" in line and "AIRFLOW_CONN_CONTINUUM_JIRA" in line


def test_wrong_credentials_are_one_line_without_the_secret(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    conn = json.loads(loop.env["AIRFLOW_CONN_CONTINUUM_DISCOURSE"])
    monkeypatch.setenv("AIRFLOW_CONN_CONTINUUM_DISCOURSE", json.dumps({**conn, "password": SECRET}))
    result = cli("sync")
    assert result.exit_code == EXIT_CONNECTION, result.output
    line = one_line(result.output)
    assert "discourse refused the credentials" in line and "continuum_discourse" in line
    assert SECRET not in result.output


def test_nothing_listening_on_the_port(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    conn = json.loads(loop.env["AIRFLOW_CONN_CONTINUUM_DISCOURSE"])
    monkeypatch.setenv("AIRFLOW_CONN_CONTINUUM_DISCOURSE", json.dumps({**conn, "host": f"http://127.0.0.1:{port}"}))
    result = cli("sync")
    assert result.exit_code == EXIT_UNREACHABLE, result.output
    line = one_line(result.output)
    assert "discourse could not be reached" in line and "nothing is listening" in line


def test_unknown_pipeline_missing_config_and_invalid_config_under_plan(tmp_path: Path) -> None:
    result = cli("sync", "nosuch")
    assert result.exit_code == EXIT_CONFIG and "no pipeline 'nosuch'" in one_line(result.output)
    missing = tmp_path / "nowhere.yaml"
    result = cli("plan", "--config", str(missing))
    assert result.exit_code == EXIT_CONFIG and f"{missing}: hub config file not found" in one_line(result.output)
    bad = tmp_path / "continuum.yaml"
    bad.write_text("systems: {}\npipelines: {p: {sources: []}}\nextra_key: 1\n")
    result = cli("plan", "--config", str(bad))
    assert result.exit_code == EXIT_CONFIG and f"{bad}:3: extra_key" in one_line(result.output)


def test_bad_store_urls_never_show_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", "nonsense://somewhere/db")
    result = cli("status")
    assert result.exit_code == EXIT_STORE and "CONTINUUM_DB_URL" in one_line(result.output)
    monkeypatch.setenv("CONTINUUM_DB_URL", f"postgresql://hub:{SECRET}@127.0.0.1:1/store")
    result = cli("status")
    assert result.exit_code == EXIT_STORE, result.output
    assert "cannot be used" in one_line(result.output) and SECRET not in result.output
    monkeypatch.delenv("CONTINUUM_DB_URL")
    monkeypatch.setenv("CONTINUUM_DATA_DIR", "relative/dir")
    result = cli("status")
    assert result.exit_code == EXIT_STORE and "CONTINUUM_DATA_DIR" in one_line(result.output)


def test_bad_pool_arguments() -> None:
    result = cli("pools", "nosuch=2")
    assert result.exit_code == EXIT_CONFIG and "unknown system(s): nosuch" in one_line(result.output)
    result = cli("pools", "jira=x")
    assert result.exit_code == EXIT_CONFIG and "SYSTEM=N" in result.output


def test_debug_shows_the_traceback() -> None:
    result = cli("--debug", "sync", "nosuch")
    assert isinstance(result.exception, KeyError)


def test_the_exit_codes_are_documented_in_help_and_readme() -> None:
    help_text = " ".join(cli("--help").output.split())
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for code in (EXIT_CONFIG, EXIT_CONNECTION, EXIT_UNREACHABLE, EXIT_STORE, EXIT_DEAD_LETTERS, EXIT_RECONCILE, 75):
        assert f"{code} " in help_text
        assert f"| {code} |" in readme, f"exit code {code} is not in the README's table"
    assert "Exit codes" in epilog()


def test_the_test_button_names_a_missing_required_option(monkeypatch: pytest.MonkeyPatch) -> None:
    from continuum.orchestration.hooks import JiraHook

    monkeypatch.setenv("AIRFLOW_CONN_MY_OWN_JIRA", json.dumps({
        "conn_type": "jira", "host": "https://acme.atlassian.net", "login": "bot@acme.com", "password": SECRET}))
    ok, message = JiraHook("my_own_jira").test_connection()
    assert not ok
    assert "'my_own_jira' needs project" in message and '"project": "..."' in message
    assert "pydantic" not in message and SECRET not in message
