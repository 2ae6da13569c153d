"""Connection types in the Airflow UI, the hooks' Test button, masking, and the per-system pools."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from continuum.config import load_config
from continuum.connections import resolve_connection
from continuum.demo.simulators import simulators
from continuum.orchestration.pools import ensure_pools, pool_name, pool_specs
from continuum.orchestration.provider import get_provider_info
from tests.airflow.conftest import base_env


def test_provider_info_passes_airflows_schema_and_declares_every_configured_connector() -> None:
    import airflow

    info = get_provider_info()
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(info, schema)
    assert info["package-name"] == "continuum-hub"
    declared = {c["connection-type"]: c for c in info["connection-types"]}
    connectors = {s.connector for s in load_config().systems.values()}
    assert connectors <= set(declared), f"no connection type for {connectors - set(declared)}"
    jira = declared["jira"]
    assert jira["conn-fields"]["auth"]["schema"]["enum"] == ["basic", "pat"]
    assert set(jira["ui-field-behaviour"]["relabeling"]) == {"host", "login", "password"}
    assert declared["discourse"]["ui-field-behaviour"]["relabeling"] == {
        "host": "Discourse URL", "login": "API username", "password": "API key"}


def test_airflow_discovers_the_forms_through_the_entry_point(tmp_path: Path) -> None:
    """A fresh Airflow process finds our provider by its entry point, as the api-server does."""
    probe = """
import json
from airflow.providers_manager import ProvidersManager
pm = ProvidersManager()
hooks = {t: pm.hooks[t].hook_class_name for t in ("jira", "discourse") if pm.hooks.get(t)}
widgets = sorted(k for k in pm.connection_form_widgets if k.startswith(("extra__jira__", "extra__discourse__")))
print(json.dumps({"hooks": hooks, "widgets": widgets, "jira": pm.field_behaviours.get("jira")}))
"""
    env = base_env(tmp_path, f"sqlite:///{tmp_path / 'airflow.db'}")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["hooks"] == {"jira": "continuum.orchestration.hooks.JiraHook",
                              "discourse": "continuum.orchestration.hooks.DiscourseHook"}
    # Theirs, and the webhook secret each can push with (a masked field).
    assert found["widgets"] == ["extra__discourse__webhook_secret", "extra__jira__auth", "extra__jira__project",
                                "extra__jira__webhook_secret"]
    assert found["jira"]["relabeling"]["host"] == "Jira URL"


def test_the_test_button_checks_the_system_and_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk._shared.secrets_masker import redact

    from continuum.orchestration.hooks import DiscourseHook, JiraHook  # made from the registered plugins

    hub = load_config()
    with simulators(hub, ["jira", "discourse"]) as running:
        ok, message = JiraHook("continuum_jira").test_connection()
        assert ok, message
        ok, message = DiscourseHook("continuum_discourse").test_connection()
        assert ok, message
        secret = resolve_connection("continuum_jira").password
        assert secret and redact(f"token={secret}") == "token=***"

        wrong = json.loads(json_env("continuum_jira"))
        wrong["password"] = "not-the-token-8d1f"
        monkeypatch.setenv("AIRFLOW_CONN_CONTINUUM_JIRA", json.dumps(wrong))
        ok, message = JiraHook("continuum_jira").test_connection()
        assert not ok and "not-the-token-8d1f" not in message
        assert redact("not-the-token-8d1f") == "***"  # read, therefore masked
        del running


def json_env(conn_id: str) -> str:
    import os

    return os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"]


def test_one_pool_per_system_created_in_airflow(tmp_path: Path) -> None:
    hub = load_config()
    assert pool_specs(hub, {"jira": 5}) == {pool_name(s): (5 if s == "jira" else 2) for s in hub.systems}
    with pytest.raises(ValueError, match="unknown system"):
        pool_specs(hub, {"nosuch": 1})
    env = base_env(tmp_path, f"sqlite:///{tmp_path / 'airflow.db'}")
    env["CONTINUUM_POOL_SLOTS"] = "jira=3"
    script = ("import json; from continuum.orchestration.pools import ensure_pools; "
              "print(json.dumps(ensure_pools()))")
    for args in (["-m", "airflow", "db", "migrate"], ["-c", script]):
        done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        pool_name(s): (3 if s == "jira" else 2) for s in hub.systems}
    # An operator's tuning survives a re-run of the set-up.
    subprocess.run([sys.executable, "-m", "airflow", "pools", "set", "continuum_discourse", "7", "tuned"],
                   env=env, capture_output=True, timeout=120, check=True)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout.strip().splitlines()[-1])["continuum_discourse"] == 7
    assert ensure_pools.__module__ == "continuum.orchestration.pools"
