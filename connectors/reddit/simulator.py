"""An in-memory Reddit that speaks the API the connector uses, over real HTTP.

Reddit publishes no API description, so praw is the contract: every answer here loads into praw's models
(``contract.py`` checks each recorded exchange).  Behaviour follows Reddit: a script app's password grant at
``/api/v1/access_token`` (a wrong password is a 200 ``{"error": "invalid_grant"}``, a wrong app a 401),
listings newest first with ``after``/``before`` fullnames and ``limit`` up to 100 (a ``before`` or ``after`` on a
vanished thing lists nothing), ``/api/info`` for up to 100 fullnames, ``POST /api/comment`` with ``api_type=json``
errors, and on every OAuth answer the window's ``X-Ratelimit-Used``/``-Remaining``/``-Reset`` headers (spent:
429 until the window ends).

Helpers (``submit``, ``comment``, ``message``, ``edit``, ``delete``) change state as people would in the
browser; the API lets the hub in (:data:`SIM_CLIENT_ID` app, the company's account) and customers too (the same
app, any username, :data:`SIM_CUSTOMER_PASSWORD`; a new name is a new customer).
"""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar

from connectors.reddit.plugin import SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_SUBREDDIT, SIM_USERNAME
from connectors.reddit.simmodel import JSON, START, SimThing, SimUser, Views, listing
from continuum.simkit import Clock, Response, SimRequest, Simulator, Table, route

__all__ = ["SIM_CLIENT_ID", "SIM_CLIENT_SECRET", "SIM_CUSTOMER_PASSWORD", "SIM_PASSWORD", "SIM_USERNAME",
           "RedditSimulator"]

SIM_CUSTOMER_PASSWORD = "sim-reddit-customer-password"
MAX_LIMIT, COMMENT_LIMIT = 100, 10_000
_UNAUTHORIZED = {"message": "Unauthorized", "error": 401}
_MENTION = re.compile(r"(?<![A-Za-z0-9])/?u/([A-Za-z0-9_-]{3,20})")


class RedditSimulator(Simulator):
    system = "reddit"
    effects = ("replies", "calls")
    # The OAuth window: Reddit allows 1,000 calls per 10 minutes for a script app; tests shrink it.
    rate_limit, rate_window_s = 1000, 600.0
    # The app's id and secret are the basic auth of the token call; the grant names the account.
    accounts: ClassVar[tuple[JSON, ...]] = (
        {"role": "hub", "basic": (SIM_CLIENT_ID, SIM_CLIENT_SECRET),
         "does": f"POST /api/v1/access_token grant_type=password username={SIM_USERNAME}: the company's account"},
        {"role": "customer", "basic": (SIM_CLIENT_ID, SIM_CLIENT_SECRET),
         "does": f"POST /api/v1/access_token grant_type=password username=<any name> password="
                 f"{SIM_CUSTOMER_PASSWORD}, then with the bearer token POST /api/submit (sr, title, text) or "
                 "/api/comment (thing_id, text) as that customer"},
    )

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(START, timedelta(minutes=3))
        self.users: Table[int, SimUser] = Table("user", first_id=int("1a2b3c", 36))
        self.ids = {"t1": Table[int, SimThing]("comment", int("m0a1b2", 36)),
                    "t3": Table[int, SimThing]("submission", int("1b0c2d", 36)),
                    "t4": Table[int, SimThing]("message", int("2c4d6e", 36))}
        self.things: dict[str, SimThing] = {}  # every thing by fullname, in creation order
        self.views = Views(self.things)
        self.tokens: dict[str, int] = {}
        self.company = self.add_user(SIM_USERNAME, SIM_PASSWORD)
        self.subreddit = SIM_SUBREDDIT
        self._caller = self.company
        # No window yet: the first call opens one.  (Not 0.0: the monotonic clock counts from boot, so on a
        # machine up for less than a window the first call would land in a window "opened" at boot.)
        self._window_start, self._used = -math.inf, 0

    # -- people's side ------------------------------------------------------------
    def add_user(self, name: str, password: str = SIM_CUSTOMER_PASSWORD) -> SimUser:
        with self.lock:
            found = self._user(name)
            return found or self.users.add(SimUser(self.users.next_id(), name, password))

    def submit(self, author: str, title: str, text: str, subreddit: str | None = None) -> str:
        with self.lock:
            return self._add("t3", self.add_user(author), text, subreddit=subreddit or self.subreddit, title=title)

    def comment(self, author: str, parent: str, text: str) -> str:
        with self.lock:
            above = self.things[parent]
            link = above.fullname if above.kind == "t3" else above.link_id
            return self._add("t1", self.add_user(author), text, subreddit=above.subreddit, link_id=link,
                             parent_id=parent)

    def message(self, author: str, to: str, subject: str, text: str, parent: str | None = None) -> str:
        with self.lock:
            first = self.things[parent].first_message or self.things[parent].id if parent else None
            return self._add("t4", self.add_user(author), text, title=subject, dest=to, parent_id=parent,
                             first_message=first)

    def edit(self, fullname: str, text: str) -> None:
        with self.lock:
            thing = self.things[fullname]
            thing.text, thing.edited = text, self.clock.now().timestamp()

    def delete(self, fullname: str, how: str = "[deleted]") -> None:
        """The author deletes it ("[deleted]") or a moderator removes it ("[removed]")."""
        with self.lock:
            self.things[fullname].deleted = how

    def by(self, author: str) -> list[SimThing]:
        with self.lock:
            return [t for t in self.things.values() if t.author.name.lower() == author.lower()]

    def _user(self, name: str) -> SimUser | None:
        return self.users.find(lambda u: u.name.lower() == name.lower())

    def _add(self, kind: str, author: SimUser, text: str, **fields: Any) -> str:
        table = self.ids[kind]
        thing = table.add(SimThing(kind, table.next_id(), author, text, self.clock.now().timestamp(), **fields,
                                   mentions=tuple(m.lower() for m in _MENTION.findall(text))))
        self.things[thing.fullname] = thing
        return thing.fullname

    # -- authentication and the rate window ------------------------------------------
    def authenticate(self, request: SimRequest) -> Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            return self.json_response(_UNAUTHORIZED, 401, {"www-authenticate": 'Bearer realm="reddit"'})
        self._caller = self.users[self.tokens[token]]
        return None

    def _window(self) -> dict[str, str]:
        """Count the call in the window (10 minutes from its first call) and the headers Reddit sends."""
        now = time.monotonic()
        if now - self._window_start >= self.rate_window_s:
            self._window_start, self._used = now, 0
        self._used += 1
        left = self.rate_window_s - (now - self._window_start)
        remaining = max(self.rate_limit - self._used, 0)
        return {"X-Ratelimit-Used": str(self._used), "X-Ratelimit-Remaining": f"{remaining:.1f}",
                "X-Ratelimit-Reset": str(max(int(left), 1))}

    def reset_window(self) -> None:
        """Start a fresh rate-limit window now (as if its ten minutes had passed)."""
        with self.lock:
            self._window_start, self._used = time.monotonic(), 0

    def answer(self, body: Any, status: int = 200) -> Response:
        headers = self._window()
        if self._used > self.rate_limit:
            return self.json_response({"message": "Too Many Requests", "error": 429}, 429, headers)
        return self.json_response(body, status, headers)

    # -- endpoints ---------------------------------------------------------------------
    @route("/api/v1/access_token", "POST", public=True)
    def access_token(self, request: SimRequest) -> Response:
        auth = request.authorization
        if auth is None or auth.username != SIM_CLIENT_ID or auth.password != SIM_CLIENT_SECRET:
            return self.json_response(_UNAUTHORIZED, 401)
        form = request.form
        if form.get("grant_type") != "password":
            return self.json_response({"error": "unsupported_grant_type"})
        user = self._user(form.get("username", ""))
        customer = form.get("password") == SIM_CUSTOMER_PASSWORD and form.get("username", "").lower() != \
            SIM_USERNAME.lower() and len(form.get("username", "")) >= 3
        if customer and user is None:
            user = self.add_user(form.get("username", ""))
        if user is None or form.get("password") != user.password:
            return self.json_response({"error": "invalid_grant"})  # Reddit answers a wrong password with a 200
        token = f"sim-{secrets.token_hex(12)}"
        self.tokens[token] = user.id
        return self.json_response({"access_token": token, "token_type": "bearer", "expires_in": 86400,
                                   "scope": "*"})

    @route("/api/v1/me", "GET")
    def me(self, request: SimRequest) -> Response:
        user = self._caller
        return self.answer({"name": user.name, "id": user.fullname[3:], "created_utc": START.timestamp(),
                            "has_verified_email": True, "is_suspended": False, "link_karma": 1, "comment_karma": 1,
                            "icon_img": "", "is_mod": user.id == self.company.id})

    def _page(self, request: SimRequest, rows_of: Callable[[], list[SimThing]], inbox: bool = False) -> Response:
        """The listing ``rows_of()`` (newest first), paged by ``after``/``before`` fullnames as Reddit does."""
        limit = min(max(request.args.get("limit", 25, type=int) or 25, 1), MAX_LIMIT)
        after, before = request.args.get("after"), request.args.get("before")
        rows = rows_of()
        names = [t.fullname for t in rows]
        if (after or before) and (after or before) not in names:
            return self.answer(listing([], None, None))  # Reddit lists nothing next to a vanished thing
        if before:  # the `limit` things just newer than `before`
            end = names.index(before)
            begin = max(0, end - limit)
        else:
            mode = self.faults.paging_fault(("repeat", "shift")) if after else None
            if mode == "shift":
                self._meanwhile()
                rows = rows_of()
                names = [t.fullname for t in rows]
            begin = names.index(after) + 1 if after else 0
            if mode == "repeat":
                begin = max(0, begin - self.faults.rng.randint(1, 3))
            end = min(begin + limit, len(rows))
        page = rows[begin:end]
        children = [self.views.thing(t, self._caller.name, inbox=inbox) for t in page]
        return self.answer(listing(children, page[-1].fullname if page and end < len(rows) else None,
                                   page[0].fullname if page and begin > 0 else None))

    def _meanwhile(self) -> None:
        """The "shift" paging fault: a customer comments while the hub pages back."""
        posts = [t for t in self.things.values() if t.kind == "t3" and t.subreddit == self.subreddit]
        if posts:
            self._add("t1", self.add_user("passing_visitor"), "Commented while the hub was reading",
                      subreddit=self.subreddit, link_id=posts[-1].fullname, parent_id=posts[-1].fullname)

    def _newest(self, test: Any) -> list[SimThing]:
        return [t for t in reversed(self.things.values()) if test(t)]

    def _in_sub(self, kind: str, sub: str) -> Callable[[], list[SimThing]]:
        return lambda: self._newest(lambda t: t.kind == kind and (t.subreddit or "").lower() == sub.lower()
                                    and t.deleted is None)  # deleted things leave the listings

    @route("/r/<sub>/new", "GET")
    def subreddit_new(self, request: SimRequest, sub: str) -> Response:
        return self._page(request, self._in_sub("t3", sub))

    @route("/r/<sub>/comments", "GET")
    def subreddit_comments(self, request: SimRequest, sub: str) -> Response:
        return self._page(request, self._in_sub("t1", sub))

    def _for_me(self, thing: SimThing, mentions_only: bool = False) -> bool:
        me = self._caller.name.lower()
        if thing.deleted or thing.author.id == self._caller.id:
            return False
        if thing.kind == "t4":
            return not mentions_only and (thing.dest or "").lower() == me
        if thing.kind != "t1":
            return False
        mentioned = me in thing.mentions
        parent = self.things.get(thing.parent_id or "")
        replied = parent is not None and parent.author.id == self._caller.id
        return mentioned if mentions_only else mentioned or replied

    @route("/message/inbox", "GET")
    def inbox(self, request: SimRequest) -> Response:
        return self._page(request, lambda: self._newest(self._for_me), inbox=True)

    @route("/message/mentions", "GET")
    def mentions(self, request: SimRequest) -> Response:
        return self._page(request, lambda: self._newest(lambda t: self._for_me(t, mentions_only=True)), inbox=True)

    @route("/message/sent", "GET")
    def sent(self, request: SimRequest) -> Response:
        return self._page(request, lambda: self._newest(lambda t: t.kind == "t4" and t.author.id == self._caller.id))

    @route("/user/<name>/comments", "GET")
    def user_comments(self, request: SimRequest, name: str) -> Response:
        return self._page(request, lambda: self._newest(
            lambda t: t.kind == "t1" and t.author.name.lower() == name.lower() and t.deleted is None))

    @route("/api/info", "GET")
    def info(self, request: SimRequest) -> Response:
        names = [n for n in (request.args.get("id") or "").split(",") if n][:MAX_LIMIT]
        found = [self.things[n] for n in names if n in self.things and n[:3] in ("t1_", "t3_")]
        return self.answer(listing([self.views.thing(t, self._caller.name) for t in found], None, None))

    def _errors(self, *errors: tuple[str, str, str]) -> Response:
        return self.answer({"json": {"errors": [list(e) for e in errors]}})

    @route("/api/comment", "POST")
    def post_comment(self, request: SimRequest) -> Response:
        thing_id, text = request.form.get("thing_id", ""), request.form.get("text", "")
        parent = self.things.get(thing_id)
        if not text.strip():
            return self._errors(("NO_TEXT", "we need something here", "text"))
        if len(text) > COMMENT_LIMIT:
            return self._errors(("TOO_LONG", f"this is too long (max: {COMMENT_LIMIT})", "text"))
        if parent is None or parent.deleted:
            return self._errors(("DELETED_COMMENT", "that comment has been deleted", "parent"))
        if parent.kind == "t4":
            other = parent.author.name if parent.author.id != self._caller.id else parent.dest or ""
            made = self._add("t4", self._caller, text, title=f"re: {parent.title}", dest=other, parent_id=thing_id,
                             first_message=parent.first_message or parent.id)
        else:
            made = self._add("t1", self._caller, text, subreddit=parent.subreddit, parent_id=thing_id,
                             link_id=parent.fullname if parent.kind == "t3" else parent.link_id)
        if self._caller.id == self.company.id:
            self.count("replies")
        thing = self.things[made]
        return self.answer({"json": {"errors": [], "data": {"things": [self.views.thing(thing, self._caller.name)]}}})

    @route("/api/submit", "POST")
    def submit_post(self, request: SimRequest) -> Response:
        form = request.form
        if form.get("kind", "self") != "self" or not form.get("sr") or not form.get("title", "").strip():
            return self._errors(("NO_TEXT", "we need something here", "title"))
        made = self._add("t3", self._caller, form.get("text", ""), subreddit=form["sr"], title=form["title"])
        thing = self.things[made]
        return self.answer({"json": {"errors": [], "data": {
            "url": f"https://www.reddit.com{self.views.permalink(thing)}", "id": thing.sid, "name": made}}})
