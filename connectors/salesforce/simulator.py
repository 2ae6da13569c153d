"""SalesforceSimulator: an in-memory Salesforce org's REST API for tests and the demo.

It serves what the connector uses, as Salesforce's REST reference describes it and simple-salesforce parses it:
the OAuth token endpoint (username-password and client-credentials flows), ``query`` with query locators
(``nextRecordsUrl``) over a SOQL subset (:mod:`.simsoql`; anything else is ``MALFORMED_QUERY``), sObject
create/read/update, sObject collections (``composite/sobjects``, POST and PATCH, 200 records, ``allOrNone``) and
``limits``.  Every answer carries ``Sforce-Limit-Info: api-usage=N/M``; a spent daily allowance answers 403
``REQUEST_LIMIT_EXCEEDED``, an unknown token 401 ``INVALID_SESSION_ID``.  Anything else is a 404.
"""

from __future__ import annotations

import itertools
import ssl
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from connectors.salesforce import simmodel, simtls
from connectors.salesforce.plugin import SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_USERNAME
from connectors.salesforce.simmodel import TYPES, Row, error, render, save_error
from connectors.salesforce.simsoql import SoqlError, parse
from continuum.simkit import Response, SimRequest, Simulator, route, window

API = "/services/data/v<version>"
ORG_ID, USER_ID, STAFF_ID = "00D5g000000SimOrgAAA", "0055g000000HubUsrAAA", "0055g000000StaffAAAA"
SIM_STAFF_TOKEN = "sim-sf-staff-session"
MAX_COLLECTION = 200


class SalesforceSimulator(Simulator):
    system = "salesforce"
    effects = ("created", "updated", "deleted", "queries", "calls")
    daily_limit = 15000  # the org's API allowance; tests lower it to spend it
    accounts: ClassVar[tuple[dict[str, Any], ...]] = (
        {"role": "staff", "headers": {"Authorization": f"Bearer {SIM_STAFF_TOKEN}"},
         "does": "answer on a case: POST /services/data/v59.0/sobjects/CaseComment {\"ParentId\": ..., "
                 "\"CommentBody\": ..., \"IsPublished\": true}; PATCH .../sobjects/Case/<id> {\"Status\": \"Closed\"}"},
    )

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, Row]] = {name: {} for name in TYPES}
        self._serial = itertools.count(1)
        self._cases = itertools.count(1001)
        self._last = datetime.fromtimestamp(0, UTC)
        self.tokens: dict[str, str] = {SIM_STAFF_TOKEN: STAFF_ID}
        self._caller = USER_ID
        self._locators: dict[str, list[Row]] = {}
        self.used = 0
        self.frozen_stamp: datetime | None = None  # set: every change gets this SystemModstamp (equal stamps)

    def ssl_context(self) -> ssl.SSLContext:
        return simtls.server_context()  # simple-salesforce speaks only HTTPS to an instance

    # -- people's side ----------------------------------------------------------------
    def now(self) -> datetime:
        """Milliseconds (Salesforce's precision), each change at least 1 ms after the last."""
        with self.lock:
            if self.frozen_stamp is not None:
                return self.frozen_stamp
            now = datetime.now(UTC)
            self._last = max(now.replace(microsecond=now.microsecond // 1000 * 1000),
                             self._last + timedelta(milliseconds=1))
            return self._last

    def add(self, sobject: str, values: Row, by: str = STAFF_ID) -> str:
        """Make a record as a person would in the org; its Id."""
        with self.lock:
            problem = self._check(TYPES[sobject], values, creating=True)
            if problem:
                raise ValueError(f"{problem['statusCode']}: {problem['message']}")
            return self._insert(TYPES[sobject], values, by)

    def edit(self, sobject: str, record_id: str, values: Row) -> None:
        with self.lock:
            self._update(self.rows[sobject][record_id], values)

    def records(self, sobject: str) -> list[Row]:
        with self.lock:
            return [render(row, "") for row in self.rows[sobject].values()]

    def staff_answer(self, case_id: str, text: str, public: bool = True) -> None:
        self.add("CaseComment", {"ParentId": case_id, "CommentBody": text, "IsPublished": public})

    def staff_resolve(self, case_id: str) -> None:
        self.edit("Case", case_id, {"Status": "Closed"})

    def staff_ship(self, case_id: str) -> None:
        self.staff_resolve(case_id)

    # -- plumbing ----------------------------------------------------------------------
    def _new_id(self, sobject: simmodel.SObjectType) -> str:
        return f"{sobject.prefix}5g{next(self._serial):010d}AAA"

    def _owner(self, record_id: object) -> str | None:
        text = str(record_id or "")
        return next((name for name, rows in self.rows.items() if text in rows), None)

    def _check(self, sobject: simmodel.SObjectType, values: Row, creating: bool) -> Row | None:
        """The save error Salesforce would give this record, or None."""
        for name in values:
            own = sobject.known(name)
            if own is None or own in simmodel.SYSTEM_FIELDS or own in sobject.computed:
                code = "INVALID_FIELD" if own is None else "INVALID_FIELD_FOR_INSERT_UPDATE"
                return save_error(code, f"No such column '{name}' on sobject of type {sobject.name}"
                                  if own is None else f"Unable to create/update fields: {own}.", [name])
        given = {sobject.known(k) or k: v for k, v in values.items()}
        for name in sobject.required if creating else ():
            if given.get(name) in (None, ""):
                return save_error("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", [name])
        for name, limit in sobject.lengths:
            if isinstance(given.get(name), str) and len(given[name]) > limit:
                return save_error("STRING_TOO_LONG", f"{name}: data value too large (max length={limit})", [name])
        for name, kinds in sobject.references:
            if given.get(name) not in (None, "") and self._owner(given[name]) not in kinds:
                return save_error("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {given[name]}",
                                  [name])
        return None

    def _insert(self, sobject: simmodel.SObjectType, values: Row, by: str) -> str:
        now = self.now()
        row: Row = {"_type": sobject.name, "Id": self._new_id(sobject), **dict(sobject.defaults),
                    **{sobject.known(k) or k: v for k, v in values.items()},
                    "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now, "CreatedById": by,
                    "IsDeleted": False}
        if sobject.name == "Case":
            row["CaseNumber"] = f"{next(self._cases):08d}"
        if "OwnerId" in sobject.fields and not row.get("OwnerId"):
            row["OwnerId"] = by  # Salesforce makes the creating user the owner when none is given
        self._derive(row)
        self.rows[sobject.name][row["Id"]] = row
        if sobject.name == "CaseComment":  # a comment is a change of its case, as in Salesforce
            self.rows["Case"][row["ParentId"]]["SystemModstamp"] = now
        return str(row["Id"])

    def _update(self, row: Row, values: Row) -> None:
        sobject = TYPES[row["_type"]]
        row.update({sobject.known(k) or k: v for k, v in values.items()})
        row["LastModifiedDate"] = row["SystemModstamp"] = self.now()
        self._derive(row)

    @staticmethod
    def _derive(row: Row) -> None:
        if "LastName" in row:
            row["Name"] = " ".join(str(p) for p in (row.get("FirstName"), row.get("LastName")) if p)
        if row["_type"] == "Case":
            row["IsClosed"] = row.get("Status") in simmodel.CLOSED_STATUSES
            row["ClosedDate"] = row["SystemModstamp"] if row["IsClosed"] else None

    def _fail(self, status: int, code: str, message: str) -> Response:
        return self.json_response([error(code, message)], status)

    def _dispatch(self, request: SimRequest) -> Response:
        with self.lock:
            token_call = request.path == "/services/oauth2/token"
            spent = not token_call and self.used >= self.daily_limit
            self.used += 0 if spent or token_call else 1
            used = self.used
        if spent:
            response = self._fail(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        else:
            response = super()._dispatch(request)
        if not token_call:
            response.headers["Sforce-Limit-Info"] = f"api-usage={used}/{self.daily_limit}"
        return response

    def authenticate(self, request: SimRequest) -> Response | None:
        user = self.tokens.get(request.bearer_token() or "")
        if user is None:
            return self._fail(401, "INVALID_SESSION_ID", "Session expired or invalid")
        self._caller = user
        return None

    def _body(self, request: SimRequest) -> Any:
        body = request.json_body
        if body is None:
            self.reject(self._fail(400, "JSON_PARSER_ERROR", "The request body is not valid JSON"))
        return body

    def _type(self, name: str) -> simmodel.SObjectType:
        found = next((t for t in TYPES.values() if t.name.lower() == name.lower()), None)
        return found or self.reject(self._fail(404, "NOT_FOUND", f"The requested resource does not exist: {name}"))

    def _count(self, effect: str) -> None:
        if self._caller == USER_ID:  # staff at work are not the hub's effects
            self.count(effect)

    # -- OAuth ---------------------------------------------------------------------------
    @route("/services/oauth2/token", "POST", public=True)
    def token(self, request: SimRequest) -> Response:
        form = request.form
        grant = form.get("grant_type")
        if grant not in ("password", "client_credentials"):
            return self.json_response({"error": "unsupported_grant_type", "error_description": "grant type not "
                                       "supported"}, 400)
        if form.get("client_id") != SIM_CLIENT_ID or form.get("client_secret") != SIM_CLIENT_SECRET:
            return self.json_response({"error": "invalid_client_id", "error_description": "client identifier "
                                       "invalid"}, 400)
        if grant == "password" and (form.get("username"), form.get("password")) != (SIM_USERNAME, SIM_PASSWORD):
            return self.json_response({"error": "invalid_grant", "error_description": "authentication failure"}, 400)
        token = f"00D5g!sim-session-{len(self.tokens)}"
        self.tokens[token] = USER_ID
        return self.json_response({
            "access_token": token, "instance_url": self.base_url, "token_type": "Bearer",
            "id": f"{self.base_url}/id/{ORG_ID}/{USER_ID}", "issued_at": str(int(datetime.now(UTC).timestamp())),
            "signature": "c2ltdWxhdG9yLXNpZ25hdHVyZQ=="})

    # -- query ---------------------------------------------------------------------------
    @route(f"{API}/query/", "GET")
    def query(self, request: SimRequest, version: str) -> Response:
        try:
            soql = parse(request.args.get("q", ""))
            sobject = next((t for t in TYPES.values() if t.name.lower() == soql.sobject.lower()), None)
            if sobject is None:
                return self._fail(400, "INVALID_TYPE", f"sObject type '{soql.sobject}' is not supported.")
            rows = [row for row in self.rows[sobject.name].values() if soql.where(row)]
            for name in soql.fields:
                if sobject.known(name) is None:
                    raise SoqlError(f"No such column '{name}' on entity '{sobject.name}'")
            for name, descending in reversed(soql.order):
                own = sobject.known(name) or name
                rows.sort(key=lambda row: (row.get(own) is None, row.get(own) or 0), reverse=descending)
        except SoqlError as exc:
            return self._fail(400, "MALFORMED_QUERY", str(exc))
        rows = rows[:soql.limit] if soql.limit is not None else rows
        self.count("queries")
        base = f"/services/data/v{version}"
        snapshot = [render(row, base, soql.fields) for row in rows]  # a locator serves the rows as they were
        options = request.headers.get("Sforce-Query-Options", "")
        size = int(options.partition("batchSize=")[2] or 2000)
        locator = f"01g5g{len(self._locators) + 1:08d}SIM"
        self._locators[locator] = snapshot
        return self._page(base, locator, 0, max(200, min(size, 2000)), resumed=False)

    @route(f"{API}/query/<locator>", "GET")
    def query_more(self, request: SimRequest, version: str, locator: str) -> Response:
        name, _, offset = locator.rpartition("-")
        if name not in self._locators or not offset.isdigit():
            return self._fail(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        size = int(request.headers.get("Sforce-Query-Options", "").partition("batchSize=")[2] or 2000)
        return self._page(f"/services/data/v{version}", name, int(offset), max(200, min(size, 2000)), resumed=True)

    def _page(self, base: str, locator: str, offset: int, size: int, resumed: bool) -> Response:
        rows = self._locators[locator]
        got = window(self.faults, lambda: rows, size, start=offset, resumed=resumed)
        answer: Row = {"totalSize": len(rows), "done": not got.more, "records": got.items}
        if got.more:
            answer["nextRecordsUrl"] = f"{base}/query/{locator}-{got.end}"
        return self.json_response(answer)

    @route(f"{API}/limits/", "GET")
    def limits(self, request: SimRequest, version: str) -> Response:
        return self.json_response({"DailyApiRequests": {"Max": self.daily_limit,
                                                        "Remaining": max(self.daily_limit - self.used, 0)}})

    # -- sObjects ------------------------------------------------------------------------
    @route(f"{API}/sobjects/<name>/", "POST")
    def create(self, request: SimRequest, version: str, name: str) -> Response:
        sobject, body = self._type(name), self._body(request)
        problem = self._check(sobject, body, creating=True) if isinstance(body, dict) else save_error(
            "JSON_PARSER_ERROR", "expected an object", [])
        if problem:
            return self._fail(400, str(problem["statusCode"]), str(problem["message"]))
        self._count("created")
        return self.json_response({"id": self._insert(sobject, body, self._caller), "success": True,
                                   "errors": []}, 201)

    @route(f"{API}/sobjects/<name>/<record_id>", "GET", "PATCH")
    def one(self, request: SimRequest, version: str, name: str, record_id: str) -> Response:
        sobject = self._type(name)
        row = self.rows[sobject.name].get(record_id)
        if row is None:
            return self._fail(404, "NOT_FOUND", "The requested resource does not exist")
        if request.method == "GET":
            return self.json_response(render(row, f"/services/data/v{version}"))
        body = self._body(request)
        problem = self._check(sobject, body, creating=False) if isinstance(body, dict) else save_error(
            "JSON_PARSER_ERROR", "expected an object", [])
        if problem:
            return self._fail(400, str(problem["statusCode"]), str(problem["message"]))
        self._update(row, body)
        self._count("updated")
        return Response(status=204)

    @route(f"{API}/composite/sobjects", "POST", "PATCH")
    def collection(self, request: SimRequest, version: str) -> Response:
        body = self._body(request)
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            return self._fail(400, "INVALID_FIELD", "records: a non-empty list is required")
        if len(records) > MAX_COLLECTION:
            return self._fail(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than "
                              f"{MAX_COLLECTION} records into this call")
        all_or_none, creating = bool(body.get("allOrNone")), request.method == "POST"
        planned: list[tuple[Row, simmodel.SObjectType | None, Row | None]] = []
        for record in records:
            planned.append(self._plan(record, creating))
        if all_or_none and any(problem for _, _, problem in planned):
            return self.json_response([{"id": None, "success": False, "errors": [problem or save_error(
                "ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were valid and "
                "the request was using AllOrNone header", [])]} for _, _, problem in planned])
        answer = []
        for values, sobject, problem in planned:
            if problem or sobject is None:
                answer.append({"success": False, "errors": [problem]})
                continue
            if creating:
                made = self._insert(sobject, values, self._caller)
                self._count("created")
            else:
                made = str(values.pop("Id"))
                self._update(self.rows[sobject.name][made], values)
                self._count("updated")
            answer.append({"id": made, "success": True, "errors": []})
        return self.json_response(answer)

    @route(f"{API}/composite/sobjects", "DELETE")
    def delete_collection(self, request: SimRequest, version: str) -> Response:
        ids = [i for i in (request.args.get("ids") or "").split(",") if i]
        if not ids:
            return self._fail(400, "INVALID_FIELD", "ids: at least one id is required")
        if len(ids) > MAX_COLLECTION:
            return self._fail(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than "
                              f"{MAX_COLLECTION} records into this call")
        answer = []
        for record_id in ids:
            table = next((rows for rows in self.rows.values() if record_id in rows), None)
            if table is None:  # gone already (or never made): Salesforce says the entity is deleted
                answer.append({"id": record_id, "success": False, "errors": [save_error(
                    "ENTITY_IS_DELETED", "entity is deleted", [])]})
                continue
            del table[record_id]
            self._count("deleted")
            answer.append({"id": record_id, "success": True, "errors": []})
        return self.json_response(answer)

    def _plan(self, record: Any, creating: bool) -> tuple[Row, simmodel.SObjectType | None, Row | None]:
        if not isinstance(record, dict):
            return {}, None, save_error("JSON_PARSER_ERROR", "a record must be an object", [])
        values = {k: v for k, v in record.items() if k != "attributes"}
        kind = (record.get("attributes") or {}).get("type") if isinstance(record.get("attributes"), dict) else None
        sobject = next((t for t in TYPES.values() if t.name.lower() == str(kind).lower()), None)
        if sobject is None:
            return values, None, save_error("INVALID_TYPE", f"sObject type '{kind}' is not supported", [])
        if creating:
            return values, sobject, self._check(sobject, values, creating=True)
        if values.get("Id") not in self.rows[sobject.name]:
            return values, sobject, save_error("MALFORMED_ID", f"invalid id: {values.get('Id')}", ["Id"])
        return values, sobject, self._check(sobject, {k: v for k, v in values.items() if k != "Id"}, creating=False)
