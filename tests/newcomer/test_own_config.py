"""Issue #10, item 1: an own config folder uses its own rules and mappings, never the shipped ones silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from continuum.config import load_config, pipeline_rulebook
from continuum.engine.context import SyncContext
from continuum.mapping import ConfigError
from tests.newcomer.conftest import cli, edit

OWN_RULES = """
rules:
  - name: HR never goes to Jira
    when: {keywords: [salary]}
    then: {kind: hr, team: hr, action: notify, notify: {system: slack, channel: "#people"}}
    stop: true
"""


def test_validate_checks_the_folder_of_the_config_it_was_given(own_folder: Path) -> None:
    assert cli("validate").exit_code == 0
    edit(own_folder / "discourse.post.yaml", "author_handle:", "author_handel:")
    result = cli("validate")
    assert result.exit_code == 2, result.output
    assert f"{own_folder / 'discourse.post.yaml'}:" in result.output and "author_handel" in result.output


def test_the_rule_book_comes_from_the_config_folder(own_folder: Path) -> None:
    (own_folder / "rules.yaml").write_text(OWN_RULES)
    hub = load_config()
    book = pipeline_rulebook(hub, "community")
    assert [rule.name for rule in book.rules] == ["HR never goes to Jira"]
    ctx = SyncContext(db=None, hub=hub, pipeline_name="community", connectors={})  # type: ignore[arg-type]
    assert [rule.name for rule in ctx.rulebook.rules] == ["HR never goes to Jira"]


def test_mappings_are_read_from_the_config_folder(own_folder: Path) -> None:
    edit(own_folder / "discourse.post.yaml", "description: Discourse posts in the community categories.",
         "description: my own")
    ctx = SyncContext(db=None, hub=load_config(), pipeline_name="community", connectors={})  # type: ignore[arg-type]
    assert ctx.mapping("discourse.post.yaml").description == "my own"


def test_a_missing_file_is_an_error_naming_the_path_looked_at(own_folder: Path) -> None:
    (own_folder / "rules.yaml").unlink()
    (own_folder / "jira.comment.yaml").unlink()
    result = cli("validate")
    assert result.exit_code == 2
    assert f"{own_folder / 'rules.yaml'}: rule book not found" in result.output
    assert f"{own_folder / 'jira.comment.yaml'}: mapping file not found" in result.output
    with pytest.raises(ConfigError, match=str(own_folder / "rules.yaml")):
        pipeline_rulebook(load_config(), "community")


def test_mappings_dir_in_the_config_names_another_folder(own_folder: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared-mappings"
    shared.mkdir()
    for path in own_folder.glob("*.yaml"):
        if path.name != "continuum.yaml":
            path.rename(shared / path.name)
    config = own_folder / "continuum.yaml"
    config.write_text("mappings_dir: ../shared-mappings\n" + config.read_text())
    assert load_config().files_dir() == shared.resolve()
    assert cli("validate").exit_code == 0


def test_no_file_is_looked_up_in_the_working_directory(own_folder: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    (elsewhere / "discourse.post.yaml").write_text("not: a mapping\n")
    monkeypatch.chdir(elsewhere)
    assert cli("validate").exit_code == 0
