"""An in-memory Slack workspace that speaks the Web API methods the connector uses, over real HTTP.

Methods live at ``/api/<method>`` as on ``https://slack.com``.  Behaviour
follows Slack: every answer is HTTP 200 with ``{"ok": true, ...}`` or
``{"ok": false, "error": "<code>"}`` (a bad or missing token gives
``invalid_auth``/``not_authed``); the token is read from ``Authorization:
Bearer`` or a ``token`` parameter; ``chat.postMessage`` takes a form or a JSON
body, a channel id, ``#name``, ``name`` or a user id (a DM from the app);
``conversations.history`` pages newest first with an opaque cursor and
returns message ``metadata`` only with ``include_all_metadata=true``.  Rate
limits (HTTP 429 + ``Retry-After``) come from the simkit fault knobs.

Answers stay inside the official 2020 Web API description except where Slack
has since added what the connector relies on (message metadata, the history
``response_metadata`` cursor); ``connectors/slack/simcontract.py`` lists those
additions and the contract test proves nothing else differs.

Test and demo helpers (``add_channel``, ``add_user``, ``say``) change state
directly, as people would in the Slack client; only API calls count as effects.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from continuum.simkit.server import Simulator

JSON = dict[str, Any]

from connectors.slack.plugin import SIM_TOKEN  # noqa: E402  (one home for the credential)
TEAM_ID = "T0CONTINUUM"
TEAM_NAME = "Continuum Demo"
BOT_USER_ID = "U0CONTBOT01"
BOT_ID = "B0CONTBOT01"
BOT_NAME = "continuum"
START_EPOCH = 1_790_000_000  # 2026-09-21T...Z; a fixed clock keeps every run alike
MAX_TEXT = 40_000


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


def _cursor(kind: str, value: str) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def _uncursor(kind: str, cursor: str) -> str | None:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, value = decoded.partition(":")
    return value if prefix == kind and value else None


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


class SlackSimulator(Simulator):
    system = "slack"
    rules = (
        Rule("/api/auth.test", endpoint="auth_test", methods=["GET", "POST"]),
        Rule("/api/chat.postMessage", endpoint="post_message", methods=["POST"]),
        Rule("/api/conversations.history", endpoint="history", methods=["GET", "POST"]),
        Rule("/api/conversations.list", endpoint="list_conversations", methods=["GET", "POST"]),
        Rule("/api/conversations.open", endpoint="open_conversation", methods=["POST"]),
        Rule("/api/users.lookupByEmail", endpoint="lookup_by_email", methods=["GET", "POST"]),
    )

    def __init__(self) -> None:
        super().__init__()
        self.token = SIM_TOKEN
        self.users: dict[str, SimUser] = {}
        self.channels: dict[str, SimChannel] = {}
        self._next = {"C": 1, "G": 1, "D": 1, "U": 2}
        self._tick = 0
        self._counts = {"created": 0, "updated": 0, "comments": 0, "replies": 0, "transitions": 0,
                        "notifications": 0, "calls": 0}
        self.users[BOT_USER_ID] = SimUser(BOT_USER_ID, BOT_NAME, "Continuum", None, is_bot=True)

    # -- bookkeeping ----------------------------------------------------------
    def _id(self, prefix: str) -> str:
        value = self._next[prefix]
        self._next[prefix] += 1
        return f"{prefix}0{value:08d}"

    def _ts(self) -> str:
        # A deterministic clock: every message is 7 minutes after the previous one.
        self._tick += 1
        return f"{START_EPOCH + 420 * self._tick}.{self._tick:06d}"



    # -- human-side helpers ---------------------------------------------------
    def add_user(self, name: str, real_name: str, email: str | None = None) -> str:
        with self.lock:
            uid = self._id("U")
            self.users[uid] = SimUser(uid, name, real_name, email)
            return uid

    def add_channel(self, name: str, private: bool = False, member: bool = True, archived: bool = False,
                    general: bool = False, topic: str = "", purpose: str = "") -> str:
        with self.lock:
            name = name.lstrip("#").lower()
            if self._by_name(name) is not None:
                raise ValueError(f"channel #{name} exists")
            cid = self._id("G" if private else "C")
            self.channels[cid] = SimChannel(cid, name, START_EPOCH, BOT_USER_ID, private, member, archived,
                                            general, topic=topic, purpose=purpose)
            return cid

    def say(self, channel: str, user_id: str, text: str) -> str:
        """A person posts in a channel (no API call, not an effect); returns the ts."""
        with self.lock:
            target = self._find_channel(channel)
            if target is None:
                raise ValueError(f"no channel {channel!r}")
            ts = self._ts()
            target.messages.append({"type": "message", "text": text, "user": user_id, "ts": ts, "team": TEAM_ID})
            return ts

    def messages(self, channel: str) -> list[JSON]:
        """A channel's messages, oldest first, metadata included."""
        with self.lock:
            target = self._find_channel(channel)
            if target is None:
                raise ValueError(f"no channel {channel!r}")
            return [json.loads(json.dumps(m)) for m in target.messages]

    def channel_id(self, name: str) -> str:
        found = self._by_name(name.lstrip("#").lower())
        if found is None:
            raise ValueError(f"no channel {name!r}")
        return found.id

    # -- lookups --------------------------------------------------------------
    def _by_name(self, name: str) -> SimChannel | None:
        return next((c for c in self.channels.values() if not c.is_im and c.name == name), None)

    def _find_channel(self, ref: str) -> SimChannel | None:
        ref = ref.strip()
        if ref in self.channels:
            return self.channels[ref]
        if ref[:1] in ("U", "W") and ref in self.users:
            return self._dm_with(ref)
        return self._by_name(ref.lstrip("#").lower())

    def _dm_with(self, user_id: str) -> SimChannel:
        for channel in self.channels.values():
            if channel.is_im and channel.user == user_id:
                return channel
        did = self._id("D")
        self.channels[did] = SimChannel(did, user_id, START_EPOCH, BOT_USER_ID, is_private=True, is_im=True,
                                        user=user_id)
        return self.channels[did]

    def _visible(self, channel: SimChannel) -> bool:
        return channel.is_im or not channel.is_private or channel.is_member

    # -- request plumbing -----------------------------------------------------
    @staticmethod
    def _params(request: Request) -> JSON:
        params: JSON = dict(request.args.items())
        if request.mimetype == "application/json":
            body = request.get_json(silent=True)
            if isinstance(body, dict):
                params.update(body)
        else:
            params.update(request.form.items())
        return params

    def _auth_error(self, request: Request, params: JSON) -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else str(params.get("token") or "")
        if not token:
            return self._error("not_authed")
        if token != self.token:
            return self._error("invalid_auth")
        return None

    def _error(self, code: str, **extra: Any) -> Response:
        return self.json_response({"ok": False, "error": code, **extra})

    def _ok(self, body: JSON) -> Response:
        return self.json_response({"ok": True, **body})

    def _message_view(self, message: JSON, with_metadata: bool) -> JSON:
        view = dict(message)
        if not with_metadata:
            view.pop("metadata", None)
        return view

    def _channel_json(self, channel: SimChannel) -> JSON:
        return {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": channel.is_private,
            "created": channel.created,
            "is_archived": channel.is_archived,
            "is_general": channel.is_general,
            "unlinked": 0,
            "name_normalized": channel.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "is_ext_shared": False,
            "creator": channel.creator,
            "is_member": channel.is_member,
            "num_members": 3,
            "topic": {"value": channel.topic, "creator": channel.creator if channel.topic else "", "last_set": 0},
            "purpose": {"value": channel.purpose, "creator": channel.creator if channel.purpose else "",
                        "last_set": 0},
            "previous_names": [],
        }

    # -- endpoints ------------------------------------------------------------
    def auth_test(self, request: Request) -> Response:
        params = self._params(request)
        denied = self._auth_error(request, params)
        if denied is not None:
            return denied
        return self._ok({"url": request.host_url, "team": TEAM_NAME, "user": BOT_NAME, "team_id": TEAM_ID,
                         "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False})

    def post_message(self, request: Request) -> Response:
        params = self._params(request)
        denied = self._auth_error(request, params)
        if denied is not None:
            return denied
        channel = self._find_channel(str(params.get("channel") or ""))
        if channel is None or not self._visible(channel):
            return self._error("channel_not_found")
        if channel.is_archived:
            return self._error("is_archived")
        if not channel.is_member and not channel.is_im:
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
        if metadata not in (None, ""):
            if (not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str)
                    or not isinstance(metadata.get("event_payload"), dict)):
                return self._error("invalid_metadata_schema")
        message: JSON = {"type": "message", "text": text, "user": BOT_USER_ID, "bot_id": BOT_ID,
                         "ts": self._ts(), "team": TEAM_ID}
        if isinstance(metadata, dict):
            message["metadata"] = {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}
        channel.messages.append(message)
        self._counts["notifications"] += 1
        return self._ok({"channel": channel.id, "ts": message["ts"], "message": dict(message)})

    def history(self, request: Request) -> Response:
        params = self._params(request)
        denied = self._auth_error(request, params)
        if denied is not None:
            return denied
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None or not self._visible(channel):
            return self._error("channel_not_found")
        try:
            limit = min(max(int(params.get("limit") or 100), 1), 999)
        except ValueError:
            return self._error("invalid_arg_name")
        newest_first = sorted(channel.messages, key=lambda m: m["ts"], reverse=True)
        latest, oldest = params.get("latest"), params.get("oldest")
        inclusive = _truthy(params.get("inclusive", False))
        if latest:
            newest_first = [m for m in newest_first if float(m["ts"]) < float(latest)
                            or (inclusive and m["ts"] == str(latest))]
        if oldest:
            newest_first = [m for m in newest_first if float(m["ts"]) > float(oldest)
                            or (inclusive and m["ts"] == str(oldest))]
        cursor = str(params.get("cursor") or "")
        if cursor:
            before = _uncursor("next_ts", cursor)
            if before is None:
                return self._error("invalid_cursor")
            newest_first = [m for m in newest_first if m["ts"] <= before]
        page, rest = newest_first[:limit], newest_first[limit:]
        with_metadata = _truthy(params.get("include_all_metadata", False))
        body: JSON = {"messages": [self._message_view(m, with_metadata) for m in page], "has_more": bool(rest),
                      "pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0}
        if rest:
            body["response_metadata"] = {"next_cursor": _cursor("next_ts", rest[0]["ts"])}
        return self._ok(body)

    def list_conversations(self, request: Request) -> Response:
        params = self._params(request)
        denied = self._auth_error(request, params)
        if denied is not None:
            return denied
        types = {t.strip() for t in str(params.get("types") or "public_channel").split(",") if t.strip()}
        exclude_archived = _truthy(params.get("exclude_archived", False))
        try:
            limit = min(max(int(params.get("limit") or 100), 1), 1000)
        except ValueError:
            return self._error("invalid_arg_name")
        wanted = [
            c for c in sorted(self.channels.values(), key=lambda c: c.id)
            if not c.is_im and self._visible(c)
            and (("private_channel" in types) if c.is_private else ("public_channel" in types))
            and not (exclude_archived and c.is_archived)
        ]
        cursor = str(params.get("cursor") or "")
        if cursor:
            after = _uncursor("team", cursor)
            if after is None:
                return self._error("invalid_cursor")
            wanted = [c for c in wanted if c.id >= after]
        page, rest = wanted[:limit], wanted[limit:]
        return self._ok({"channels": [self._channel_json(c) for c in page],
                         "response_metadata": {"next_cursor": _cursor("team", rest[0].id) if rest else ""}})

    def open_conversation(self, request: Request) -> Response:
        params = self._params(request)
        denied = self._auth_error(request, params)
        if denied is not None:
            return denied
        users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if not users:
            return self._error("users_list_not_supplied")
        if len(users) > 1:
            return self._error("method_not_supported_for_channel_type")  # group DMs are not modelled
        if users[0] not in self.users or self.users[users[0]].is_bot:
            return self._error("user_not_found")
        existed = any(c.is_im and c.user == users[0] for c in self.channels.values())
        channel = self._dm_with(users[0])
        return self._ok({"channel": {"id": channel.id}, "no_op": existed, "already_open": existed})

    def lookup_by_email(self, request: Request) -> Response:
        params = self._params(request)
        denied = self._auth_error(request, params)
        if denied is not None:
            return denied
        email = str(params.get("email") or "").strip().lower()
        user = next((u for u in self.users.values() if u.email and u.email.lower() == email), None)
        if user is None:
            return self._error("users_not_found")
        display = user.name
        return self._ok({"user": {
            "id": user.id, "team_id": TEAM_ID, "name": user.name, "deleted": False, "real_name": user.real_name,
            "tz": "Europe/Berlin", "tz_label": "Central European Summer Time", "tz_offset": 7200,
            "is_admin": False, "is_owner": False, "is_bot": False, "is_app_user": False, "updated": START_EPOCH,
            "profile": {
                "real_name": user.real_name, "real_name_normalized": user.real_name, "display_name": display,
                "display_name_normalized": display, "email": user.email, "avatar_hash": "g0123456789a",
                "title": "", "phone": "", "skype": "", "status_text": "", "status_emoji": "", "fields": None,
                "team": TEAM_ID,
            },
        }})
