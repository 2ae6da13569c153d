"""Declared routes, authentication, early answers, effect counting and request readings, over loopback HTTP."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import requests
from werkzeug.wrappers import Response

from continuum.simkit import SimRequest, Simulator, route, under

KEY = "let-me-in"
v1 = under("/api/v1")


class GuardedSim(Simulator):
    system = "guarded"
    effects = ("created", "calls", "deleted")

    def __init__(self) -> None:
        super().__init__()
        self.things: dict[int, str] = {}

    def authenticate(self, request: SimRequest) -> Response | None:
        if request.headers.get("X-Key") != KEY:
            return self.json_response({"message": "who are you?"}, 401)
        return None

    @route("/health", public=True)
    def health(self, request: SimRequest) -> Response:
        return self.json_response({"up": True})

    @v1("/version", public=True)
    def version(self, request: SimRequest) -> Response:
        return self.json_response({"version": 1})

    @route("/things")
    def list_things(self, request: SimRequest) -> Response:
        return self.json_response(sorted(self.things))

    @route("/things", "post")  # methods in any case
    def add_thing(self, request: SimRequest) -> Response:
        thing_id = len(self.things) + 1
        self.things[thing_id] = str(request.params.get("name") or "")
        self.count("created")
        return self.json_response({"id": thing_id}, 201)

    @route("/things/<int:thing_id>", "GET", "DELETE")
    def one_thing(self, request: SimRequest, thing_id: int) -> Response:
        name = self._require(thing_id)
        if request.method == "DELETE":
            del self.things[thing_id]
            self.count("deleted")
        return self.json_response({"id": thing_id, "name": name})

    @route("/echo", "GET", "POST")
    def echo(self, request: SimRequest) -> Response:
        return self.json_response({"params": request.params, "json": request.json_body,
                                   "bearer": request.bearer_token(), "basic": request.basic_credentials()})

    def _require(self, thing_id: int) -> str:
        return self.things.get(thing_id) or self.reject(self.json_response({"message": "no such thing"}, 404))


class LouderSim(GuardedSim):
    """Overrides a handler without repeating its route: the route still leads to the override."""

    def list_things(self, request: SimRequest) -> Response:
        return self.json_response({"things": sorted(self.things)})


@pytest.fixture
def sim() -> Iterator[GuardedSim]:
    with GuardedSim() as simulator:
        yield simulator


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["X-Key"] = KEY
        yield session


def test_authenticate_guards_every_route_but_public_ones(sim: GuardedSim) -> None:
    refused = requests.get(f"{sim.base_url}/things", timeout=5)
    assert refused.status_code == 401 and refused.json() == {"message": "who are you?"}
    assert requests.post(f"{sim.base_url}/things", data={"name": "x"}, timeout=5).status_code == 401
    assert sim.things == {} and sim.effect_counts()["created"] == 0  # refused before the handler ran
    assert requests.get(f"{sim.base_url}/health", timeout=5).json() == {"up": True}
    assert requests.get(f"{sim.base_url}/api/v1/version", timeout=5).json() == {"version": 1}  # under a prefix
    # Routing comes first: an unknown path is a 404 even without credentials.
    assert requests.get(f"{sim.base_url}/nowhere", timeout=5).status_code == 404


def test_declared_routes_dispatch_by_method(sim: GuardedSim, http: requests.Session) -> None:
    assert http.post(f"{sim.base_url}/things", data={"name": "lamp"}, timeout=5).json() == {"id": 1}
    assert http.get(f"{sim.base_url}/things", timeout=5).json() == [1]
    assert http.get(f"{sim.base_url}/things/1", timeout=5).json() == {"id": 1, "name": "lamp"}
    assert http.delete(f"{sim.base_url}/things/1", timeout=5).status_code == 200
    assert http.put(f"{sim.base_url}/things", timeout=5).status_code == 405


def test_reject_answers_early_with_the_given_response(sim: GuardedSim, http: requests.Session) -> None:
    missing = http.get(f"{sim.base_url}/things/42", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"message": "no such thing"}


def test_an_override_keeps_the_route_of_the_method_it_replaces(http: requests.Session) -> None:
    with LouderSim() as sim:
        http.post(f"{sim.base_url}/things", data={"name": "a"}, timeout=5)
        assert http.get(f"{sim.base_url}/things", timeout=5).json() == {"things": [1]}
        assert http.get(f"{sim.base_url}/things/1", timeout=5).status_code == 200  # inherited untouched


def test_effects_are_counted_by_declared_name_in_declared_order(sim: GuardedSim, http: requests.Session) -> None:
    http.post(f"{sim.base_url}/things", data={"name": "a"}, timeout=5)
    http.delete(f"{sim.base_url}/things/1", timeout=5)
    assert list(sim.effect_counts().items()) == [("created", 1), ("calls", 2), ("deleted", 1)]
    with pytest.raises(ValueError, match="counts no effect 'updated'"):
        sim.count("updated")


def test_calls_are_counted_even_when_not_declared() -> None:
    class Bare(Simulator):
        effects = ("created",)

    assert Bare().effect_counts() == {"created": 0, "calls": 0}


def test_params_merge_the_query_with_a_form_or_a_json_object(sim: GuardedSim, http: requests.Session) -> None:
    form = http.post(f"{sim.base_url}/echo?a=1&b=query", data={"b": "form", "c": "3"}, timeout=5).json()
    assert form["params"] == {"a": "1", "b": "form", "c": "3"} and form["json"] is None
    posted = http.post(f"{sim.base_url}/echo?a=1", json={"b": [1, 2]}, timeout=5).json()
    assert posted["params"] == {"a": "1", "b": [1, 2]} and posted["json"] == {"b": [1, 2]}
    listed = http.post(f"{sim.base_url}/echo?a=1", json=[1, 2], timeout=5).json()
    assert listed["params"] == {"a": "1"} and listed["json"] == [1, 2]
    # json_body reads JSON whatever the Content-Type says, as vendors that ignore it do.
    untyped = http.post(f"{sim.base_url}/echo", data=b'{"x": 1}', headers={"Content-Type": "text/plain"}, timeout=5)
    assert untyped.json()["json"] == {"x": 1}


@pytest.mark.parametrize(("header", "bearer", "basic"), [
    ("Bearer tok-1", "tok-1", None),
    ("bearer  tok-2 ", "tok-2", None),
    ("Basic " + base64.b64encode(b"me@example.com:pa:ss").decode(), None, ["me@example.com", "pa:ss"]),
    ("Basic " + base64.b64encode(b"no-colon").decode(), None, None),
    ("Basic !!!not-base64", None, None),
    ("Token abc", None, None),
])
def test_credentials_are_read_from_the_authorization_header(sim: GuardedSim, http: requests.Session, header: str,
                                                            bearer: str | None, basic: list[str] | None) -> None:
    body = http.get(f"{sim.base_url}/echo", headers={"Authorization": header}, timeout=5).json()
    assert (body["bearer"], body["basic"]) == (bearer, basic)
