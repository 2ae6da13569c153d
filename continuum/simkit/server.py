"""A base for API simulators: real HTTP on loopback, routing, faults, and a log.

A simulator subclasses :class:`Simulator`, declares ``rules`` (werkzeug URL
rules whose endpoint is a method name) and keeps its state behind
``self.lock``.  Tests and the demo start it in-process with :meth:`start`;
``continuum simulate`` runs it as a long-lived process.

Every exchange is recorded (:class:`Exchange`) so that contract tests can
validate each request and response against the vendor's API description,
and so that tests count effects on the simulator's side, not ours.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

# "timeout": the request is served, but the answer comes only after ``latency_s`` (a client
# with a shorter read timeout gives up on a request that did happen).
FAULT_KINDS = ("429", "500", "502", "503", "latency", "timeout", "reset", "malformed")
# Pagination faults, served by the simulators' list endpoints: "repeat" serves the next page
# starting a few items early; "shift" changes the list between two pages, as a concurrent edit would.
PAGING_MODES = ("repeat", "shift")


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


@dataclass
class Fault:
    kind: str
    remaining: int = 1
    path_contains: str = ""
    method: str | None = None
    retry_after: str = "1"
    latency_s: float = 0.5


@dataclass
class FaultPlan:
    """Queued faults (exactly N times) plus random rates (a seeded share of calls)."""

    queued: list[Fault] = field(default_factory=list)
    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 7
    retry_after: str = "1"
    latency_s: float = 0.5
    injected: Counter[str] = field(default_factory=Counter)
    paging_mode: str | None = None
    paging_rate: float = 0.0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def pick(self, method: str, path: str) -> Fault | None:
        for fault in self.queued:
            if fault.remaining > 0 and fault.path_contains in path and (fault.method in (None, method)):
                fault.remaining -= 1
                return fault
        for kind, rate in self.rates.items():
            if rate > 0 and self._random.random() < rate:
                return Fault(kind=kind, retry_after=self.retry_after, latency_s=self.latency_s)
        return None

    def paging_fault(self) -> str | None:
        """The pagination fault to serve on this next-page request, if any (counted as injected)."""
        if self.paging_mode and self.paging_rate > 0 and self._random.random() < self.paging_rate:
            self.injected[f"paging_{self.paging_mode}"] += 1
            return self.paging_mode
        return None


class Simulator:
    """Base class: subclasses set ``system`` and ``rules`` and implement the endpoints."""

    system = "simulator"
    rules: Iterable[Rule] = ()

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults = FaultPlan()
        self.exchanges: list[Exchange] = []
        self.record_exchanges = True
        # What the simulator saw happen to it, by name; subclasses add their own effect names.
        self._counts: dict[str, int] = {"calls": 0}
        # Rules are class attributes and a werkzeug Rule binds to one Map only:
        # give each instance fresh copies, or a second simulator cannot be built.
        self._url_map = Map([r.empty() if isinstance(r, Rule) else r for r in self.rules], strict_slashes=False)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- fault knobs ------------------------------------------------------
    def inject(self, kind: str, times: int = 1, path_contains: str = "", method: str | None = None,
               retry_after: str = "1", latency_s: float = 0.5) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self.lock:
            self.faults.queued.append(Fault(kind, times, path_contains, method, retry_after, latency_s))

    def set_fault_rates(self, rates: dict[str, float], seed: int = 7, retry_after: str = "1",
                        latency_s: float = 0.5) -> None:
        for kind in rates:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}")
        with self.lock:
            paging = (self.faults.paging_mode, self.faults.paging_rate)
            self.faults = FaultPlan(rates=dict(rates), seed=seed, retry_after=retry_after, latency_s=latency_s)
            self.faults.paging_mode, self.faults.paging_rate = paging

    def set_paging_faults(self, mode: str | None, rate: float = 0.5) -> None:
        """Make list endpoints misbehave between pages (see ``PAGING_MODES``); ``None`` turns it off."""
        if mode is not None and mode not in PAGING_MODES:
            raise ValueError(f"unknown paging mode {mode!r}; known: {', '.join(PAGING_MODES)}")
        with self.lock:
            self.faults.paging_mode, self.faults.paging_rate = mode, rate

    # -- lifecycle --------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        # One access-log line per request would drown the demo's and the tests' output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = make_server(host, port, self, threaded=True)
        self.base_url = f"http://{host}:{self._server.server_port}"
        # A short poll interval: stop() waits for it, and tests stop a simulator each.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sim-{self.system}", daemon=True)
        self._thread.start()
        return self.base_url

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

    # -- helpers for subclasses ---------------------------------------------
    @staticmethod
    def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")

    def calls(self, method: str | None = None, path_contains: str = "") -> list[Exchange]:
        """Recorded exchanges that matched a route and got a non-fault answer."""
        with self.lock:
            return [
                x for x in self.exchanges
                if x.fault is None and (method is None or x.method == method) and path_contains in x.path
            ]

    # -- WSGI -------------------------------------------------------------
    def effect_counts(self) -> dict[str, int]:
        """Effects counted here, on the system's side (tests and the demo trust these, not the engine)."""
        with self.lock:
            return dict(self._counts)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        arrived = time.time()  # when the request came in, not when the (maybe delayed) answer was ready
        with self.lock:
            self._counts["calls"] = self._counts.get("calls", 0) + 1  # before faults: a faulted call is a call
        request = Request(environ)
        body = request.get_data(cache=True)
        with self.lock:
            fault = self.faults.pick(request.method, request.path)
            if fault is not None:
                self.faults.injected[fault.kind] += 1
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

    def _dispatch(self, request: Request) -> Response:
        adapter = self._url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
            handler = getattr(self, str(endpoint))
            with self.lock:
                return handler(request, **args)  # type: ignore[no-any-return]
        except NotFound:
            return self.json_response({"errorMessages": [f"no route {request.method} {request.path}"]}, 404)
        except MethodNotAllowed:
            return self.json_response({"errorMessages": [f"method {request.method} not allowed"]}, 405)
        except HTTPException as exc:
            return self.json_response({"errorMessages": [exc.description or str(exc)]}, exc.code or 500)

    def _record(self, request: Request, body: bytes, response: Response, fault: str | None, at: float) -> None:
        exchange = Exchange(
            method=request.method,
            path=request.path,
            query_string=request.query_string.decode("latin-1"),
            request_headers={k: v for k, v in request.headers.items()},
            request_body=body,
            status=response.status_code,
            response_headers={k: v for k, v in response.headers.items()},
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
