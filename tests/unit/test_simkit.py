"""The simulator base: routing, fault injection and the exchange log, over real loopback HTTP.

These tests use a plain ``requests.Session`` (no retries) so that every
fault the simulator produces is seen as it is.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from werkzeug.exceptions import BadRequest
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from continuum.simkit import Simulator
from continuum.simkit.server import FAULT_KINDS


class NotesSim(Simulator):
    system = "notes"
    rules = [
        Rule("/notes", methods=["GET"], endpoint="list_notes"),
        Rule("/notes", methods=["POST"], endpoint="create_note"),
        Rule("/notes/<int:note_id>", methods=["GET"], endpoint="get_note"),
        Rule("/other", methods=["GET"], endpoint="other"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[dict[str, object]] = []

    def list_notes(self, request: Request) -> Response:
        return self.json_response({"notes": self.notes, "filler": "x" * 200})

    def create_note(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or "text" not in body:
            raise BadRequest("text is required")
        note = {"id": len(self.notes) + 1, "text": body["text"]}
        self.notes.append(note)
        return self.json_response(note, 201, headers={"Location": f"/notes/{note['id']}"})

    def get_note(self, request: Request, note_id: int) -> Response:
        for note in self.notes:
            if note["id"] == note_id:
                return self.json_response(note)
        return self.json_response({"errorMessages": ["no such note"]}, 404)

    def other(self, request: Request) -> Response:
        return self.json_response({"other": True})


@pytest.fixture
def sim() -> Iterator[NotesSim]:
    simulator = NotesSim()
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    session = requests.Session()  # plain: no retries, so faults are seen as they are
    yield session
    session.close()


# ---------------------------------------------------------------------------
# Lifecycle and routing
# ---------------------------------------------------------------------------

def test_a_simulator_class_can_be_instantiated_many_times(http: requests.Session) -> None:
    """Rules are class attributes; each instance must get its own bound copies."""
    first, second = NotesSim(), NotesSim()
    first.start()
    second.start()
    try:
        assert first.base_url != second.base_url
        http.post(f"{first.base_url}/notes", json={"text": "only in first"})
        assert http.get(f"{first.base_url}/notes").json()["notes"] == [{"id": 1, "text": "only in first"}]
        assert http.get(f"{second.base_url}/notes").json()["notes"] == []
    finally:
        first.stop()
        second.stop()


def test_context_manager_starts_and_stops() -> None:
    with NotesSim() as sim:
        assert sim.base_url.startswith("http://127.0.0.1:")
        assert requests.get(f"{sim.base_url}/notes", timeout=2).status_code == 200
        url = sim.base_url
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/notes", timeout=2)
    assert time.monotonic() - started < 1.0


def test_stop_is_quick(sim: NotesSim) -> None:
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 0.3


def test_routes_dispatch_by_method_and_path(sim: NotesSim, http: requests.Session) -> None:
    created = http.post(f"{sim.base_url}/notes", json={"text": "hello"})
    assert created.status_code == 201
    assert created.headers["Content-Type"] == "application/json"
    assert created.headers["Location"] == "/notes/1"
    assert created.json() == {"id": 1, "text": "hello"}

    assert http.get(f"{sim.base_url}/notes/1").json() == {"id": 1, "text": "hello"}
    assert http.get(f"{sim.base_url}/notes/2").status_code == 404


def test_unknown_route_and_method_answer_json_errors(sim: NotesSim, http: requests.Session) -> None:
    missing = http.get(f"{sim.base_url}/nowhere")
    assert missing.status_code == 404
    assert missing.json() == {"errorMessages": ["no route GET /nowhere"]}

    wrong_method = http.delete(f"{sim.base_url}/notes")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"errorMessages": ["method DELETE not allowed"]}


def test_http_exceptions_from_handlers_become_json(sim: NotesSim, http: requests.Session) -> None:
    response = http.post(f"{sim.base_url}/notes", json={"nope": 1})
    assert response.status_code == 400
    assert response.json() == {"errorMessages": ["text is required"]}


def test_requests_are_served_concurrently(sim: NotesSim, http: requests.Session) -> None:
    sim.inject("latency", path_contains="/other", latency_s=3.0)
    slow = threading.Thread(target=lambda: requests.get(f"{sim.base_url}/other", timeout=10))
    slow.start()
    time.sleep(0.3)  # the slow request arrives and is held
    assert http.get(f"{sim.base_url}/notes").status_code == 200
    assert slow.is_alive()  # answered while the slow one is still held: not queued behind it
    slow.join()


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------

def test_unknown_fault_kinds_are_refused(sim: NotesSim) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        sim.inject("404")
    with pytest.raises(ValueError, match="unknown fault kind"):
        sim.set_fault_rates({"teapot": 0.5})


@pytest.mark.parametrize("kind", ["429", "503"])
def test_throttling_faults_carry_retry_after(sim: NotesSim, http: requests.Session, kind: str) -> None:
    sim.inject(kind, times=2, retry_after="7")

    answers = [http.get(f"{sim.base_url}/notes") for _ in range(3)]

    assert [r.status_code for r in answers] == [int(kind), int(kind), 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[0].json() == {"errorMessages": [f"injected {kind}"]}
    assert sim.faults.injected[kind] == 2


@pytest.mark.parametrize("kind", ["500", "502"])
def test_server_error_faults_have_no_retry_after(sim: NotesSim, http: requests.Session, kind: str) -> None:
    sim.inject(kind)

    response = http.get(f"{sim.base_url}/notes")

    assert response.status_code == int(kind)
    assert "Retry-After" not in response.headers
    assert http.get(f"{sim.base_url}/notes").status_code == 200


def test_faults_are_filtered_by_path_and_method(sim: NotesSim, http: requests.Session) -> None:
    sim.inject("500", path_contains="/notes", method="POST")

    assert http.get(f"{sim.base_url}/notes").status_code == 200  # wrong method
    assert http.get(f"{sim.base_url}/other").status_code == 200  # wrong path
    assert http.post(f"{sim.base_url}/notes", json={"text": "a"}).status_code == 500
    assert http.post(f"{sim.base_url}/notes", json={"text": "a"}).status_code == 201
    assert sim.notes == [{"id": 1, "text": "a"}]  # the faulted POST did not act


def test_a_lower_case_method_filter_matches(sim: NotesSim, http: requests.Session) -> None:
    """HTTP methods are upper case on the wire; ``method="post"`` must still match a POST."""
    sim.inject("500", method="post")

    assert http.get(f"{sim.base_url}/notes").status_code == 200
    assert http.post(f"{sim.base_url}/notes", json={"text": "a"}).status_code == 500
    assert http.post(f"{sim.base_url}/notes", json={"text": "a"}).status_code == 201
    assert len(sim.calls("post", "/notes")) == 1  # the same reading when counting calls


def test_fault_rates_keep_the_faults_queued_with_inject(sim: NotesSim, http: requests.Session) -> None:
    sim.inject("503", times=2, retry_after="0", path_contains="/notes")
    sim.set_paging_faults("repeat", rate=0.25)
    plan = sim.faults

    sim.set_fault_rates({"500": 0.0}, seed=3)

    assert [http.get(f"{sim.base_url}/notes").status_code for _ in range(3)] == [503, 503, 200]
    assert sim.faults is plan, "a test holding sim.faults would watch a plan that no longer acts"
    assert (plan.paging_mode, plan.paging_rate) == ("repeat", 0.25)
    assert plan.injected["503"] == 2


def test_queued_faults_are_used_in_order(sim: NotesSim, http: requests.Session) -> None:
    sim.inject("500")
    sim.inject("429", retry_after="0")

    statuses = [http.get(f"{sim.base_url}/notes").status_code for _ in range(3)]

    assert statuses == [500, 429, 200]


def test_latency_delays_a_normal_answer(sim: NotesSim, http: requests.Session) -> None:
    sim.inject("latency", latency_s=0.3)

    sent = time.time()
    response = http.get(f"{sim.base_url}/notes")
    received = time.time()

    assert response.status_code == 200 and response.json()["notes"] == []
    assert received - sent >= 0.3
    (exchange,) = sim.exchanges
    assert exchange.fault is None  # a slow answer is still an answer: it counts as a call
    assert len(sim.calls()) == 1
    # The log says when the request arrived, not when the delayed answer was ready.
    assert sent - 0.01 <= exchange.at <= sent + 0.1


def test_reset_drops_the_connection_without_acting(sim: NotesSim, http: requests.Session) -> None:
    sim.inject("reset", method="POST")

    with pytest.raises(requests.exceptions.ConnectionError):
        http.post(f"{sim.base_url}/notes", json={"text": "lost"})

    # Recorded before the connection was dropped: no waiting needed.
    (exchange,) = sim.exchanges
    assert exchange.fault == "reset" and exchange.method == "POST"
    assert sim.notes == []
    assert sim.calls() == []
    assert sim.faults.injected["reset"] == 1
    # The server is still fine afterwards.
    assert http.get(f"{sim.base_url}/notes").status_code == 200


def test_malformed_truncates_the_body_of_a_real_answer(sim: NotesSim, http: requests.Session) -> None:
    sim.inject("malformed", method="POST")

    response = http.post(f"{sim.base_url}/notes", json={"text": "half"})

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(ValueError):
        json.loads(response.content)
    full = json.dumps({"id": 1, "text": "half"}).encode()
    assert full.startswith(response.content) and len(response.content) < len(full)
    assert sim.notes == [{"id": 1, "text": "half"}]  # the handler did act
    assert sim.exchanges[0].fault == "malformed"


def test_fault_rates_are_seeded_and_repeatable(http: requests.Session) -> None:
    def pattern(seed: int) -> list[int]:
        with NotesSim() as sim:
            sim.set_fault_rates({"503": 0.5}, seed=seed)
            return [http.get(f"{sim.base_url}/notes").status_code for _ in range(30)]

    first, again, other = pattern(11), pattern(11), pattern(12)

    assert first == again
    assert first != other
    assert set(first) == {200, 503}


def test_fault_rate_of_one_faults_every_call_and_zero_none(sim: NotesSim, http: requests.Session) -> None:
    sim.set_fault_rates({"500": 1.0})
    assert {http.get(f"{sim.base_url}/notes").status_code for _ in range(5)} == {500}
    sim.set_fault_rates({"500": 0.0})
    assert {http.get(f"{sim.base_url}/notes").status_code for _ in range(5)} == {200}


def test_every_fault_kind_is_injectable(sim: NotesSim) -> None:
    for kind in FAULT_KINDS:
        sim.inject(kind, times=0)
    assert [f.kind for f in sim.faults.queued] == list(FAULT_KINDS)


# ---------------------------------------------------------------------------
# The exchange log
# ---------------------------------------------------------------------------

def test_exchanges_record_both_sides(sim: NotesSim, http: requests.Session) -> None:
    http.post(f"{sim.base_url}/notes?notify=false", json={"text": "logged"}, headers={"X-Trace": "t-1"})

    (exchange,) = sim.exchanges
    assert exchange.method == "POST"
    assert exchange.path == "/notes"
    assert exchange.query_string == "notify=false"
    assert exchange.request_headers["X-Trace"] == "t-1"
    assert json.loads(exchange.request_body) == {"text": "logged"}
    assert exchange.status == 201
    assert exchange.response_headers["Location"] == "/notes/1"
    assert json.loads(exchange.response_body) == {"id": 1, "text": "logged"}
    assert exchange.fault is None
    assert abs(exchange.at - time.time()) < 2


def test_calls_leave_out_faults_and_filter(sim: NotesSim, http: requests.Session) -> None:
    sim.inject("429", retry_after="0", method="GET")
    http.get(f"{sim.base_url}/notes")
    http.get(f"{sim.base_url}/notes")
    http.post(f"{sim.base_url}/notes", json={"text": "a"})
    http.get(f"{sim.base_url}/other")

    assert len(sim.exchanges) == 4
    assert len(sim.calls()) == 3
    assert [x.method for x in sim.calls("GET")] == ["GET", "GET"]
    assert [x.path for x in sim.calls(path_contains="/notes")] == ["/notes", "/notes"]
    assert len(sim.calls("POST", "/notes")) == 1


def test_recording_can_be_switched_off(sim: NotesSim, http: requests.Session) -> None:
    sim.record_exchanges = False
    assert http.get(f"{sim.base_url}/notes").status_code == 200
    assert sim.exchanges == []
