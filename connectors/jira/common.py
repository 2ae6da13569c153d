"""Small pieces shared by the Jira connector's modules: errors, times, JQL quoting."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import jira

from continuum.connector import Effect, EffectResult

_OFFSET_WITHOUT_COLON = re.compile(r"([+-]\d{2})(\d{2})$")


class EffectError(Exception):
    """One effect cannot be applied; reported as ``ok=False``, never raised to the engine."""


class JiraCheckError(RuntimeError):
    """``check()`` could not reach Jira with the configured credentials."""


def parse_jira_time(value: str) -> datetime:
    """Parse Jira's ``2026-11-22T10:00:00.000+0000`` (and plain ISO-8601) into an aware datetime."""
    text = _OFFSET_WITHOUT_COLON.sub(r"\1:\2", value.strip().replace("Z", "+00:00"))
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def jql_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, jira.JIRAError):
        return f"HTTP {exc.status_code}: {exc.text or 'no details'}"
    return f"{type(exc).__name__}: {exc}"


def failed(effect: Effect, detail: str) -> EffectResult:
    prefix = f"effect {effect.key} ({effect.action} {effect.object_type})"
    return EffectResult(key=effect.key, ok=False, error=detail if detail.startswith(prefix) else f"{prefix}: {detail}")
