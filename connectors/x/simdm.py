"""The X simulator's direct messages: one-to-one conversations and their ``MessageCreate`` events.

Behaviour follows X and its published description (the contract harness validates every exchange):

* a one-to-one conversation's id is the two user ids joined by ``-``, the smaller first, as X makes it;
* ``GET /2/dm_events`` lists the caller's events across conversations, ``GET /2/dm_conversations/{id}/dm_events``
  one conversation's, newest first, ``max_results`` 1..100 (default 100), an opaque base32hex
  ``pagination_token``; an event always has ``id``, ``event_type`` and ``text``, ``dm_event.fields`` adds
  ``created_at``/``dm_conversation_id``, ``expansions=sender_id`` adds ``sender_id`` and the senders in
  ``includes.users``; ``text`` comes as typed (DMs are not HTML-escaped like posts);
* ``POST /2/dm_conversations/{id}/messages`` (a participant only) and ``.../with/{participant_id}/messages``
  answer 201 with ``dm_conversation_id`` and ``dm_event_id``; over 10,000 characters is refused.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from continuum.simkit import Response, SimRequest, Simulator, Table, route, seek, window

if TYPE_CHECKING:
    from connectors.x.simulator import SimUser

JSON = dict[str, Any]
DM_LIMIT = 10_000  # characters in one direct message
DM_FIELDS = frozenset({"attachments", "created_at", "dm_conversation_id", "entities", "event_type", "id", "text"})
DM_EXPANSIONS = frozenset({"attachments.media_keys", "participant_ids", "referenced_posts", "sender_id"})
EVENT_TYPES = frozenset({"MessageCreate", "ParticipantsJoin", "ParticipantsLeave"})


@dataclass
class SimDM:
    id: int
    conversation_id: str
    sender_id: int
    text: str
    created_at: str


def conversation_of(one: int, other: int) -> str:
    return f"{min(one, other)}-{max(one, other)}"


class DirectMessages(Simulator):
    """Mixed into :class:`~connectors.x.simulator.XSimulator`; uses its users, clock, tokens and windows."""

    users: Table[int, SimUser]
    company_id: int
    _caller: int

    if TYPE_CHECKING:  # defined by XSimulator
        def _spend(self, endpoint: str) -> None: ...
        def _json(self, body: JSON, status: int = 200, problem: bool = False) -> Response: ...
        def _invalid(self, parameter: str, message: str) -> Response: ...
        def _blank(self, status: int, title: str, detail: str) -> Response: ...
        def _fields(self, request: SimRequest, name: str, known: frozenset[str]) -> set[str]: ...
        def _user(self, handle: str) -> SimUser | None: ...
        def add_user(self, handle: str, name: str) -> int: ...
        def _now(self) -> str: ...
        @staticmethod
        def _untoken(scope: str, token: str) -> int | None: ...

    def __init__(self) -> None:
        super().__init__()
        self.dm_events_table: Table[int, SimDM] = Table("dm_event", first_id=1_897_000_000_000_000_001)

    # -- human-side helpers ---------------------------------------------------------
    def dm(self, handle: str, text: str, to: str | None = None) -> int:
        """A direct message from ``handle`` to ``to`` (the company unless named), as the app sends it."""
        with self.lock:
            sender = self._user(handle) or self.users[self.add_user(handle, handle)]
            other = self._user(to) if to else self.users[self.company_id]
            if other is None:
                raise ValueError(f"@{to} does not exist")
            return self._send(sender.id, conversation_of(sender.id, other.id), text)

    def dms(self, conversation: str | None = None) -> list[JSON]:
        """Every message, oldest first, with its sender's handle."""
        with self.lock:
            return [{"id": e.id, "conversation_id": e.conversation_id, "sender": self.users[e.sender_id].username,
                     "text": e.text} for e in self.dm_events_table.where(
                         lambda e: conversation is None or e.conversation_id == conversation)]

    def _send(self, sender: int, conversation: str, text: str) -> int:
        table = self.dm_events_table
        return table.add(SimDM(table.next_id(), conversation, sender, text, self._now())).id

    # -- answers ------------------------------------------------------------------------
    def _dm_json(self, event: SimDM, fields: set[str], expansions: set[str]) -> JSON:
        body: JSON = {"id": str(event.id), "event_type": "MessageCreate", "text": event.text}
        values: JSON = {"created_at": event.created_at, "dm_conversation_id": event.conversation_id}
        body.update({k: v for k, v in values.items() if k in fields})
        if "sender_id" in expansions:
            body["sender_id"] = str(event.sender_id)
        return body

    def _dm_listing(self, request: SimRequest, conversation: str | None) -> Response:
        size = request.args.get("max_results", default=100, type=int)
        if not 1 <= size <= 100:
            return self._invalid("max_results", f"The `max_results` query parameter value [{size}] is not between "
                                                "1 and 100")
        fields = self._fields(request, "dm_event.fields", DM_FIELDS)
        expansions = self._fields(request, "expansions", DM_EXPANSIONS)
        user_fields = self._fields(request, "user.fields", frozenset({"id", "name", "username", "created_at"}))
        kinds = self._fields(request, "event_types", EVENT_TYPES) or set(EVENT_TYPES)
        caller = str(self._caller)
        scope, token = f"dm:{caller}:{conversation or ''}:{','.join(sorted(kinds))}", request.args.get(
            "pagination_token")
        anchor = self._untoken(scope, token) if token else None
        if token and anchor is None:
            return self._invalid("pagination_token", "The `pagination_token` query parameter value is not valid")

        def mine(event: SimDM) -> bool:
            return caller in event.conversation_id.split("-") and (conversation in (None, event.conversation_id))
        page = window(self.faults, lambda: self.dm_events_table.where(
            lambda e: "MessageCreate" in kinds and mine(e), newest_first=True), size, resumed=anchor is not None,
            start=0 if anchor is None else lambda listing: seek(listing, lambda e: e.id <= anchor))
        body: JSON = {"data": [self._dm_json(e, fields, expansions) for e in page.items]} if page.items else {}
        senders = dict.fromkeys(e.sender_id for e in page.items) if "sender_id" in expansions else {}
        if senders:
            shown = {"id", "name", "username"} | user_fields
            body["includes"] = {"users": [{k: v for k, v in {"id": str(u.id), "name": u.name, "username": u.username,
                                                             "created_at": self._now()}.items() if k in shown}
                                          for u in (self.users[i] for i in senders)]}
        meta: JSON = {"result_count": len(page.items)}
        if page.following is not None:
            meta["next_token"] = base64.b32hexencode(f"{scope}:{page.following.id}".encode()).decode().rstrip("=")
        return self._json({**body, "meta": meta})

    def _created(self, request: SimRequest, conversation: str) -> Response:
        sent = request.get_json(silent=True)
        text = str((sent if isinstance(sent, dict) else {}).get("text") or "")
        if not text.strip():
            return self._invalid("text", "The `text` field is required when there is no attachment")
        if len(text) > DM_LIMIT:
            return self._invalid("text", f"The `text` field is longer than {DM_LIMIT} characters")
        event = self._send(self._caller, conversation, text)
        if self._caller == self.company_id:  # only the hub's writes are its effects
            self.count("messages")
        return self._json({"data": {"dm_conversation_id": conversation, "dm_event_id": str(event)}}, 201)

    # -- endpoints --------------------------------------------------------------------------
    @route("/2/dm_events", "GET")
    def dm_events(self, request: SimRequest) -> Response:
        self._spend("dm_events")
        return self._dm_listing(request, None)

    @route("/2/dm_conversations/<conversation>/dm_events", "GET")
    def dm_conversation_events(self, request: SimRequest, conversation: str) -> Response:
        self._spend("dm_events")
        return self._dm_listing(request, self._participant(conversation))

    @route("/2/dm_conversations/<conversation>/messages", "POST")
    def dm_send(self, request: SimRequest, conversation: str) -> Response:
        self._spend("dm_create")
        return self._created(request, self._participant(conversation))

    @route("/2/dm_conversations/with/<participant>/messages", "POST")
    def dm_send_to(self, request: SimRequest, participant: str) -> Response:
        self._spend("dm_create")
        if not participant.isdigit() or int(participant) not in self.users or int(participant) == self._caller:
            return self._blank(403, "Forbidden", "You cannot send messages to this user.")
        return self._created(request, conversation_of(self._caller, int(participant)))

    def _participant(self, conversation: str) -> str:
        """The conversation, if the caller is in it (X answers 403 to anyone else, as to a missing one)."""
        if str(self._caller) not in conversation.split("-") or len(conversation.split("-")) != 2:
            self.reject(self._blank(403, "Forbidden", "You are not a participant of this conversation."))
        return conversation
