"""The Jinja2 environment for mapping templates.

Templates are written by users, so they run sandboxed.  Every ``{{ value }}``
passes through the target system's escape function (``finalize``), so
customer text is made inert for the markup it lands in while the template's
own literal text stays as written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, Undefined
from jinja2.sandbox import SandboxedEnvironment

Escape = Callable[[str], str]


def _identity(text: str) -> str:
    return text


def _environment(undefined: type[Undefined], escape: Escape) -> SandboxedEnvironment:
    def finalize(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, Undefined):
            return str(value)  # "" when lenient; StrictUndefined raises here and names the missing value
        return escape(value if isinstance(value, str) else str(value))

    env = SandboxedEnvironment(
        undefined=undefined, finalize=finalize, autoescape=False, keep_trailing_newline=False,
        trim_blocks=True, lstrip_blocks=True,
    )
    return env


# For parsing at load time and for inbound rendering (payloads vary; missing keys are empty).
ENVIRONMENT = _environment(ChainableUndefined, _identity)
_outbound_cache: dict[Escape, SandboxedEnvironment] = {}


def outbound_environment(escape: Escape) -> SandboxedEnvironment:
    """Strict about names (a typo in a template is an error, not an empty field)."""
    env = _outbound_cache.get(escape)
    if env is None:
        env = _outbound_cache[escape] = _environment(StrictUndefined, escape)
    return env
