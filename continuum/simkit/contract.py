"""Validate recorded simulator traffic against a vendor's official API description.

The descriptions live outside the repository (``../shared/specs`` from the
project root, or ``CONTINUUM_SPECS_DIR``); tests skip when they are absent.
``openapi-core`` is a test dependency, so it is imported lazily.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from continuum.simkit.server import Exchange

HOST = "http://localhost"


def specs_dir() -> Path:
    configured = os.environ.get("CONTINUUM_SPECS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "specs"


@functools.cache
def load_spec(filename: str) -> Any:
    """Load one description as an ``openapi_core.OpenAPI``, served at a neutral host.

    The vendor's ``servers`` (``https://your-domain.atlassian.net``...) are
    replaced in memory only, so any simulator port matches; the file on disk
    is never changed or copied.
    """
    from openapi_core import Config, OpenAPI

    path = specs_dir() / filename
    document = json.loads(path.read_text(encoding="utf-8"))
    document["servers"] = [{"url": HOST}]
    # Vendor documents break their own rules in examples and defaults (see the
    # specs README), so the document itself is not validated; traffic is.
    return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))


@dataclass
class _Request:
    exchange: Exchange

    def __post_init__(self) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(self.exchange.query_string, keep_blank_values=True)),
            header=Headers(self.exchange.request_headers),
            cookie=ImmutableMultiDict(),
        )

    host_url = HOST

    @property
    def path(self) -> str:
        return self.exchange.path

    @property
    def method(self) -> str:
        return self.exchange.method.lower()

    @property
    def body(self) -> bytes | None:
        return self.exchange.request_body or None

    @property
    def content_type(self) -> str:
        return _header(self.exchange.request_headers, "Content-Type", "application/json").lower()


@dataclass
class _Response:
    exchange: Exchange

    @property
    def status_code(self) -> int:
        return self.exchange.status

    @property
    def headers(self) -> dict[str, str]:
        return self.exchange.response_headers

    @property
    def content_type(self) -> str:
        return _header(self.exchange.response_headers, "Content-Type", "application/json").lower()

    @property
    def data(self) -> bytes | None:
        return self.exchange.response_body


def _header(headers: dict[str, str], name: str, default: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return default


def contract_errors(spec_filename: str, exchanges: list[Exchange]) -> list[str]:
    """Every way in which the exchanges break the description, one line each.

    Injected faults are skipped: they are deliberately off-contract.
    """
    return check_exchanges(load_spec(spec_filename), exchanges)


def check_exchanges(openapi: Any, exchanges: list[Exchange],
                    extra_request_checks: Callable[[Exchange], list[str]] | None = None,
                    describe: Callable[[BaseException], str] | None = None) -> list[str]:
    """Validate each non-fault exchange's request and response with an ``openapi_core.OpenAPI``.

    ``extra_request_checks`` adds what openapi-core does not check for a vendor (e.g. fields it
    silently ignores); ``describe`` formats an openapi-core error.
    """
    explain = describe or describe_error
    problems: list[str] = []
    for exchange in exchanges:
        if exchange.fault is not None:
            continue
        request, response = _Request(exchange), _Response(exchange)
        where = f"{exchange.method} {exchange.path}?{exchange.query_string} -> {exchange.status}"
        try:
            openapi.validate_request(request)
        except Exception as exc:  # openapi-core raises a family of errors; report them all alike
            problems.append(f"request  {where}: {explain(exc)}")
        if extra_request_checks is not None:
            problems += [f"request  {where}: {what}" for what in extra_request_checks(exchange)]
        if exchange.status in (204, 304) and not exchange.response_body:
            continue  # HTTP forbids a body here, whatever a description declares
        try:
            openapi.validate_response(request, response)
        except Exception as exc:
            problems.append(f"response {where}: {explain(exc)}")
    return problems


def describe_error(exc: BaseException) -> str:
    """An openapi-core error with the schema errors inside it, one line each."""
    details = [str(exc)]
    for inner in getattr(exc, "schema_errors", None) or []:
        details.append(f"  - {getattr(inner, 'message', inner)} at {list(getattr(inner, 'absolute_path', []))}")
    cause = exc.__cause__
    if cause is not None:
        for inner in getattr(cause, "schema_errors", None) or []:
            details.append(f"  - {getattr(inner, 'message', inner)} at {list(getattr(inner, 'absolute_path', []))}")
    return "\n".join(details)
