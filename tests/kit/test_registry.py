"""The plugin registry: systems are found only through entry points, and production never loads a simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from continuum.config import load_config
from continuum.kit.registry import UnknownConnector, plugin, plugins

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_systems_are_registered_and_an_unknown_one_is_a_clear_error() -> None:
    assert {"discourse", "jira", "slack"} <= set(plugins())
    for name, found in plugins().items():
        assert found.name == name and found.summary and found.capabilities.effects
        assert found.simulator and found.contract, f"{name} ships no simulator or contract harness"
    with pytest.raises(UnknownConnector, match=r"no connector named 'jria' is installed .installed: .*jira"):
        plugin("jria")


PRODUCTION_IMPORTS = """
import json, os, sys
from continuum.config import load_config
from continuum.connector import ConnectionInfo
from continuum.kit.registry import plugin
hub = load_config()
built = []
for name, system in hub.systems.items():
    # The fields each system's connection form holds (its simulator's, at an address nobody answers).
    # (the base form: a plugin's own override may look for its running simulator, which is not here)
    from continuum.kit.plugin import ConnectorPlugin
    host = "imaps://example.invalid" if system.connector == "email" else "https://example.invalid"  # not HTTP
    form = ConnectorPlugin.simulator_connection(plugin(system.connector), host)
    conn = ConnectionInfo(conn_id=system.connection, host=form["host"], login=form.get("login"),
                          password=form.get("password"), extra=dict(form.get("extra") or {}))
    connector = plugin(system.connector).create(conn, dict(system.options))
    built.append(connector.system)
import continuum.engine.run  # the engine a sync runs
def heavy(name):
    parts = name.split(".")
    return (parts[0] == "werkzeug" or name.startswith(("continuum.simkit", "continuum.testing"))
            or (parts[0] == "connectors" and len(parts) > 2 and parts[2].startswith(("sim", "seed", "contract"))))
heavy = sorted(m for m in sys.modules if heavy(m))
print(json.dumps({"built": built, "heavy": heavy}))
"""


def test_building_every_configured_connector_imports_no_simulator_and_no_werkzeug() -> None:
    done = subprocess.run([sys.executable, "-c", PRODUCTION_IMPORTS], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(found["built"]) == {system.connector for system in load_config().systems.values()}
    assert found["heavy"] == [], f"production imports pulled in {found['heavy']}"


# What an installer leaves on disk for a tiny third-party distribution: its package and a .dist-info
# holding the entry point (pip would write the same; building it here needs no network and no wheel).
PACKAGE = {
    "acme_widgets_connector-0.1.0.dist-info/METADATA": """
        Metadata-Version: 2.1
        Name: acme-widgets-connector
        Version: 0.1.0
    """,
    "acme_widgets_connector-0.1.0.dist-info/entry_points.txt": """
        [continuum.connectors]
        widgets = acme_widgets.plugin:PLUGIN
    """,
    "acme_widgets_connector-0.1.0.dist-info/RECORD": "",
    "acme_widgets/__init__.py": "",
    "acme_widgets/plugin.py": """
        from continuum.connector import Capabilities
        from continuum.kit.plugin import ConnectorPlugin
        PLUGIN = ConnectorPlugin(
            name="widgets", summary="Widgets: a third-party system", config="acme_widgets.connector:WidgetsConfig",
            connector="acme_widgets.connector:WidgetsConnector",
            capabilities=Capabilities(streams=(), effects=("notify",)),
            connection_form={"ui-field-behaviour": {"relabeling": {"host": "Widgets URL"}}},
        )
    """,
    "acme_widgets/connector.py": """
        from typing import ClassVar
        from pydantic import SecretStr
        from continuum.kit import ConnectorConfig, EffectDispatcher, succeeded
        from acme_widgets.plugin import PLUGIN
        class WidgetsConfig(ConnectorConfig):
            system: ClassVar[str] = "widgets"
            connection_fields: ClassVar[dict[str, str]] = {"host": "url", "password": "token"}
            default_scheme: ClassVar[str | None] = "https"
            token: SecretStr
        class WidgetsConnector:
            system = "widgets"
            capabilities = PLUGIN.capabilities
            account = None
            def __init__(self, config):
                self.config = config
                self.sent = []
                self.dispatch = EffectDispatcher("widgets", {"notify": self._notify})
            def _notify(self, effect):
                self.sent.append(effect.fields["text"])
                return succeeded(effect, str(len(self.sent)))
            def check(self): pass
            def read_changes(self, stream, cursor): return iter(())
            def write(self, effects): return self.dispatch.write(effects)
            def escape_text(self, text): return text
    """,
}

THIRD_PARTY_USE = """
import json
from continuum.connector import ConnectionInfo, Effect
from continuum.kit.registry import load_connector_factory
from continuum.kit.registry import plugins
from continuum.orchestration.provider import get_provider_info
factory = load_connector_factory("widgets")
connector = factory(ConnectionInfo(conn_id="acme", host="widgets.example.com", password="t0k"), {})
result = connector.write([Effect(key="k1", action="notify", object_type="message", fields={"text": "hi"})])[0]
forms = {c["connection-type"]: c for c in get_provider_info()["connection-types"]}
from continuum.orchestration.hooks import WidgetsHook
print(json.dumps({"names": sorted(plugins()), "ok": result.ok, "url": connector.config.url,
                  "form": forms["widgets"]["ui-field-behaviour"]["relabeling"], "hook": WidgetsHook.conn_type,
                  "hook_class": forms["widgets"]["hook-class-name"]}))
"""


def test_a_connector_in_a_separately_installed_package_works_with_no_change_to_continuum(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for name, text in PACKAGE.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", THIRD_PARTY_USE], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"discourse", "jira", "slack", "widgets"} <= set(found["names"])
    assert found["ok"] and found["url"] == "https://widgets.example.com"
    assert found["form"] == {"host": "Widgets URL"}
    assert found["hook"] == "widgets" and found["hook_class"] == "continuum.orchestration.hooks.WidgetsHook"
