"""A base for API simulators: real HTTP on loopback, routing, faults, counting and a log.

A simulator subclasses :class:`Simulator`, declares its routes with
:func:`~continuum.simkit.routes.route` on the handler methods (or as plain
werkzeug ``rules`` whose endpoint is a method name), names the effects it
counts in ``effects``, says who may call it in :meth:`Simulator.authenticate`,
and keeps its state (see :mod:`continuum.simkit.state`) behind ``self.lock``.
Tests and the demo start it in-process with :meth:`start`; ``continuum
simulate`` runs it as a long-lived process.

Every exchange is recorded (:class:`Exchange`) so that contract tests can
validate each request and response against the vendor's API description,
and so that tests count effects on the simulator's side, not ours.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, RuleFactory
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Response

from continuum.simkit.faults import FAULT_KINDS, PAGING_MODES, Fault, FaultPlan, check_kind
from continuum.simkit.request import SimRequest
from continuum.simkit.routes import declared_routes, rules_for

__all__ = ["FAULT_KINDS", "PAGING_MODES", "Exchange", "Fault", "FaultPlan", "Simulator"]


@dataclass
class Exchange:
    """One request and the response the simulator gave to it."""

    method: str
    path: str
    query_string: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    at: float  # time.time() when the request arrived
    fault: str | None = None


class Simulator:
    """Base class: subclasses set ``system``, declare routes and ``effects``, and implement the endpoints."""

    system = "simulator"
    rules: ClassVar[Iterable[RuleFactory]] = ()  # plain werkzeug rules, besides the @route ones
    # The effects :meth:`effect_counts` reports, in this order; "calls" counts every request.
    effects: ClassVar[tuple[str, ...]] = ("calls",)

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults = FaultPlan()
        self.exchanges: list[Exchange] = []
        self.record_exchanges = True
        self._counts: Counter[str] = Counter()  # what the simulator saw happen to it, by effect name
        routes = declared_routes(type(self))
        self._public = {name for name, marks in routes.items() if all(r.public for r in marks)}
        self._url_map = Map(rules_for(routes, self.rules), strict_slashes=False)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- fault knobs ------------------------------------------------------
    def inject(self, kind: str, times: int = 1, path_contains: str = "", method: str | None = None,
               retry_after: str = "1", latency_s: float = 0.5) -> None:
        """Serve ``kind`` to the next ``times`` matching requests (``method`` in any case)."""
        check_kind(kind)
        with self.lock:
            self.faults.queued.append(Fault(kind, times, path_contains, method, retry_after, latency_s))

    def set_fault_rates(self, rates: dict[str, float], seed: int = 7, retry_after: str = "1",
                        latency_s: float = 0.5) -> None:
        """Fault a seeded share of all calls; faults queued with :meth:`inject` are still served first."""
        with self.lock:
            self.faults.set_rates(rates, seed, retry_after, latency_s)

    def set_paging_faults(self, mode: str | None, rate: float = 0.5) -> None:
        """Make list endpoints misbehave between pages (see ``PAGING_MODES``); ``None`` turns it off."""
        with self.lock:
            self.faults.set_paging(mode, rate)

    # -- lifecycle --------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        # One access-log line per request would drown the demo's and the tests' output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        context = self.ssl_context()
        self._server = make_server(host, port, self, threaded=True, ssl_context=context)
        self.base_url = f"{'https' if context else 'http'}://{host}:{self._server.server_port}"
        # A short poll interval: stop() waits for it, and tests stop a simulator each.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sim-{self.system}", daemon=True)
        self._thread.start()
        return self.base_url

    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS for a simulator whose vendor client only speaks HTTPS (None: plain HTTP, the default)."""
        return None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Simulator:
        if not self.base_url:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- for subclasses -----------------------------------------------------
    def authenticate(self, request: SimRequest) -> Response | None:
        """The answer that refuses ``request``, or None to let it in (the default: everyone)."""
        return None

    def count(self, effect: str, times: int = 1) -> None:
        """Count an effect the system saw (one of ``effects``)."""
        if effect not in self.effects:
            raise ValueError(f"{self.system} counts no effect {effect!r}; declared: {', '.join(self.effects)}")
        with self.lock:
            self._counts[effect] += times

    @staticmethod
    def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")

    @staticmethod
    def reject(response: Response) -> NoReturn:
        """Answer ``response`` now, from anywhere inside a handler (a lookup that finds nothing, say)."""
        raise HTTPException(response=response)

    # -- what happened --------------------------------------------------------
    def calls(self, method: str | None = None, path_contains: str = "") -> list[Exchange]:
        """Recorded exchanges that matched a route and got a non-fault answer."""
        wanted = method.upper() if method else None
        with self.lock:
            return [x for x in self.exchanges
                    if x.fault is None and wanted in (None, x.method) and path_contains in x.path]

    def effect_counts(self) -> dict[str, int]:
        """Effects counted here, on the system's side (tests and the demo trust these, not the engine)."""
        with self.lock:
            return {name: self._counts[name] for name in dict.fromkeys((*self.effects, "calls"))}

    # -- WSGI -------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        arrived = time.time()  # when the request came in, not when the (maybe delayed) answer was ready
        with self.lock:
            self._counts["calls"] += 1  # before faults: a faulted call is a call
        request = SimRequest(environ)
        body = request.get_data(cache=True)
        with self.lock:
            fault = self.faults.pick(request.method, request.path)
        response: Response
        if fault is not None and fault.kind == "reset":
            response = Response(b"", status=500)  # never reaches the client: dropped below
        elif fault is not None and fault.kind in ("429", "500", "502", "503"):
            headers = {"Retry-After": fault.retry_after} if fault.kind in ("429", "503") else {}
            response = self.json_response({"errorMessages": [f"injected {fault.kind}"]}, int(fault.kind), headers)
        else:
            if fault is not None and fault.kind == "latency":
                time.sleep(fault.latency_s)
            response = self._dispatch(request)
            if fault is not None and fault.kind == "timeout":
                time.sleep(fault.latency_s)  # done, but answered too late
            if fault is not None and fault.kind == "malformed":
                data = response.get_data()
                response.set_data(data[: max(1, len(data) // 2)])
        if self.record_exchanges:
            self._record(request, body, response, fault.kind if fault and fault.kind not in ("latency", "timeout")
                         else None, arrived)
        if fault is not None and fault.kind == "reset":
            # Only after recording: whoever sees the dropped connection also finds it in the log.
            self._drop_connection(environ)
        return response(environ, start_response)

    def _dispatch(self, request: SimRequest) -> Response:
        adapter = self._url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
            handler = getattr(self, str(endpoint))
            with self.lock:
                refused = None if endpoint in self._public else self.authenticate(request)
                if refused is not None:
                    return refused
                return handler(request, **args)  # type: ignore[no-any-return]
        except NotFound:
            return self.json_response({"errorMessages": [f"no route {request.method} {request.path}"]}, 404)
        except MethodNotAllowed:
            return self.json_response({"errorMessages": [f"method {request.method} not allowed"]}, 405)
        except HTTPException as exc:
            if exc.response is not None:
                return exc.response  # type: ignore[return-value]
            return self.json_response({"errorMessages": [exc.description or str(exc)]}, exc.code or 500)

    def _record(self, request: SimRequest, body: bytes, response: Response, fault: str | None, at: float) -> None:
        exchange = Exchange(
            method=request.method,
            path=request.path,
            query_string=request.query_string.decode("latin-1"),
            request_headers=dict(request.headers.items()),
            request_body=body,
            status=response.status_code,
            response_headers=dict(response.headers.items()),
            response_body=response.get_data(),
            at=at,
            fault=fault,
        )
        with self.lock:
            self.exchanges.append(exchange)

    @staticmethod
    def _drop_connection(environ: dict[str, Any]) -> None:
        """Close the socket without an answer: the client sees a dropped connection."""
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
