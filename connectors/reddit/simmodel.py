"""The Reddit simulator's state and how Reddit serialises it (``Listing``, ``t1``/``t3``/``t4`` things).

Field names and shapes follow what Reddit's API returns (and praw's models read): ``created_utc`` floats,
``edited`` false or a timestamp, a deleted author as ``"[deleted]"``, fullnames as ``<kind>_<base36 id>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = _DIGITS[rest] + out
        if not number:
            return out


@dataclass
class SimUser:
    id: int
    name: str
    password: str

    @property
    def fullname(self) -> str:
        return f"t2_{base36(self.id)}"


@dataclass
class SimThing:
    """A submission (t3), comment (t1) or private message (t4)."""

    kind: str
    id: int
    author: SimUser
    text: str  # a comment's or message's body, a submission's selftext
    created: float
    subreddit: str | None = None
    title: str = ""  # a submission's title, a message's subject
    link_id: str | None = None  # t1: the submission's fullname
    parent_id: str | None = None  # t1: t1_/t3_ fullname; t4: the message replied to
    dest: str | None = None  # t4: the recipient's name
    first_message: int | None = None  # t4: the conversation's first message id
    edited: float | bool = False
    deleted: str | None = None  # "[deleted]" by the author, "[removed]" by a moderator
    mentions: tuple[str, ...] = ()  # usernames named with u/ in the text (they get it in their inbox)
    read_by: set[str] = field(default_factory=set)

    @property
    def sid(self) -> str:
        return base36(self.id)

    @property
    def fullname(self) -> str:
        return f"{self.kind}_{self.sid}"


def _slug(title: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "_".join(words)[:50] or "post"


class Views:
    """Serialisation, given how to find a submission by fullname."""

    def __init__(self, things: dict[str, SimThing]) -> None:
        self.things = things

    def _author(self, thing: SimThing) -> JSON:
        if thing.deleted:
            return {"author": "[deleted]"}  # and no author_fullname, as Reddit serves it
        return {"author": thing.author.name, "author_fullname": thing.author.fullname}

    def permalink(self, thing: SimThing) -> str:
        if thing.kind == "t3":
            return f"/r/{thing.subreddit}/comments/{thing.sid}/{_slug(thing.title)}/"
        link = self.things[thing.link_id or ""]
        return f"/r/{thing.subreddit}/comments/{link.sid}/{_slug(link.title)}/{thing.sid}/"

    def submission(self, thing: SimThing) -> JSON:
        text = thing.deleted or thing.text
        return {"kind": "t3", "data": {
            "id": thing.sid, "name": thing.fullname, "title": thing.title, "selftext": text,
            "selftext_html": None, "is_self": True, "subreddit": thing.subreddit,
            "subreddit_name_prefixed": f"r/{thing.subreddit}", "created_utc": thing.created,
            "created": thing.created, "edited": thing.edited, "permalink": self.permalink(thing),
            "url": f"https://www.reddit.com{self.permalink(thing)}", "num_comments": sum(
                1 for t in self.things.values() if t.link_id == thing.fullname), "score": 1, "ups": 1,
            "over_18": False, "locked": False, "stickied": False, "archived": False, "distinguished": None,
            "removed_by_category": "moderator" if thing.deleted == "[removed]" else None, **self._author(thing)}}

    def comment(self, thing: SimThing, *, inbox_of: str | None = None) -> JSON:
        link = self.things[thing.link_id or ""]
        data: JSON = {"id": thing.sid, "name": thing.fullname, "body": thing.deleted or thing.text,
                      "parent_id": thing.parent_id, "subreddit": thing.subreddit, "created_utc": thing.created,
                      "created": thing.created, "link_title": link.title, **self._author(thing)}
        if inbox_of is None:  # subreddit, user and info listings: the full comment
            data.update({"link_id": thing.link_id, "edited": thing.edited, "permalink": self.permalink(thing),
                         "subreddit_name_prefixed": f"r/{thing.subreddit}", "link_author": link.author.name,
                         "link_permalink": f"https://www.reddit.com{self.permalink(link)}", "score": 1,
                         "ups": 1, "replies": "", "distinguished": None, "stickied": False, "archived": False,
                         "is_submitter": link.author.id == thing.author.id, "body_html": None})
        else:  # the inbox's view: no link_id; the context path names the submission
            parent = self.things.get(thing.parent_id or "")
            kind = "username_mention" if inbox_of in thing.mentions and (parent is None or parent.author.name !=
                                                                          inbox_of) else (
                "post_reply" if (thing.parent_id or "").startswith("t3_") else "comment_reply")
            data.update({"was_comment": True, "type": kind, "dest": inbox_of, "new": inbox_of not in thing.read_by,
                         "subject": kind.replace("_", " "),
                         "context": f"{self.permalink(thing)}?context=3", "body_html": None})
        return {"kind": "t1", "data": data}

    def message(self, thing: SimThing, viewer: str) -> JSON:
        first = f"t4_{base36(thing.first_message)}" if thing.first_message else None
        return {"kind": "t4", "data": {
            "id": thing.sid, "name": thing.fullname, "subject": thing.title, "body": thing.text, "body_html": None,
            "author": thing.author.name, "author_fullname": thing.author.fullname, "dest": thing.dest,
            "created_utc": thing.created, "created": thing.created, "parent_id": thing.parent_id,
            "first_message_name": first, "first_message": thing.first_message, "was_comment": False,
            "new": viewer not in thing.read_by, "context": "", "replies": "", "subreddit": None,
            "distinguished": None}}

    def thing(self, thing: SimThing, viewer: str, *, inbox: bool = False) -> JSON:
        if thing.kind == "t3":
            return self.submission(thing)
        if thing.kind == "t4":
            return self.message(thing, viewer)
        return self.comment(thing, inbox_of=viewer if inbox else None)


def listing(children: list[JSON], after: str | None, before: str | None) -> JSON:
    return {"kind": "Listing", "data": {"after": after, "before": before, "dist": len(children), "modhash": None,
                                        "geo_filter": "", "children": children}}
