"""Each connector's reference section, generated from the plugin registry when the site is built.

What a plugin declares (summary, capabilities, the Airflow connection form, its config class) and what its
connector module declares (its ``Stream`` objects with their cursor types, ``RATE_LIMITS``) becomes tables.
A plugin whose modules cannot be imported yet (a skeleton) still gets every part the plugin itself holds,
with a line saying what could not be read, so a half-built connector never breaks the build.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from sitegen.schemas import code, literal, text

MARKER = "<!-- continuum:connector -->"
INDEX_MARKER = "<!-- continuum:connectors -->"
HEADING = "Reference (generated from the registry)"


def plugins() -> dict[str, Any]:
    from continuum.kit.registry import plugins as registered

    return registered()


def plugin_modules() -> dict[str, str]:
    """Connector name -> the module its entry point names (where ``RATE_LIMITS`` may live besides the connector)."""
    from importlib.metadata import entry_points

    from continuum.kit.registry import GROUP

    return {point.name: point.module for point in entry_points(group=GROUP)}


def _module(reference: str | None) -> tuple[ModuleType | None, str]:
    """Import the module of a ``module:attribute`` reference; on failure, why (for the page, not a traceback)."""
    if not reference:
        return None, "not declared"
    name = reference.partition(":")[0]
    try:
        return importlib.import_module(name), ""
    except Exception as exc:  # a skeleton's module may not exist yet, or fail on import: say so on the page
        return None, f"`{text(name)}` cannot be imported yet ({text(type(exc).__name__)})"


_MODULE_PATH = re.compile(r"\b(?:[A-Za-z_][A-Za-z0-9_]*\.)+(?=[A-Za-z_])")


def type_name(annotation: object) -> str:
    """``int``, ``str | None``, ``dict[str, Anchor]``: the annotation without module paths."""
    if isinstance(annotation, type):
        return annotation.__name__
    return _MODULE_PATH.sub("", str(annotation))


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        return literal(field.default_factory())
    value = field.default
    return literal(value) if isinstance(value, str | int | float | bool | list | tuple | dict) or value is None \
        else code(value)


def capabilities(plugin: Any) -> list[str]:
    caps = plugin.capabilities
    bulk: Mapping[str, int] = caps.bulk_sizes or {}
    effects = [f"{code(e)} ({bulk[e]} per call)" if e in bulk else code(e) for e in caps.effects]
    return ["| | |", "| --- | --- |",
            f"| connection type | {code(plugin.connection_type)} |",
            f"| default connection id | {code(plugin.default_connection) if plugin.default_connection else '—'} |",
            f"| streams (what it reads) | {', '.join(code(s) for s in caps.streams) or 'none: it only writes'} |",
            f"| effects (what it writes) | {', '.join(effects) or 'none: it only reads'} |",
            f"| simulator | {'yes' if plugin.simulator else 'none yet'} |",
            f"| contract harness | {'yes' if plugin.contract else 'none yet'} |", ""]


def streams(plugin: Any) -> list[str]:
    from continuum.kit.cursors import Stream

    if not plugin.capabilities.streams:
        return []
    lines = ["### Streams and their cursors", ""]
    module, why = _module(plugin.connector)
    found = {s.name: s for s in vars(module).values() if isinstance(s, Stream)} if module else {}
    lines += ["| stream | object type | cursor | cursor fields |", "| --- | --- | --- | --- |"]
    for name in plugin.capabilities.streams:
        stream = found.get(name)
        if stream is None:
            lines.append(f"| {code(name)} | ? | not discoverable | — |")
            continue
        fields = ", ".join(f"{code(f)}: {text(type_name(info.annotation))}"
                           for f, info in stream.cursor.model_fields.items())
        lines.append(f"| {code(name)} | {code(stream.object_type)} | {code(stream.cursor.__name__)} | "
                     f"{fields or '—'} |")
    lines.append("")
    if why:
        lines += [f"The connector module, {why}; the cursor is not discoverable.", ""]
    return lines


def connection_form(plugin: Any) -> list[str]:
    form = plugin.form() if hasattr(plugin, "form") else plugin.connection_form or {}
    behaviour: Mapping[str, Any] = form.get("ui-field-behaviour") or {}
    relabel: Mapping[str, str] = behaviour.get("relabeling") or {}
    placeholders: Mapping[str, str] = behaviour.get("placeholders") or {}
    hidden: Iterable[str] = behaviour.get("hidden-fields") or []
    config_class, _ = _config_class(plugin)
    settings: Mapping[str, str] = getattr(config_class, "connection_fields", {}) if config_class else {}
    lines = ["### Airflow connection form", ""]
    shown = [f for f in ("host", "login", "password", "schema", "port", "extra") if f not in set(hidden)]
    lines += ["| Airflow field | label in the form | placeholder | fills the setting |", "| --- | --- | --- | --- |"]
    for name in shown:
        setting = settings.get(name)
        lines.append(f"| {code(name)} | {text(relabel.get(name, name.capitalize()))} | "
                     f"{text(placeholders[name]) if name in placeholders else '—'} | "
                     f"{code(setting) if setting else '—'} |")
    lines.append("")
    if hidden:
        lines += ["Hidden in the form: " + ", ".join(code(h) for h in hidden) + ".", ""]
    extra: Mapping[str, Any] = form.get("conn-fields") or {}
    if extra:
        lines += ["Extra fields (kept in the connection's *Extra*):", "",
                  "| field | label | type | default | description |", "| --- | --- | --- | --- | --- |"]
        for name, spec in extra.items():
            schema: Mapping[str, Any] = spec.get("schema") or {}
            kinds = schema.get("type")
            kind = " / ".join(literal(v) for v in schema["enum"]) if "enum" in schema else \
                " or ".join(text(k) for k in (kinds if isinstance(kinds, list) else [kinds]) if k) or "any"
            default = literal(schema["default"]) if "default" in schema else "—"
            lines.append(f"| {code(name)} | {text(spec.get('label', name))} | {kind} | {default} | "
                         f"{text(spec.get('description', '')) or '—'} |")
        lines.append("")
    if not form:
        lines += ["The plugin declares no form: Airflow shows its generic connection fields.", ""]
    return lines


def _config_class(plugin: Any) -> tuple[Any, str]:
    module, why = _module(plugin.config)
    if module is None:
        return None, why
    return getattr(module, plugin.config.partition(":")[2], None), ""


def options(plugin: Any) -> list[str]:
    config_class, why = _config_class(plugin)
    lines = ["### Options", ""]
    if config_class is None:
        return [*lines, f"The config class, {why or 'not found'}; its options are not listed.", ""]
    names = sorted(config_class.option_names())
    if not names:
        return [*lines, "No options besides the connection.", ""]
    lines += ["Set under the system's `options:` in the hub config (or in the connection's *Extra*; "
              "the hub config wins). An unknown option is an error.", "",
              "| option | type | default |", "| --- | --- | --- |"]
    for name in names:
        info = config_class.model_fields[name]
        lines.append(f"| {code(name)} | {text(type_name(info.annotation))} | {_default(info)} |")
    return [*lines, ""]


def rate_limits(name: str, plugin: Any, modules: Mapping[str, str]) -> list[str]:
    """``RATE_LIMITS`` from the plugin's or the connector's module: one ``RateLimitHeaders`` or a mapping of them."""
    declared: object = None
    for reference in (f"{modules.get(name, '')}:", plugin.connector):
        module, _ = _module(reference) if reference.partition(":")[0] else (None, "")
        if module is not None and hasattr(module, "RATE_LIMITS"):
            declared = module.RATE_LIMITS
            break
    if declared is None:
        return []
    groups = declared.items() if isinstance(declared, Mapping) else [("", declared)]
    lines = ["### Rate-limit headers", "", "What the connector reads from each response to pace itself "
             "(a spent window ends the run cleanly; the next run resumes from the last committed page).", "",
             "| applies to | header role | header |", "| --- | --- | --- |"]
    for scope, headers in groups:
        fields = dataclasses.asdict(headers) if dataclasses.is_dataclass(headers) and \
            not isinstance(headers, type) else {"headers": headers}
        for role, value in fields.items():
            for header in value if isinstance(value, tuple | list) else [value]:
                if header:
                    lines.append(f"| {text(scope) or 'every call'} | {text(role)} | {code(header)} |")
    return [*lines, ""]


def section(name: str, plugin: Any, modules: Mapping[str, str] | None = None) -> str:
    """The generated part of ``connectors/<name>.md``."""
    lines = [f"## {HEADING}", "", text(plugin.summary), ""]
    lines += capabilities(plugin) + streams(plugin) + connection_form(plugin) + options(plugin)
    lines += rate_limits(name, plugin, plugin_modules() if modules is None else modules)
    return "\n".join(lines)


def index_table(names: Iterable[str], registered: Mapping[str, Any]) -> str:
    """The connectors page's overview: one row per registered connector, linking its page."""
    lines = ["| connector | what it does | reads | writes |", "| --- | --- | --- | --- |"]
    for name in names:
        plugin = registered[name]
        caps = plugin.capabilities
        lines.append(f"| [{text(name)}]({name}.md) | {text(plugin.summary)} | "
                     f"{', '.join(code(s) for s in caps.streams) or '—'} | "
                     f"{', '.join(code(e) for e in caps.effects) or '—'} |")
    return "\n".join(lines)
