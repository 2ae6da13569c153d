"""An in-memory Slack workspace that speaks the Web API methods the connector uses, over real HTTP.

Methods live at ``/api/<method>`` as on ``https://slack.com``.  Behaviour
follows Slack: every answer is HTTP 200 with ``{"ok": true, ...}`` or
``{"ok": false, "error": "<code>"}`` (a bad or missing token gives
``invalid_auth``/``not_authed``); the token is read from ``Authorization:
Bearer`` or a ``token`` parameter; ``chat.postMessage`` takes a form or a JSON
body, a channel id, ``#name``, ``name`` or a user id (a DM from the app);
``conversations.history`` pages newest first with an opaque cursor and
returns message ``metadata`` only with ``include_all_metadata=true``.  Rate
limits (HTTP 429 + ``Retry-After``) come from the simkit fault knobs, and both
paged methods (``conversations.list`` and ``conversations.history``) serve the
simkit paging faults.

Answers stay inside the official 2020 Web API description except where Slack
has since added what the connector relies on (message metadata, the history
``response_metadata`` cursor); ``connectors/slack/simcontract.py`` lists those
additions and the contract test proves nothing else differs.

Test and demo helpers (``add_channel``, ``add_user``, ``say``) change state
directly, as people would in the Slack client; only the hub's API calls count
as effects.  A staff member can also use the API with a user token
(:data:`SIM_STAFF_TOKEN`, ``xoxp-``): ``chat.postMessage`` then posts as that
person in any channel, and ``conversations.history`` shows what the hub wrote.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from connectors.slack.plugin import SIM_TOKEN
from connectors.slack.simthreads import ThreadsMixin
from continuum.simkit import Clock, PageTokens, Response, Serial, SimRequest, Simulator, Table, seek, under, window

__all__ = ["BOT_USER_ID", "SIM_STAFF_TOKEN", "SIM_TOKEN", "SlackSimulator"]

SIM_STAFF_TOKEN = "xoxp-1000000001-3000000003-simcontinuumstaff"  # a person's user token: Lena, support lead
STAFF_NAME = "lena.fischer"

JSON = dict[str, Any]

TEAM_ID = "T0CONTINUUM"
TEAM_NAME = "Continuum Demo"
BOT_USER_ID = "U0CONTBOT01"
BOT_ID = "B0CONTBOT01"
BOT_NAME = "continuum"
START_EPOCH = 1_790_000_000  # 2026-09-21T...Z; a fixed clock keeps every run alike
MAX_TEXT = 40_000
CURSORS = PageTokens(urlsafe=False)
api = under("/api")  # methods live at /api/<method>, as on slack.com


@dataclass
class SimUser:
    id: str
    name: str
    real_name: str
    email: str | None
    is_bot: bool = False


@dataclass
class SimChannel:
    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_member: bool = True
    is_archived: bool = False
    is_general: bool = False
    is_im: bool = False
    user: str | None = None  # the other person of a DM
    topic: str = ""
    purpose: str = ""
    messages: list[JSON] = field(default_factory=list)  # oldest first


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


class SlackSimulator(ThreadsMixin, Simulator):
    system = "slack"
    effects = ("created", "updated", "comments", "replies", "transitions", "notifications", "calls")
    # Who may call the API (`continuum simulate` prints these): the hub's bot and a staff member.
    accounts: ClassVar[tuple[JSON, ...]] = (
        {"role": "hub", "bearer": SIM_TOKEN, "does": "the hub's bot token (its connection)"},
        {"role": "staff", "bearer": SIM_STAFF_TOKEN,
         "does": "a person's user token: conversations.history shows the hub's notices, chat.postMessage answers"},
    )

    def __init__(self) -> None:
        super().__init__()
        self.token = SIM_TOKEN
        self.users: Table[str, SimUser] = Table("user")
        self.channels: Table[str, SimChannel] = Table("channel")
        # Slack ids: a type letter, then a number; each type counts on its own.
        self._serials = {"C": Serial(1), "G": Serial(1), "D": Serial(1), "U": Serial(2)}
        # A deterministic clock: every message is 7 minutes after the previous one.
        self.clock = Clock(datetime.fromtimestamp(START_EPOCH, UTC), timedelta(minutes=7))
        self.users.add(SimUser(BOT_USER_ID, BOT_NAME, "Continuum", None, is_bot=True))
        self._caller = BOT_USER_ID  # who the request being served acts as (set under self.lock)
        self._last_read: dict[str, list[float]] = {}  # read_limits(): when each history method was called

    # -- human-side helpers ---------------------------------------------------
    def add_user(self, name: str, real_name: str, email: str | None = None) -> str:
        with self.lock:
            return self.users.add(SimUser(self._id("U"), name, real_name, email)).id

    def add_channel(self, name: str, private: bool = False, member: bool = True, archived: bool = False,
                    general: bool = False, topic: str = "", purpose: str = "") -> str:
        with self.lock:
            name = name.lstrip("#").lower()
            if self._by_name(name) is not None:
                raise ValueError(f"channel #{name} exists")
            return self.channels.add(SimChannel(self._id("G" if private else "C"), name, START_EPOCH, BOT_USER_ID,
                                                private, member, archived, general, topic=topic,
                                                purpose=purpose)).id

    def say(self, channel: str, user_id: str, text: str) -> str:
        """A person posts in a channel (no API call, not an effect); returns the ts."""
        with self.lock:
            target = self._channel(channel)
            message = {"type": "message", "text": text, "user": user_id, "ts": self._ts(), "team": TEAM_ID}
            target.messages.append(message)
            return message["ts"]

    def messages(self, channel: str) -> list[JSON]:
        """A channel's messages, oldest first, metadata included."""
        with self.lock:
            return [json.loads(json.dumps(m)) for m in self._channel(channel).messages]

    def channel_id(self, name: str) -> str:
        found = self._by_name(name.lstrip("#").lower())
        if found is None:
            raise ValueError(f"no channel {name!r}")
        return found.id

    # -- state ------------------------------------------------------------------
    def _id(self, kind: str) -> str:
        return f"{kind}0{self._serials[kind].next():08d}"

    def _ts(self) -> str:
        moment = self.clock.now()
        return f"{int(moment.timestamp())}.{self.clock.ticks:06d}"

    def _by_name(self, name: str) -> SimChannel | None:
        return self.channels.find(lambda c: not c.is_im and c.name == name)

    def _channel(self, ref: str) -> SimChannel:
        target = self._find_channel(ref)
        if target is None:
            raise ValueError(f"no channel {ref!r}")
        return target

    def _find_channel(self, ref: str) -> SimChannel | None:
        ref = ref.strip()
        if ref in self.channels:
            return self.channels[ref]
        if ref[:1] in ("U", "W") and ref in self.users:
            return self._dm_with(ref)
        return self._by_name(ref.lstrip("#").lower())

    def _dm_with(self, user_id: str) -> SimChannel:
        return self.channels.find(lambda c: c.is_im and c.user == user_id) or self.channels.add(
            SimChannel(self._id("D"), user_id, START_EPOCH, BOT_USER_ID, is_private=True, is_im=True, user=user_id))

    def _visible(self, channel: SimChannel) -> bool:
        return channel.is_im or not channel.is_private or channel.is_member

    def _say_meanwhile(self, channel: SimChannel, rng: random.Random, served: Sequence[JSON]) -> None:
        """The "shift" paging fault on a history: someone posts while the hub reads it."""
        people = self.users.where(lambda u: not u.is_bot)
        if people:
            self.say(channel.id, people[rng.randrange(len(people))].id, "Posted while the hub was reading")

    def _channel_made_meanwhile(self, rng: random.Random, served: Sequence[SimChannel]) -> None:
        """The "shift" paging fault on the channel list: someone creates a channel while the hub lists them."""
        self.add_channel(f"created-meanwhile-{self._serials['C'].upcoming}")

    # -- request plumbing -----------------------------------------------------
    def authenticate(self, request: SimRequest) -> Response | None:
        token = request.bearer_token() or str(request.params.get("token") or "")
        if not token:
            return self._error("not_authed")
        if token == SIM_STAFF_TOKEN:
            found = self.users.find(lambda u: u.name == STAFF_NAME)
            self._caller = found.id if found else self.add_user(STAFF_NAME, "Lena Fischer", "lena.fischer@example.com")
            return None
        self._caller = BOT_USER_ID
        return self._error("invalid_auth") if token != self.token else None

    def _error(self, code: str, **extra: Any) -> Response:
        return self.json_response({"ok": False, "error": code, **extra})

    def _ok(self, body: JSON) -> Response:
        return self.json_response({"ok": True, **body})

    def _limit(self, params: JSON, most: int) -> int:
        try:
            return min(max(int(params.get("limit") or 100), 1), most)
        except ValueError:
            self.reject(self._error("invalid_arg_name"))

    def _after(self, params: JSON, kind: str) -> str | None:
        """What the page ``cursor`` resumes at (None without one); Slack's answer to a bad cursor otherwise."""
        cursor = str(params.get("cursor") or "")
        if not cursor:
            return None
        return CURSORS.decode(kind, cursor) or self.reject(self._error("invalid_cursor"))

    def _channel_json(self, channel: SimChannel) -> JSON:
        private = channel.is_private
        return {
            "id": channel.id, "name": channel.name, "is_channel": not private, "is_group": private, "is_im": False,
            "is_mpim": False, "is_private": private, "created": channel.created, "is_archived": channel.is_archived,
            "is_general": channel.is_general, "unlinked": 0, "name_normalized": channel.name, "is_shared": False,
            "is_org_shared": False, "is_pending_ext_shared": False, "pending_shared": [], "is_ext_shared": False,
            "creator": channel.creator, "is_member": channel.is_member, "num_members": 3,
            "topic": {"value": channel.topic, "creator": channel.creator if channel.topic else "", "last_set": 0},
            "purpose": {"value": channel.purpose, "creator": channel.creator if channel.purpose else "",
                        "last_set": 0},
            "previous_names": [],
        }

    # -- endpoints ------------------------------------------------------------
    @api("/auth.test", "GET", "POST")
    def auth_test(self, request: SimRequest) -> Response:
        return self._ok({"url": request.host_url, "team": TEAM_NAME, "user": BOT_NAME, "team_id": TEAM_ID,
                         "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False})

    @api("/chat.postMessage", "POST")
    def post_message(self, request: SimRequest) -> Response:
        params = request.params
        channel = self._find_channel(str(params.get("channel") or ""))
        if channel is None or not self._visible(channel):
            return self._error("channel_not_found")
        if channel.is_archived:
            return self._error("is_archived")
        if not channel.is_member and not channel.is_im and self._caller == BOT_USER_ID:
            return self._error("not_in_channel")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            if not params.get("blocks") and not params.get("attachments"):
                return self._error("no_text")
            text = ""
        if len(text) > MAX_TEXT:
            return self._error("msg_too_long")
        metadata = params.get("metadata")
        if isinstance(metadata, str) and metadata.strip():
            try:
                metadata = json.loads(metadata)
            except ValueError:
                return self._error("invalid_metadata_format")
        if metadata not in (None, "") and (not isinstance(metadata, dict) or not isinstance(
                metadata.get("event_type"), str) or not isinstance(metadata.get("event_payload"), dict)):
            return self._error("invalid_metadata_schema")
        message: JSON = {"type": "message", "text": text, "user": self._caller, "ts": self._ts(), "team": TEAM_ID}
        if self._caller == BOT_USER_ID:
            message["bot_id"] = BOT_ID
        if isinstance(metadata, dict):
            message["metadata"] = {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}
        if thread_ts := str(params.get("thread_ts") or ""):  # an answer in a thread (the hub's reply effect)
            if not any(m["ts"] == thread_ts for m in channel.messages):
                return self._error("thread_not_found")
            ts = self.reply(channel.id, thread_ts, self._caller, text,
                            **{k: message[k] for k in ("bot_id", "metadata") if k in message})
            message = self._message(channel, ts)
        else:
            channel.messages.append(message)
        if self._caller == BOT_USER_ID:  # a person's message is not the hub's effect
            self.count("replies" if thread_ts else "notifications")
        return self._ok({"channel": channel.id, "ts": message["ts"], "message": dict(message)})

    @api("/conversations.history", "GET", "POST")
    def history(self, request: SimRequest) -> Response:
        params = request.params
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None or not self._visible(channel):
            return self._error("channel_not_found")
        if (throttled := self._throttled("conversations.history")) is not None:
            return throttled
        limit = self._limit(params, self._most(999))
        latest, oldest = params.get("latest"), params.get("oldest")
        inclusive = _truthy(params.get("inclusive", False))

        def listing() -> list[JSON]:  # newest first, between latest and oldest
            return [m for m in sorted(channel.messages, key=lambda m: m["ts"], reverse=True)
                    if m.get("thread_ts") in (None, m["ts"])  # a thread's replies are in conversations.replies
                    and (not latest or float(m["ts"]) < float(latest) or (inclusive and m["ts"] == str(latest)))
                    and (not oldest or float(m["ts"]) > float(oldest) or (inclusive and m["ts"] == str(oldest)))]

        before = self._after(params, "next_ts")
        page = window(self.faults, listing, limit, start=lambda rows: seek(rows, lambda m: m["ts"] <= before)
                      if before else 0, resumed=before is not None,
                      shift=lambda rng, served: self._say_meanwhile(channel, rng, served))
        with_metadata = _truthy(params.get("include_all_metadata", False))
        body: JSON = {"messages": [{k: v for k, v in m.items() if with_metadata or k != "metadata"}
                                   for m in page.items], "has_more": page.more,
                      "pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0}
        if page.following is not None:
            body["response_metadata"] = {"next_cursor": CURSORS.encode("next_ts", page.following["ts"])}
        return self._ok(body)

    @api("/conversations.list", "GET", "POST")
    def list_conversations(self, request: SimRequest) -> Response:
        params = request.params
        types = {t.strip() for t in str(params.get("types") or "public_channel").split(",") if t.strip()}
        exclude_archived = _truthy(params.get("exclude_archived", False))
        limit = self._limit(params, 1000)

        def listing() -> list[SimChannel]:  # by id, as Slack's team cursor walks them
            return [c for c in sorted(self.channels.values(), key=lambda c: c.id)
                    if not c.is_im and self._visible(c)
                    and (("private_channel" in types) if c.is_private else ("public_channel" in types))
                    and not (exclude_archived and c.is_archived)]

        after = self._after(params, "team")
        page = window(self.faults, listing, limit, start=lambda rows: seek(rows, lambda c: c.id >= after)
                      if after else 0, resumed=after is not None, shift=self._channel_made_meanwhile)
        following = page.following
        return self._ok({"channels": [self._channel_json(c) for c in page.items],
                         "response_metadata": {"next_cursor": CURSORS.encode("team", following.id) if following
                                               else ""}})

    @api("/conversations.open", "POST")
    def open_conversation(self, request: SimRequest) -> Response:
        users = [u.strip() for u in str(request.params.get("users") or "").split(",") if u.strip()]
        if not users:
            return self._error("users_list_not_supplied")
        if len(users) > 1:
            return self._error("method_not_supported_for_channel_type")  # group DMs are not modelled
        if users[0] not in self.users or self.users[users[0]].is_bot:
            return self._error("user_not_found")
        existed = self.channels.find(lambda c: c.is_im and c.user == users[0]) is not None
        return self._ok({"channel": {"id": self._dm_with(users[0]).id}, "no_op": existed, "already_open": existed})

    @api("/users.lookupByEmail", "GET", "POST")
    def lookup_by_email(self, request: SimRequest) -> Response:
        email = str(request.params.get("email") or "").strip().lower()
        user = self.users.find(lambda u: bool(u.email) and str(u.email).lower() == email)
        if user is None:
            return self._error("users_not_found")
        return self._ok({"user": {
            "id": user.id, "team_id": TEAM_ID, "name": user.name, "deleted": False, "real_name": user.real_name,
            "tz": "Europe/Berlin", "tz_label": "Central European Summer Time", "tz_offset": 7200,
            "is_admin": False, "is_owner": False, "is_bot": False, "is_app_user": False, "updated": START_EPOCH,
            "profile": {
                "real_name": user.real_name, "real_name_normalized": user.real_name, "display_name": user.name,
                "display_name_normalized": user.name, "email": user.email, "avatar_hash": "g0123456789a",
                "title": "", "phone": "", "skype": "", "status_text": "", "status_emoji": "", "fields": None,
                "team": TEAM_ID,
            },
        }})
