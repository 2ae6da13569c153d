"""Mapping files: validation errors name file, line and field; values are produced and escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from continuum.config import HubConfig
from continuum.mapping import ConfigError, MappingError, MappingFile, load_mapping, map_inbound, map_outbound
from continuum.mapping.yamlfile import validate_file


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_unknown_canonical_field_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.post.yaml", "system: x\nobject: post\ninbound:\n  text: {path: raw}\n"
                                          "  txet: {path: raw}\n")
    with pytest.raises(ConfigError) as err:
        validate_file(MappingFile, path)
    message = str(err.value)
    assert f"{path}:3: inbound" in message and "txet" in message


def test_a_bad_field_spec_names_its_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "x.post.yaml", "system: x\nobject: post\ninbound:\n  text: {path: raw}\n"
                                          "  title:\n    path: a\n    template: b\n")
    with pytest.raises(ConfigError) as err:
        validate_file(MappingFile, path)
    assert f"{path}:5: inbound.title" in str(err.value)
    assert "only one of path, template or value" in str(err.value)


def test_a_template_that_does_not_compile_is_caught_on_load(tmp_path: Path) -> None:
    path = write(tmp_path, "x.post.yaml", "system: x\nobject: post\noutbound:\n  reply:\n    fields:\n"
                                          "      raw: {template: '{{ oops '}\n")
    with pytest.raises(ConfigError) as err:
        validate_file(MappingFile, path)
    assert f"{path}:6: outbound.reply.fields.raw.template" in str(err.value)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.post.yaml", "system: x\nobject: [post\n")
    with pytest.raises(ConfigError) as err:
        validate_file(MappingFile, path)
    assert str(path) in str(err.value) and "not valid YAML" in str(err.value)


def test_hub_config_rejects_a_pipeline_naming_an_unknown_system(tmp_path: Path) -> None:
    path = write(tmp_path, "continuum.yaml", "systems:\n  a: {connector: a, connection: c}\npipelines:\n"
                                             "  p:\n    sources: [{system: b, stream: s, mapping: m.yaml}]\n")
    with pytest.raises(ConfigError) as err:
        validate_file(HubConfig, path)
    assert "names system 'b'" in str(err.value) and f"{path}:" in str(err.value)


def test_shipped_mappings_and_config_are_valid() -> None:
    for name in ("discourse.post.yaml", "jira.issue.yaml", "jira.comment.yaml"):
        assert load_mapping(name).inbound


def test_inbound_paths_maps_types_and_required_fields(tmp_path: Path) -> None:
    mapping = validate_file(MappingFile, write(tmp_path, "m.yaml", """
system: x
object: post
inbound:
  text: {path: body.raw, type: str, required: true, max_length: 10}
  kind: {path: cat, map: {5: feature_request}, default: unknown}
  created_at: {path: at, type: datetime}
  thread_id: {path: items.1.id, type: str}
"""))
    out = map_inbound(mapping, {"body": {"raw": "hello"}, "cat": 5, "at": "2026-11-22T10:00:00.000+0000",
                                "items": [{"id": 1}, {"id": 2}]})
    assert out["text"] == "hello" and out["kind"] == "feature_request" and out["thread_id"] == "2"
    assert out["created_at"].isoformat() == "2026-11-22T10:00:00+00:00"
    assert map_inbound(mapping, {"body": {"raw": "x"}, "cat": 9})["kind"] == "unknown"
    with pytest.raises(MappingError) as err:
        map_inbound(mapping, {"body": {"raw": "much too long text"}})
    assert err.value.field == "text" and "10 allowed" in err.value.message
    with pytest.raises(MappingError) as err:
        map_inbound(mapping, {"body": {}})
    assert err.value.field == "text" and "required" in err.value.message
    with pytest.raises(MappingError) as err:
        map_inbound(mapping, {"body": {"raw": "x"}, "at": "yesterday"})
    assert err.value.field == "created_at"


def test_outbound_escapes_values_but_not_the_template_text(tmp_path: Path) -> None:
    mapping = validate_file(MappingFile, write(tmp_path, "m.yaml", """
system: x
object: issue
outbound:
  create:
    fields:
      project.key: {value: PROD}
      body: {template: "<b>From</b> {{ customer.name }}: {{ interaction.text }}"}
"""))
    escape = lambda text: text.replace("<", "&lt;").replace(">", "&gt;")  # noqa: E731
    fields = map_outbound(mapping, "create", {"customer": {"name": "<i>Eve</i>"},
                                              "interaction": {"text": "<script>alert(1)</script>"}}, escape)
    assert fields == {"project": {"key": "PROD"},
                      "body": "<b>From</b> &lt;i&gt;Eve&lt;/i&gt;: &lt;script&gt;alert(1)&lt;/script&gt;"}


def test_outbound_template_naming_a_missing_value_is_a_mapping_error(tmp_path: Path) -> None:
    mapping = validate_file(MappingFile, write(tmp_path, "m.yaml", """
system: x
object: issue
outbound:
  create:
    fields:
      summary: {template: "{{ interaction.titel }}"}
"""))
    with pytest.raises(MappingError) as err:
        map_outbound(mapping, "create", {"interaction": {"title": "t"}}, str)
    assert err.value.field == "summary"


def test_templates_are_sandboxed(tmp_path: Path) -> None:
    mapping = validate_file(MappingFile, write(tmp_path, "m.yaml", """
system: x
object: issue
outbound:
  create:
    fields:
      summary: {template: "{{ interaction.__class__.__mro__ }}"}
"""))
    with pytest.raises(MappingError):
        map_outbound(mapping, "create", {"interaction": {"title": "t"}}, str)
