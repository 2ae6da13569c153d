"""An in-memory Mastodon server that speaks the API the connector uses, over real HTTP.

It serves the company's account (the hub's token) and customers on this and other servers.  Statuses
are plain text rendered as Mastodon renders them; a status that mentions an account of this server
notifies it (``mention``).  ``min_id``/``max_id``/``since_id`` and ``Link`` paging, ``Idempotency-Key``
on posting, ``X-RateLimit-*`` headers on every answer, with a window (``rate_limit`` calls per
5 minutes) that a test can spend, and Mastodon's error bodies (``{"error": ...}``).

Test and demo helpers (``add_account``, ``post``, ``edit``, ``delete``) change state directly, as people
would in their apps; customers' tokens (``token_for``) post through the API as well.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.mastodon.plugin import SIM_ACCOUNT, SIM_TOKEN
from connectors.mastodon.simmodel import (
    JSON,
    LOCAL_DOMAIN,
    MAX_CHARACTERS,
    VISIBILITIES,
    SimAccount,
    SimNotification,
    SimState,
    SimStatus,
    credential_json,
    instance_json,
    iso,
    notification_json,
    status_json,
    text_length,
)
from continuum.simkit import Clock, Response, SimRequest, Simulator, link_header, route, seek, window

WINDOW_S = 300  # Mastodon's API limit: 300 calls per account per 5 minutes
_NOT_FOUND = {"error": "Record not found"}


class MastodonSimulator(Simulator):
    system = "mastodon"
    effects = ("replies", "calls")
    rate_limit = 300  # calls per window; tests lower it to spend the window
    max_characters = MAX_CHARACTERS
    accounts: ClassVar[tuple[JSON, ...]] = (
        {"role": "hub", "headers": {"Authorization": f"Bearer {SIM_TOKEN}"},
         "does": f"the company's account @{SIM_ACCOUNT}: what it writes is the company's voice"},
        {"role": "customer", "headers": {"Authorization": "Bearer sim-mastodon-<username>"},
         "does": "POST /api/v1/statuses as that customer (mention @acme to reach the company)"},
    )

    def __init__(self) -> None:
        super().__init__()
        self.state = SimState()
        self.clock = Clock()
        self.company = self.add_account(SIM_ACCOUNT.split("@")[0], "Acme", None, note="Acme's official account")
        self._caller = self.company
        self._window_start, self._used = time.time(), 0

    # -- people's side ------------------------------------------------------------
    def add_account(self, username: str, display_name: str, domain: str | None = None, note: str = "") -> int:
        with self.lock:
            if self.state.by_acct(f"{username}@{domain or LOCAL_DOMAIN}") is not None:
                raise ValueError(f"@{username}@{domain or LOCAL_DOMAIN} exists")
            account = SimAccount(self.state.accounts.next_id(), username, domain, display_name, self._now(), note)
            return self.state.accounts.add(account).id

    def account_id(self, acct: str) -> int:
        found = self.state.by_acct(acct)
        if found is None:
            raise KeyError(f"no account {acct!r}")
        return found.id

    def token_for(self, acct: str) -> str:
        return SIM_TOKEN if self.account_id(acct) == self.company else f"sim-mastodon-{acct.lower().lstrip('@')}"

    def post(self, acct: str, text: str, in_reply_to: int | None = None, visibility: str = "public",
             spoiler_text: str = "", application: str | None = None) -> int:
        with self.lock:
            return self._add_status(self.account_id(acct), text, in_reply_to, visibility, spoiler_text,
                                    application).id

    def edit(self, status_id: int, text: str) -> None:
        with self.lock:
            status = self.state.statuses.require(status_id)
            status.text, status.edited_at = text, self._now()
            status.mentions = [a.id for a in self.state.mentioned(text)]

    def delete(self, status_id: int) -> None:
        with self.lock:
            self.state.remove(self.state.statuses.require(status_id).id)

    def pass_time(self) -> None:
        """As after the hour Mastodon keeps Idempotency-Keys, and a fresh rate-limit window."""
        with self.lock:
            self.state.idempotency.clear()
            self._window_start, self._used = time.time(), 0

    def statuses(self, acct: str | None = None) -> list[JSON]:
        """Every live status (with its source text and Idempotency-Key), oldest first."""
        with self.lock:
            keys = {sid: key for (_, key), sid in self.state.idempotency.items()}
            who = None if acct is None else self.account_id(acct)
            return [{**status_json(self.state, s, with_source=True), "idempotency_key": keys.get(s.id)}
                    for s in self.state.statuses.where(lambda s: not s.deleted and who in (None, s.account_id))]

    # -- state changes ------------------------------------------------------------
    def _now(self) -> str:
        return iso(self.clock.now())

    def _add_status(self, author: int, text: str, in_reply_to: int | None, visibility: str, spoiler_text: str = "",
                    application: str | None = None) -> SimStatus:
        mentioned = self.state.mentioned(text)
        status = self.state.statuses.add(SimStatus(
            self.state.statuses.next_id(), author, text, visibility, self._now(), in_reply_to,
            spoiler_text=spoiler_text, mentions=[a.id for a in mentioned], application=application))
        for account in mentioned:
            if account.domain is None and account.id != author:  # only this server's users get notified here
                self.state.notifications.add(SimNotification(self.state.notifications.next_id(), account.id, author,
                                                             status.id, status.created_at))
        return status

    def _mention_meanwhile(self, rng: random.Random, served: Sequence[SimNotification]) -> None:
        """The "shift" paging fault: a customer mentions the company while the hub pages."""
        people = self.state.accounts.where(lambda a: a.id != self.company)
        if people:
            author = people[rng.randrange(len(people))]
            self._add_status(author.id, f"@{self.state.accounts[self.company].acct} posted while you read", None,
                             "public")

    # -- rate limits, authentication -------------------------------------------------
    def _dispatch(self, request: SimRequest) -> Response:
        with self.lock:
            now = time.time()
            if now >= self._window_start + WINDOW_S:
                self._window_start, self._used = now, 0
            self._used += 1
            spent = self._used > self.rate_limit
            reset = datetime.fromtimestamp(self._window_start + WINDOW_S, UTC).isoformat(timespec="microseconds")
            remaining = max(self.rate_limit - self._used, 0)
        response = self.json_response({"error": "Too many requests"}, 429) if spent else super()._dispatch(request)
        response.headers.update({"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": str(remaining),
                                 "X-RateLimit-Reset": reset.replace("+00:00", "Z")})
        return response

    def authenticate(self, request: SimRequest) -> Response | None:
        token = request.bearer_token()
        if token == SIM_TOKEN:
            self._caller = self.company
            return None
        acct = (token or "").removeprefix("sim-mastodon-") if (token or "").startswith("sim-mastodon-") else ""
        found = self.state.by_acct(acct) if acct else None
        if found is None or found.id == self.company:
            return self.json_response({"error": "The access token is invalid"}, 401)
        self._caller = found.id
        return None

    def _live(self, status_id: object) -> SimStatus:
        wanted = int(str(status_id)) if str(status_id or "").isdigit() else None
        status = self.state.live(wanted, self._caller)
        return status if status is not None else self.reject(self.json_response(_NOT_FOUND, 404))

    # -- endpoints ----------------------------------------------------------------
    @route("/api/v1/accounts/verify_credentials")
    def verify_credentials(self, request: SimRequest) -> Response:
        return self.json_response(credential_json(self.state.accounts[self._caller]))

    @route("/api/v2/instance", public=True)
    def instance(self, request: SimRequest) -> Response:
        return self.json_response(instance_json(self.max_characters))

    @route("/api/v1/notifications")
    def notifications(self, request: SimRequest) -> Response:
        args = request.args
        types = set(args.getlist("types[]") + args.getlist("types"))
        excluded = set(args.getlist("exclude_types[]") + args.getlist("exclude_types"))
        limit = min(max(args.get("limit", 40, type=int) or 40, 1), 80)
        max_id, since_id, min_id = (args.get(name, type=int) for name in ("max_id", "since_id", "min_id"))

        def mine() -> list[SimNotification]:  # oldest first
            return self.state.notifications.where(lambda n: n.account_id == self._caller
                                                  and (not types or n.type in types) and n.type not in excluded
                                                  and not self.state.statuses[n.status_id].deleted
                                                  and (max_id is None or n.id < max_id)
                                                  and (since_id is None or n.id > since_id))
        if min_id is not None:  # the page immediately newer than min_id, served newest first
            page = window(self.faults, mine, limit, resumed=True, shift=self._mention_meanwhile,
                          start=lambda rows: seek(rows, lambda n: n.id > min_id))
            items = page.items[::-1]
        else:  # the newest page below max_id (and above since_id)
            page = window(self.faults, lambda: mine()[::-1], limit, resumed=max_id is not None)
            items = page.items
        rels: dict[str, dict[str, object]] = {}
        plain = {k: v for k, v in args.items() if k not in ("max_id", "min_id", "since_id")}
        if items and len(items) == limit:
            rels["next"] = {"max_id": items[-1].id}
        if items:
            rels["prev"] = {"min_id": items[0].id}
        headers = {"Link": link_header(request.base_url, plain, rels)} if rels else {}
        return self.json_response([notification_json(self.state, n) for n in items], headers=headers)

    @route("/api/v1/statuses")
    def statuses_by_id(self, request: SimRequest) -> Response:
        wanted = [int(v) for v in request.args.getlist("id[]") + request.args.getlist("id") if v.isdigit()]
        found = [self.state.live(sid, self._caller) for sid in dict.fromkeys(wanted)]
        return self.json_response([status_json(self.state, s) for s in found if s is not None])

    @route("/api/v1/statuses/<status_id>")
    def get_status(self, request: SimRequest, status_id: str) -> Response:
        return self.json_response(status_json(self.state, self._live(status_id)))

    @route("/api/v1/statuses/<status_id>/context")
    def context(self, request: SimRequest, status_id: str) -> Response:
        status = self._live(status_id)
        ancestors: list[SimStatus] = []
        above = self.state.live(status.in_reply_to_id, self._caller)
        while above is not None:
            ancestors.insert(0, above)
            above = self.state.live(above.in_reply_to_id, self._caller)
        descendants: list[SimStatus] = []

        def below(parent: int) -> None:  # depth first, oldest first, as the web UI threads them
            for child in self.state.statuses.where(lambda s: s.in_reply_to_id == parent):
                if self.state.live(child.id, self._caller) is not None:
                    descendants.append(child)
                    below(child.id)
        below(status.id)
        return self.json_response({"ancestors": [status_json(self.state, s) for s in ancestors],
                                   "descendants": [status_json(self.state, s) for s in descendants]})

    @route("/api/v1/statuses", "POST")
    def create_status(self, request: SimRequest) -> Response:
        params: dict[str, Any] = request.params
        text, visibility = str(params.get("status") or ""), str(params.get("visibility") or "public")
        key = request.headers.get("Idempotency-Key")
        if key and (self._caller, key) in self.state.idempotency:  # the same submission: the same status
            return self.json_response(status_json(self.state, self.state.statuses[self.state.idempotency[
                (self._caller, key)]]))
        if not text.strip():
            return self.json_response({"error": "Validation failed: Text can't be blank"}, 422)
        if visibility not in VISIBILITIES:
            return self.json_response({"error": f"Validation failed: Visibility '{visibility}' is not valid"}, 422)
        if text_length(text) + len(str(params.get("spoiler_text") or "")) > self.max_characters:
            return self.json_response({"error": "Validation failed: Text character limit of "
                                       f"{self.max_characters} exceeded"}, 422)
        parent = self._live(params["in_reply_to_id"]).id if params.get("in_reply_to_id") else None
        status = self._add_status(self._caller, text, parent, visibility, str(params.get("spoiler_text") or ""),
                                  "Continuum" if self._caller == self.company else "Web")
        if key:
            self.state.idempotency[(self._caller, key)] = status.id
        if self._caller == self.company:
            self.count("replies")
        return self.json_response(status_json(self.state, status))
