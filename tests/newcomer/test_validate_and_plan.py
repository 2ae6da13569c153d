"""Issue #10, item 5: validate renders every template against a sample record, and plan lists failed renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.newcomer.conftest import Loop, cli, edit


def test_an_unknown_connector_is_an_error(own_folder: Path) -> None:
    edit(own_folder / "continuum.yaml", "connector: jira", "connector: jiraa")
    result = cli("validate")
    assert result.exit_code == 2
    assert "systems.jira.connector: no connector named 'jiraa' is installed" in result.output


def test_a_wiki_that_cannot_publish_pages_is_an_error(own_folder: Path) -> None:
    edit(own_folder / "continuum.yaml", "system: confluence", "system: jira")
    result = cli("validate")
    assert result.exit_code == 2, result.output
    assert "pipelines.community.knowledge.system: 'jira' cannot publish pages" in result.output


def test_the_crm_mapping_is_checked_like_every_other(own_folder: Path) -> None:
    config = own_folder / "continuum.yaml"
    edit(config, "    crm: {system: hubspot, mapping: hubspot.contact.yaml",
         "    crm: {system: hubspot, mapping: hubspot.contakt.yaml")
    result = cli("validate")
    assert result.exit_code == 2, result.output
    assert "hubspot.contakt.yaml: mapping file not found" in result.output and "crm.mapping" in result.output
    edit(config, "hubspot.contakt.yaml", "hubspot.contact.yaml")
    edit(own_folder / "hubspot.contact.yaml", "direction: both, wins: crm", "direction: sideways")
    result = cli("validate")
    assert result.exit_code == 2, result.output
    assert "hubspot.contact.yaml:" in result.output and "handles.x.direction" in result.output


def test_an_unknown_filter_is_an_error_with_file_and_line(own_folder: Path) -> None:
    edit(own_folder / "jira.issue.yaml", "| truncate(200, true) }}\"", "| shorten(200) }}\"")
    result = cli("validate")
    assert result.exit_code == 2, result.output
    assert f"{own_folder / 'jira.issue.yaml'}:" in result.output and "No filter named 'shorten'" in result.output


def test_an_undefined_variable_is_an_error_with_file_and_line(own_folder: Path) -> None:
    edit(own_folder / "slack.message.yaml", "{{ interaction.url }}", "{{ interaction.link }}")
    result = cli("validate")
    assert result.exit_code == 2, result.output
    line = next(line for line in result.output.splitlines() if "slack.message.yaml" in line)
    assert "outbound.notify.fields.text" in line and "link" in line and "notification in slack" in line


def test_plan_lists_the_effects_whose_template_fails(own_folder: Path, loop: Loop,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    edit(own_folder / "jira.issue.yaml", "Kind: {{ interaction.kind }}", "Kind: {{ interaction.kinds }}")
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.create_topic("ann", "bugs", "Export crashes", "The export crashes")
    result = cli("plan")
    assert result.exit_code == 2, result.output
    assert "field description" in result.output and "kinds" in result.output
    assert loop.jira.issues() == []  # a plan writes nothing
