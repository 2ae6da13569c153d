"""The simulator's records and how Graph shows them (field by field, only the fields asked for)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.facebook.plugin import SIM_PAGE_ID

JSON = dict[str, Any]
PAGE_NAME, PAGE_LINK = "Acme App", "https://www.facebook.com/acmeapp"


def graph_time(moment: datetime) -> str:
    """Graph's datetime format: ISO 8601 to the second with a ``+0000`` offset."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class SimPerson:
    id: str  # the app-scoped id comments show in ``from``
    name: str
    psid: str  # the Page-scoped id Messenger uses for the same person
    email: str | None = None


@dataclass
class SimPost:
    id: str  # PAGEID_POSTID
    author: JSON  # {"id", "name"}: the Page, or a visitor
    message: str
    created: datetime
    updated: datetime  # moves on an edit and on every new comment, as Graph documents


@dataclass
class SimComment:
    id: str  # POSTID_COMMENTID
    post_id: str
    parent_id: str | None  # the top-level comment a reply hangs under
    author: JSON
    message: str
    created: datetime
    is_hidden: bool = False


@dataclass
class SimMessage:
    id: str
    conversation_id: str
    sender: JSON  # {"id", "name", "email"}
    recipient: JSON
    message: str
    created: datetime


@dataclass
class SimConversation:
    id: str  # t_...
    customer: SimPerson
    updated: datetime
    message_ids: list[str] = field(default_factory=list)  # oldest first


Serializer = dict[str, Callable[[Any], Any]]

POST_VIEW: Serializer = {
    "id": lambda p: p.id, "message": lambda p: p.message, "created_time": lambda p: graph_time(p.created),
    "updated_time": lambda p: graph_time(p.updated), "from": lambda p: dict(p.author),
    "permalink_url": lambda p: f"{PAGE_LINK}/posts/{p.id.split('_')[1]}", "is_published": lambda p: True,
    "status_type": lambda p: "mobile_status_update",
}
COMMENT_VIEW: Serializer = {
    "id": lambda c: c.id, "message": lambda c: c.message, "created_time": lambda c: graph_time(c.created),
    "from": lambda c: dict(c.author), "is_hidden": lambda c: c.is_hidden, "can_comment": lambda c: True,
    "permalink_url": lambda c: f"{PAGE_LINK}/posts/{c.post_id.split('_')[1]}?comment_id={c.id.split('_')[1]}",
}
THREAD_VIEW: Serializer = {
    "id": lambda t: t.id, "updated_time": lambda t: graph_time(t.updated),
    "message_count": lambda t: len(t.message_ids),
    "link": lambda t: f"/acmeapp/inbox/{t.id[2:]}", "can_reply": lambda t: True,
    "participants": lambda t: {"data": [{"name": t.customer.name, "email": t.customer.email or
                                         f"{t.customer.psid}@facebook.com", "id": t.customer.psid},
                                        {"name": PAGE_NAME, "email": "acmeapp@facebook.com", "id": SIM_PAGE_ID}]},
}
MESSAGE_VIEW: Serializer = {
    "id": lambda m: m.id, "message": lambda m: m.message, "created_time": lambda m: graph_time(m.created),
    "from": lambda m: dict(m.sender), "to": lambda m: {"data": [dict(m.recipient)]},
}
PAGE_VIEW: Serializer = {"id": lambda _: SIM_PAGE_ID, "name": lambda _: PAGE_NAME, "link": lambda _: PAGE_LINK}
# What Graph answers without a ``fields`` parameter.
DEFAULT_FIELDS = {"PagePost": ("created_time", "message", "id"), "Comment": ("created_time", "from", "message", "id"),
                  "UnifiedThread": ("id", "updated_time", "link"), "UnifiedMessage": ("id", "created_time"),
                  "Page": ("name", "id")}
