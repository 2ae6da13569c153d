"""Apply mapping specs: payload → canonical fields, canonical context → target fields."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

from jinja2 import Template, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from continuum.mapping import simple_templates
from continuum.mapping.spec import FieldSpec, MappingFile
from continuum.mapping.templates import ENVIRONMENT, Escape, outbound_environment


class MappingError(ValueError):
    """One field of one record could not be mapped; ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@functools.lru_cache(maxsize=1024)
def _steps(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def lookup(data: Any, path: str) -> Any:
    """Follow a dotted path through dicts and lists; a missing step gives None."""
    current = data
    for part in _steps(path):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            current = current[index] if -len(current) <= index < len(current) else None
        else:
            return None
        if current is None:
            return None
    return current


@functools.lru_cache(maxsize=512)
def _compiled(env: SandboxedEnvironment, source: str) -> Template:
    return env.from_string(source)


_DATE_WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[+-]\d{2}:?\d{2}")


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC)
    text = str(value).strip()
    if text[-1:] in ("Z", "z"):  # RFC 3339 allows either case; fromisoformat takes neither on a bare date
        text = text[:-1] + "+00:00"
    if _DATE_WITH_OFFSET.fullmatch(text):
        # fromisoformat would read the sign as the date/time separator ("2026-11-22+02:00" as 02:00 UTC):
        # a date with an offset is midnight at that offset.
        text = f"{text[:10]}T00:00:00{text[10:]}"
    moment = datetime.fromisoformat(text)  # offsets with or without a colon (Jira's +0000) since Python 3.11
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check_unicode(text: str) -> None:
    """Lone surrogates (JSON ``\\udXXX`` escapes of broken UTF-16) are not UTF-8, and PostgreSQL text
    cannot hold NUL: such a value would fail the whole page's transaction, so it fails its record."""
    bad = _UNSTORABLE.search(text)
    if bad is not None:
        what = "a NUL character" if bad.group() == "\x00" else f"a lone surrogate U+{ord(bad.group()):04X}"
        raise ValueError(f"not valid Unicode text: {what} at character {bad.start()}")


def _coerce(value: Any, kind: str) -> Any:
    if value is None or kind == "any":
        return value
    if kind == "str":
        if isinstance(value, (dict, list)):
            raise ValueError(f"expected text, got a JSON {'object' if isinstance(value, dict) else 'array'}")
        text = value if isinstance(value, str) else str(value)
        _check_unicode(text)
        return text
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError("expected a whole number, got a boolean")
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("true", "yes", "1"):
                return True
            if lowered in ("false", "no", "0", ""):
                return False
            raise ValueError(f"expected true or false, got {value!r}")
        return bool(value)
    if kind == "datetime":
        return parse_datetime(value)
    if kind == "list":
        return value if isinstance(value, list) else [value]
    raise ValueError(f"unknown type {kind}")


def produce(spec: FieldSpec, name: str, source: Any, context: dict[str, Any], env: SandboxedEnvironment) -> Any:
    """Produce one field's value from a spec, with map, default, type and length checks."""
    try:
        if spec.path is not None:
            value = lookup(source, spec.path)
        elif spec.template is not None:
            value = simple_templates.render(spec.template, context) if env is ENVIRONMENT \
                else simple_templates.FALLBACK
            if value is simple_templates.FALLBACK:
                value = _compiled(env, spec.template).render(**context)
            value = value.strip()
        else:
            value = spec.value
    except UndefinedError as exc:
        raise MappingError(name, f"template names something that is not there: {exc.message}") from None
    except TemplateError as exc:
        raise MappingError(name, f"template failed: {exc}") from None
    if spec.map is not None and value is not None:
        value = spec.map.get(str(value), spec.default if spec.default is not None else value)
    if value is None or value == "":
        value = spec.default
    if value is None:
        if spec.required:
            raise MappingError(name, "required but missing or empty")
        return None
    try:
        value = _coerce(value, spec.type)
    except (TypeError, ValueError) as exc:
        raise MappingError(name, f"expected {spec.type}: {exc}") from None
    if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
        raise MappingError(name, f"{len(value)} characters, more than the {spec.max_length} allowed")
    return value


def map_inbound(mapping: MappingFile, payload: Any, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Canonical fields from one source payload; raises MappingError naming the field."""
    if not isinstance(payload, dict):
        raise MappingError("(record)", f"expected an object, got {type(payload).__name__}")
    ctx = {"record": payload, **(context or {})}
    return {name: produce(spec, name, payload, ctx, ENVIRONMENT) for name, spec in mapping.inbound.items()}


def set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def map_outbound(mapping: MappingFile, action: str, context: dict[str, Any], escape: Escape) -> dict[str, Any]:
    """Target fields for ``action``; template values are escaped for the target's markup."""
    spec = mapping.outbound.get(action)
    if spec is None:
        raise MappingError(f"outbound.{action}", f"{mapping.system}.{mapping.object} mapping has no '{action}' action")
    env = outbound_environment(escape)
    fields: dict[str, Any] = {}
    for name, field_spec in spec.fields.items():
        value = produce(field_spec, name, context, context, env)
        if value is not None:
            set_path(fields, name, value)
    return fields
