"""The documentation site: it builds with --strict, its generated parts come from the code, and no connector lacks
a page.  The build runs MkDocs as the Makefile does, into a temporary folder, so `make test` covers it."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin
from continuum.kit.ratelimit import RateLimitHeaders
from continuum.kit.registry import plugins

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SECTIONS = ["Set up on {vendor}'s side", "What it reads and writes", "Limits", "Edits and deletions",
            "What the simulator covers"]


def load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("continuum_docs_hooks", DOCS / "hooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = load_hooks()
from sitegen import connectors, schemas  # noqa: E402  (importable once the hooks put docs/ on the path)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


def html(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text(encoding="utf-8")


def test_every_registered_connector_has_a_page() -> None:
    missing = [name for name in plugins() if not (DOCS / "connectors" / f"{name}.md").is_file()]
    assert not missing, f"registered connectors without docs/connectors/<name>.md: {missing}"


def test_the_strict_build_succeeds_and_every_connector_page_carries_its_generated_part(site: Path) -> None:
    for name, plugin in plugins().items():
        page = html(site, f"connectors/{name}")
        assert connectors.HEADING in page, name
        for effect in plugin.capabilities.effects:
            assert f"<code>{effect}</code>" in page, (name, effect)
        overview = html(site, "connectors")
        assert f'href="{name}/"' in overview, name


def test_the_jira_page_shows_its_bulk_size_cursor_and_form_from_the_plugin(site: Path) -> None:
    plugin = plugins()["jira"]
    page = html(site, "connectors/jira")
    for effect, size in plugin.capabilities.bulk_sizes.items():
        assert f"<code>{effect}</code> ({size} per call)" in page
    assert "<code>IssuesCursor</code>" in page
    for label in plugin.connection_form["ui-field-behaviour"]["relabeling"].values():
        assert schemas.text(label) in page


def test_the_reference_pages_list_every_field_of_the_models(site: Path) -> None:
    for kind, page in (("hub", "reference/hub"), ("mapping", "reference/mapping"), ("rules", "reference/rules")):
        built, schema = html(site, page), schemas.schema_for(kind)
        for node in [schema, *(schema.get("$defs") or {}).values()]:
            for name in node.get("properties") or {}:
                assert f"<code>{name}</code>" in built, (kind, name)
        assert f"JSON Schema: {kind}" in built


def test_a_registered_connector_without_a_page_is_a_warning_that_fails_strict(caplog: pytest.LogCaptureFixture) -> None:
    files = [types.SimpleNamespace(src_uri=f"connectors/{name}.md") for name in plugins()]
    dropped = files.pop(0).src_uri
    with caplog.at_level(logging.WARNING, logger="mkdocs"):
        hooks.on_files(files, {})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and dropped in warnings[0]
    assert hooks.missing_pages(["a", "b"], {"connectors/b.md"}) == ["a"]


def test_the_nav_lists_every_page_of_the_connectors_folder(tmp_path: Path) -> None:
    (tmp_path / "connectors").mkdir()
    for name in ("zeta", "index", "alpha"):
        (tmp_path / "connectors" / f"{name}.md").write_text(f"# {name}\n")
    pages = hooks.connector_pages(tmp_path)
    assert pages == ["connectors/index.md", "connectors/alpha.md", "connectors/zeta.md"]
    nav = hooks.expand_nav([{"Home": "index.md"}, {"Connectors": "connectors/index.md"}], pages)
    assert nav == [{"Home": "index.md"}, {"Connectors": pages}]


def test_the_written_connector_pages_use_the_five_sections() -> None:
    for name, vendor in (("discourse", "Discourse"), ("jira", "Jira"), ("slack", "Slack")):
        text = (DOCS / "connectors" / f"{name}.md").read_text(encoding="utf-8")
        headings = re.findall(r"^## (.+)$", text, flags=re.M)
        assert headings == [s.format(vendor=vendor) for s in SECTIONS], name
        assert connectors.MARKER in text


def test_a_skeleton_plugin_still_renders_and_says_what_it_could_not_read() -> None:
    skeleton = ConnectorPlugin(name="nosuch", summary="No such <system> | yet", config="nosuch_pkg.config:Config",
                               connector="nosuch_pkg.connector:Connector",
                               capabilities=Capabilities(streams=("posts",), effects=("reply",)))
    section = connectors.section("nosuch", skeleton, modules={})
    assert "No such &lt;system&gt; &#124; yet" in section  # escaped: no markup, no table split
    assert "`nosuch_pkg.connector` cannot be imported yet" in section
    assert "`nosuch_pkg.config` cannot be imported yet" in section
    assert "| <code>posts</code> | ? | not discoverable | — |" in section


def test_rate_limit_headers_declared_in_the_plugin_module_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("fake_plugin_module")
    module.RATE_LIMITS = {"reads": RateLimitHeaders(remaining="x-rate-limit-remaining", reset="x-rate-limit-reset"),  # type: ignore[attr-defined]
                          "graph": RateLimitHeaders(usage=("X-App-Usage",))}
    monkeypatch.setitem(sys.modules, "fake_plugin_module", module)
    plugin: Any = plugins()["discourse"]
    lines = connectors.rate_limits("discourse", plugin, {"discourse": "fake_plugin_module"})
    assert "| reads | remaining | <code>x-rate-limit-remaining</code> |" in lines
    assert "| reads | reset | <code>x-rate-limit-reset</code> |" in lines
    assert "| graph | usage | <code>X-App-Usage</code> |" in lines
    assert connectors.rate_limits("discourse", plugin, {}) == []  # Discourse declares none


def test_schema_tables_escape_what_would_break_them() -> None:
    fake = {"title": "Thing", "properties": {"mode": {"type": "string", "pattern": "^(a|b)$", "default": "a",
                                                      "description": "<b>bold</b> choice"},
                                             "size": {"$ref": "#/$defs/Size"}},
            "required": ["size"], "$defs": {"Size": {"enum": ["s", "m"]}}}
    rendered = schemas.render("fake", schema_of=lambda _kind: fake)
    assert "<code>^(a&#124;b)$</code>" in rendered and "&lt;b&gt;bold&lt;/b&gt; choice" in rendered
    assert "| <code>size</code> | [Size](#fake-size) | **required** |" in rendered
    assert "### Size {#fake-size}" in rendered and '<code>&quot;s&quot;</code>' in rendered


def test_the_readme_links_into_the_site_with_relative_links_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", readme)
    assert len(links) >= 10
    assert [link for link in links if not (ROOT / link).is_file()] == []
    assert "make demo" in readme.split("\n## ")[0] and "make test" in readme.split("\n## ")[0]
