"""The receiver's ASGI app (Starlette): ``POST|GET /hooks/<system>`` and ``GET /healthz``.

For each request, in this order: the system must be configured and able to push (404); the body
must fit the limit (413, checked on ``Content-Length`` and again while reading); the system's
verifier judges it (its status and a log line without secrets when it refuses); an accepted
delivery is committed to the inbox BEFORE the answer (200), and one the inbox already holds is a
replay (409).  Nothing is processed here: the event DAG's watcher sees the pending rows
(:mod:`continuum.orchestration.inbox`) and ``continuum inbox process`` takes them in.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from continuum.config import HubConfig
from continuum.kit.webhooks import Accepted, Rejected, Reply, WebhookRequest
from continuum.receiver.endpoints import Endpoint, SecretsMissing, endpoints
from continuum.store.inbox import add_delivery

log = logging.getLogger("continuum.receiver")

DEFAULT_MAX_BODY = 1024 * 1024  # 1 MiB: vendors' deliveries are far smaller (GitHub caps its own at 25 MB)


def max_body_from_env() -> int:
    raw = os.environ.get("CONTINUUM_WEBHOOK_MAX_BODY", "").strip()
    if not raw:
        return DEFAULT_MAX_BODY
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"CONTINUUM_WEBHOOK_MAX_BODY must be a positive number of bytes, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class ReceiverSettings:
    max_body: int = DEFAULT_MAX_BODY
    secrets_ttl_s: float = 60.0
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:  # a chunked body, or a Content-Length that lied
            raise _TooLarge
    return bytes(body)


def _refuse(system: str, status: int, reason: str) -> Response:
    log.warning("webhook %s: refused (%d): %s", system, status, reason)
    return JSONResponse({"error": reason}, status_code=status)


def _commit(db: Engine, system: str, accepted: Accepted, body: bytes) -> bool:
    with db.begin() as conn:
        return add_delivery(conn, system=system, delivery_id=accepted.delivery_id, event_type=accepted.event_type,
                            subjects=accepted.subjects, body=body.decode("utf-8", "replace"), wake=accepted.wake)


def build_app(hub: HubConfig, db: Engine, settings: ReceiverSettings | None = None) -> Starlette:
    settings = settings or ReceiverSettings()
    known: dict[str, Endpoint] = endpoints(hub, settings.secrets_ttl_s)
    for endpoint in known.values():  # read once now: a missing secret is said at start, not at the first delivery
        try:
            endpoint.secrets()
        except SecretsMissing as exc:
            log.warning("webhook: %s; its deliveries are refused (503) until it is set", exc)

    async def hook(request: Request) -> Response:
        system = request.path_params["system"]
        endpoint = known.get(system)
        if endpoint is None:  # the name comes from the URL: shown escaped and short in the log line
            return _refuse(ascii(system[:64]), 404, "no configured system of that name takes webhooks")
        try:
            body = await _read_body(request, settings.max_body)
        except _TooLarge:
            return _refuse(system, 413, f"body over the limit of {settings.max_body} bytes")
        try:
            secrets = await run_in_threadpool(endpoint.secrets)
        except SecretsMissing as exc:
            log.error("webhook: %s", exc)
            return JSONResponse({"error": "webhook secrets are not configured"}, status_code=503)
        incoming = WebhookRequest(request.method, dict(request.headers), body, dict(request.query_params))
        verdict = endpoint.verifier.verify(incoming, secrets, settings.clock())
        if isinstance(verdict, Rejected):
            return _refuse(system, verdict.status, verdict.reason)
        if isinstance(verdict, Reply):
            log.info("webhook %s: handshake answered", system)
            return Response(verdict.body, status_code=verdict.status, media_type=verdict.content_type)
        try:
            stored = await run_in_threadpool(_commit, db, system, verdict, body)
        except SQLAlchemyError as exc:  # never its text: SQLAlchemy's message carries the body as a parameter
            log.error("webhook %s: the store did not commit delivery %s (%s); answered 503, the vendor retries",
                      system, verdict.delivery_id, type(exc).__name__)
            return JSONResponse({"error": "the store is not available"}, status_code=503)
        if not stored:
            return _refuse(system, 409, f"delivery {verdict.delivery_id} was received before (a replay)")
        log.info("webhook %s: committed delivery %s (%s)", system, verdict.delivery_id, verdict.event_type)
        return Response(json.dumps({"ok": True, "delivery": verdict.delivery_id}), status_code=200,
                        media_type="application/json")

    async def health(_request: Request) -> Response:
        return JSONResponse({"ok": True, "systems": sorted(known)})

    return Starlette(routes=[Route("/hooks/{system}", hook, methods=["GET", "POST"]),
                             Route("/healthz", health, methods=["GET"])])
