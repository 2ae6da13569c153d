"""HubspotSimulator: an in-memory HubSpot CRM v3 (contacts, notes, tickets and their associations).

It serves what the connector uses: listing one object (the token check), search with filters, one sort and
``after`` paging, single and batch create/read/update/archive, and the v4 associations batch read.  Responses have the
shapes of the official ``hubspot-api-client`` models (``simcontract`` loads each one into its model): HubSpot
publishes no description we may use.  Anything else is a 404, so a new call in the connector shows up as a
failing test.  Staff helpers change state as people would in HubSpot's app (a contact edited, a note on a
ticket, a ticket closed)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.hubspot.plugin import SIM_TOKEN
from continuum.simkit import Clock, Response, SimRequest, Simulator, Table, route, window

JSON = dict[str, Any]
OBJECT = "/crm/v3/objects/<any(contacts,notes,tickets):kind>"
STAMP = {"contacts": "lastmodifieddate"}  # the other objects' is hs_lastmodifieddate
DATES = frozenset({"lastmodifieddate", "hs_lastmodifieddate", "createdate", "hs_timestamp"})
DEFAULTS = {"contacts": ("createdate", "email", "firstname", "lastname", "hs_object_id", "lastmodifieddate"),
            "notes": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
            "tickets": ("createdate", "hs_lastmodifieddate", "hs_object_id", "hs_pipeline", "hs_pipeline_stage",
                        "subject", "content", "hs_ticket_priority")}
MAX_INPUTS, MAX_IN = 100, 100


@dataclass
class SimObject:
    id: int
    kind: str
    properties: dict[str, str]
    created: datetime
    updated: datetime
    by_hub: bool = True
    associations: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # kind -> {(id, type id)}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ms(value: str) -> int | None:
    if value.isdigit():
        return int(value)
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


class HubspotSimulator(Simulator):
    system = "hubspot"
    effects = ("contacts_created", "contacts_updated", "notes", "tickets", "tickets_updated", "archived", "calls")
    accounts: ClassVar[tuple[JSON, ...]] = (
        {"role": "hub", "headers": {"Authorization": f"Bearer {SIM_TOKEN}"}, "does": "the hub's private app"},)
    _ASSOC = {(16, "tickets"): "contacts", (202, "notes"): "contacts", (228, "notes"): "tickets"}

    daily_limit = 250000  # calls a day (tests lower it to spend the day)

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__()
        self.clock = clock or Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
        self._objects: Table[int, SimObject] = Table("object", first_id=5101)
        self._used_today = 0

    # -- people's side --------------------------------------------------------------
    def add_contact(self, email: str | None = None, firstname: str = "", lastname: str = "", **more: str) -> str:
        with self.lock:
            props = {"email": email or "", "firstname": firstname, "lastname": lastname, **more}
            return str(self._add("contacts", {k: v for k, v in props.items() if v}, by_hub=False).id)

    def import_contacts(self, emails: Sequence[str]) -> list[str]:
        """A CSV import in HubSpot's app: every contact made at one and the same moment."""
        with self.lock:
            made = [self._add("contacts", {"email": email}, by_hub=False) for email in emails]
            moment = made[-1].updated if made else self.clock.now()
            for obj in made:
                obj.created = obj.updated = moment
                obj.properties["createdate"] = iso(moment)
                self._stamp(obj)
            return [str(obj.id) for obj in made]

    def edit_contact(self, contact_id: str, **props: str) -> None:
        with self.lock:
            self._edit(self._objects[int(contact_id)], props)

    def staff_note(self, ticket_id: str, text: str) -> str:
        """A note a person adds to a ticket in HubSpot's app."""
        with self.lock:
            note = self._add("notes", {"hs_note_body": f"<p>{text}</p>", "hs_timestamp": iso(self.clock.now())},
                             by_hub=False)
            self._associate(note, "tickets", int(ticket_id), 228)
            return str(note.id)

    def close_ticket(self, ticket_id: str) -> None:
        with self.lock:
            self._edit(self._objects[int(ticket_id)], {"hs_pipeline_stage": "4"})

    # The demo's staff (continuum.demo.story), as on every ticket desk's simulator.
    def staff_answer(self, number: str, text: str, public: bool = True) -> None:
        self.staff_note(number, f"Reply: {text}" if public else text)

    def staff_resolve(self, number: str) -> None:
        self.close_ticket(number)

    def staff_ship(self, number: str) -> None:
        self.close_ticket(number)

    def objects(self, kind: str) -> list[JSON]:
        with self.lock:
            return [{**self._render(o, None), "associations": {k: sorted(v) for k, v in o.associations.items()}}
                    for o in self._objects.values() if o.kind == kind]

    def raw_property(self, object_id: str, name: str) -> str | None:
        with self.lock:
            return self._objects[int(object_id)].properties.get(name)

    # -- plumbing -------------------------------------------------------------------
    def _add(self, kind: str, props: dict[str, str], by_hub: bool = True) -> SimObject:
        now = self.clock.now()
        obj = self._objects.add(SimObject(self._objects.next_id(), kind, dict(props), now, now, by_hub))
        obj.properties.update({"hs_object_id": str(obj.id), "createdate": iso(now)})
        self._stamp(obj)
        return obj

    def _edit(self, obj: SimObject, props: dict[str, str]) -> None:
        obj.properties.update(props)
        obj.updated = self.clock.now()
        self._stamp(obj)

    def _stamp(self, obj: SimObject) -> None:
        obj.properties[STAMP.get(obj.kind, "hs_lastmodifieddate")] = iso(obj.updated)
        obj.properties["hs_lastmodifieddate"] = iso(obj.updated)

    def _associate(self, obj: SimObject, kind: str, other: int, type_id: int) -> None:
        target = self._objects.get(other)
        if target is None or target.kind != kind:
            self.reject(self._error(400, f"{kind[:-1]} {other} does not exist", "VALIDATION_ERROR"))
        obj.associations.setdefault(kind, set()).add((other, type_id))
        target.associations.setdefault(obj.kind, set()).add((obj.id, type_id))

    def _render(self, obj: SimObject, wanted: Sequence[str] | None, written: Sequence[str] = ()) -> JSON:
        """HubSpot's SimplePublicObject: the properties asked for (null when unset), always the id, creation
        and last-change stamps; without a list, the object type's default properties."""
        stamp = STAMP.get(obj.kind, "hs_lastmodifieddate")
        if wanted is None:
            # A create or update answers with the defaults and every property it was given.
            props: dict[str, str | None] = {n: obj.properties[n] for n in (*DEFAULTS[obj.kind], *written)
                                            if n in obj.properties}
        else:
            props = {n: obj.properties.get(n) for n in dict.fromkeys([*wanted, "hs_object_id", "createdate", stamp])}
        return {"id": str(obj.id), "properties": props, "createdAt": iso(obj.created), "updatedAt": iso(obj.updated),
                "archived": False}

    def _error(self, status: int, message: str, category: str) -> Response:
        return self.json_response({"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
                                   "category": category}, status)

    def _body(self, request: SimRequest) -> JSON:
        body = request.json_body
        return body if isinstance(body, dict) else self.reject(
            self._error(400, "Invalid input JSON on line 1", "VALIDATION_ERROR"))

    def _properties(self, body: JSON) -> dict[str, str]:
        props = body.get("properties")
        scalar = (str, int, float, bool, type(None))
        if not isinstance(props, dict) or not all(isinstance(v, scalar) for v in props.values()):
            self.reject(self._error(400, "Invalid input JSON: 'properties' must map names to values",
                                    "VALIDATION_ERROR"))
        return {str(k): "" if v is None else str(v) for k, v in props.items()}

    def _inputs(self, body: JSON) -> list[JSON]:
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs) or len(inputs) > MAX_INPUTS:
            self.reject(self._error(400, f"'inputs' must be a list of at most {MAX_INPUTS} objects",
                                    "VALIDATION_ERROR"))
        return inputs

    def _one(self, kind: str, object_id: str) -> SimObject:
        obj = self._objects.get(int(object_id)) if object_id.isdigit() else None
        if obj is None or obj.kind != kind:
            self.reject(self.json_response({"status": "error", "message": "resource not found",
                                            "correlationId": str(uuid.uuid4()), "category": "OBJECT_NOT_FOUND"}, 404))
        return obj

    def _create(self, kind: str, body: JSON) -> SimObject:
        props = self._properties(body)
        if kind == "contacts" and props.get("email"):
            twin = self._objects.find(lambda o: o.kind == "contacts" and o.properties.get("email") == props["email"])
            if twin is not None:
                self.reject(self._error(409, f"Contact already exists. Existing ID: {twin.id}", "CONFLICT"))
        if kind == "tickets" and not props.get("subject", "").strip():
            self.reject(self._error(400, "Property values were not valid: subject is required", "VALIDATION_ERROR"))
        pending = []
        for link in body.get("associations") or []:
            other = str((link.get("to") or {}).get("id") or "")
            for kind_type in link.get("types") or []:
                type_id = int(kind_type.get("associationTypeId") or 0)
                target = self._ASSOC.get((type_id, kind))
                if target is None or not other.isdigit():
                    self.reject(self._error(400, f"association type {type_id} is not valid from {kind}",
                                            "VALIDATION_ERROR"))
                pending.append((target, int(other), type_id))
        for target, object_id, _ in pending:
            found = self._objects.get(object_id)
            if found is None or found.kind != target:
                self.reject(self._error(400, f"{target[:-1]} {object_id} does not exist", "VALIDATION_ERROR"))
        obj = self._add(kind, props)
        for target, object_id, type_id in pending:
            self._associate(obj, target, object_id, type_id)
        self.count({"contacts": "contacts_created", "notes": "notes", "tickets": "tickets"}[kind])
        return obj

    def _update(self, kind: str, object_id: str, body: JSON) -> SimObject:
        obj = self._one(kind, object_id)
        self._edit(obj, self._properties(body))
        self.count({"contacts": "contacts_updated", "tickets": "tickets_updated"}.get(kind, "calls"))
        return obj

    def _batch_answer(self, objects: list[SimObject], wanted: Sequence[str] | None, status: int = 200,
                      inputs: Sequence[JSON] = ()) -> Response:
        started = iso(datetime.now(UTC))
        given = [list((i.get("properties") or {}).keys()) for i in inputs] or [[] for _ in objects]
        rendered = [self._render(o, wanted, names) for o, names in zip(objects, given, strict=False)]
        random.Random(len(rendered)).shuffle(rendered)  # HubSpot does not keep the order of the inputs
        return self.json_response({"status": "COMPLETE", "results": rendered, "startedAt": started,
                                   "completedAt": iso(datetime.now(UTC))}, status)

    def _dispatch(self, request: SimRequest) -> Response:
        """HubSpot's daily budget: every answer says what is left; a spent day answers 429 (policy DAILY)."""
        with self.lock:
            spent = self._used_today >= self.daily_limit
            self._used_today += 0 if spent else 1
            left = max(self.daily_limit - self._used_today, 0)
        if spent:
            response = self.json_response({"status": "error", "message": "You have reached your daily limit.",
                                           "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
                                           "policyName": "DAILY", "category": "RATE_LIMITS"}, 429)
        else:
            response = super()._dispatch(request)
        response.headers.update({"X-HubSpot-RateLimit-Daily": str(self.daily_limit),
                                 "X-HubSpot-RateLimit-Daily-Remaining": str(left)})
        return response

    def authenticate(self, request: SimRequest) -> Response | None:
        if request.headers.get("Authorization", "") != f"Bearer {SIM_TOKEN}":
            return self._error(401, "Authentication credentials not found. This API supports OAuth 2.0 "
                                    "authentication and you can find more details at https://developers.hubspot.com"
                                    "/docs/methods/auth/oauth-overview", "INVALID_AUTHENTICATION")
        return None

    # -- endpoints ------------------------------------------------------------------
    @route(OBJECT, "GET")
    def list_objects(self, request: SimRequest, kind: str) -> Response:
        limit = min(max(int(request.args.get("limit", "10") or 10), 1), 100)
        found = [o for o in self._objects.values() if o.kind == kind][:limit]
        return self.json_response({"results": [self._render(o, None) for o in found]})

    @route(OBJECT, "POST")
    def create_object(self, request: SimRequest, kind: str) -> Response:
        body = self._body(request)
        return self.json_response(self._render(self._create(kind, body), None, list(self._properties(body))), 201)

    @route(f"{OBJECT}/<object_id>", "GET")
    def read_object(self, request: SimRequest, kind: str, object_id: str) -> Response:
        wanted = request.args.get("properties")
        return self.json_response(self._render(self._one(kind, object_id), wanted.split(",") if wanted else None))

    @route(f"{OBJECT}/<object_id>", "PATCH")
    def update_object(self, request: SimRequest, kind: str, object_id: str) -> Response:
        body = self._body(request)
        return self.json_response(self._render(self._update(kind, object_id, body), None, list(self._properties(body))))

    @route(f"{OBJECT}/batch/<any(create,read,update):verb>", "POST")
    def batch(self, request: SimRequest, kind: str, verb: str) -> Response:
        body = self._body(request)
        inputs = self._inputs(body)
        if verb == "create":
            return self._batch_answer([self._create(kind, i) for i in inputs], None, 201, inputs)
        if verb == "update":
            missing = [str(i.get("id")) for i in inputs if not str(i.get("id") or "").isdigit()
                       or (self._objects.get(int(i["id"])) or SimObject(0, "", {}, self.clock.now(),
                                                                        self.clock.now())).kind != kind]
            if missing:
                return self._error(400, f"Could not find the objects with ids {', '.join(missing)}",
                                   "VALIDATION_ERROR")
            return self._batch_answer([self._update(kind, str(i["id"]), i) for i in inputs], None, inputs=inputs)
        wanted = [str(p) for p in body.get("properties") or []]
        return self._batch_answer([self._one(kind, str(i.get("id"))) for i in inputs], wanted or None)

    @route(f"{OBJECT}/batch/archive", "POST")
    def archive(self, request: SimRequest, kind: str) -> Response:
        """Archive these objects (ids it does not have are no error: 204 all the same)."""
        inputs = self._inputs(self._body(request))
        for item in inputs:
            object_id = str(item.get("id") or "")
            found = self._objects.get(int(object_id)) if object_id.isdigit() else None
            if found is not None and found.kind == kind:
                self._objects.remove(int(object_id))
                self.count("archived")
        return Response(status=204)

    @route("/crm/v4/associations/<any(contacts,notes,tickets):kind>/<any(contacts,notes,tickets):to>/batch/read",
           "POST")
    def read_associations(self, request: SimRequest, kind: str, to: str) -> Response:
        rows = []
        for item in self._inputs(self._body(request)):
            obj = self._one(kind, str(item.get("id")))
            links = sorted(obj.associations.get(to, set()))
            if links:
                rows.append({"from": {"id": str(obj.id)}, "to": [
                    {"toObjectId": other, "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]}
                    for other, type_id in links]})
        now = iso(datetime.now(UTC))
        return self.json_response({"status": "COMPLETE", "results": rows, "startedAt": now, "completedAt": now})

    @route(f"{OBJECT}/search", "POST")
    def search(self, request: SimRequest, kind: str) -> Response:
        from connectors.hubspot.simsearch import matches, sort_key

        body = self._body(request)
        groups, sorts = body.get("filterGroups") or [], body.get("sorts") or []
        if len(groups) > 5 or len(sorts) > 1 or any(len(g.get("filters") or []) > 6 for g in groups):
            return self._error(400, "at most 5 filter groups of 6 filters, and one sort", "VALIDATION_ERROR")
        problem = next((f"the IN filter takes at most {MAX_IN} values" for g in groups for f in g.get("filters") or []
                        if len(f.get("values") or []) > MAX_IN), None)
        if problem:
            return self._error(400, problem, "VALIDATION_ERROR")
        limit = min(max(int(body.get("limit") or 10), 1), 200)
        after = str(body.get("after") or "")
        start = int(after) if after.isdigit() else 0
        if start + limit > 10000:
            return self._error(400, "the search reaches at most 10,000 results", "VALIDATION_ERROR")
        sort = sorts[0] if sorts else {"propertyName": "hs_object_id", "direction": "ASCENDING"}

        def rows() -> list[SimObject]:
            found = [o for o in self._objects.values() if o.kind == kind and matches(o.properties, groups)]
            found.sort(key=lambda o: (sort_key(o.properties, str(sort.get("propertyName"))), o.id),
                       reverse=sort.get("direction") == "DESCENDING")
            return found

        def edited_meanwhile(rng: random.Random, served: Sequence[SimObject]) -> None:
            if served and rng.random() < 0.7:
                self._edit(served[rng.randrange(len(served))], {})
            else:
                self._add(kind, {"firstname": "Arrived", "lastname": "while paging"}, by_hub=False)

        got = window(self.faults, rows, limit, start=start, resumed=bool(after), shift=edited_meanwhile)
        wanted = [str(p) for p in body.get("properties") or []]
        answer: JSON = {"total": got.total, "results": [self._render(o, wanted or None) for o in got.items]}
        if got.more:
            answer["paging"] = {"next": {"after": str(got.end), "link": f"?after={got.end}"}}
        return self.json_response(answer)
