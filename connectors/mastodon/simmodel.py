"""The Mastodon simulator's state and how the server shows it: accounts, statuses rendered to HTML as
Mastodon renders plain text, mention notifications, and the entities of the API (Status, Account,
Notification, Instance), as the description requires them."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from continuum.simkit import Table

JSON = dict[str, Any]
LOCAL_DOMAIN = "mastodon.example"
MAX_CHARACTERS = 500
VISIBILITIES = ("public", "unlisted", "private", "direct")
# As Mastodon's Account::MENTION_RE and Tag::HASHTAG_RE find them in plain text; URLs need a scheme.
MENTION_RE = re.compile(r"(?<![=/\w@])@(\w+(?:[\w.-]*\w)?)(?:@([\w-]+(?:\.[\w-]+)+))?")
HASHTAG_RE = re.compile(r"(?<![/)\w#])#(\w*[^\W\d]\w*)")
URL_RE = re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)]", re.IGNORECASE)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SimAccount:
    id: int
    username: str
    domain: str | None  # None: on this server
    display_name: str
    created_at: str
    note: str = ""

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"

    @property
    def url(self) -> str:
        return f"https://{self.domain or LOCAL_DOMAIN}/@{self.username}"


@dataclass
class SimStatus:
    id: int
    account_id: int
    text: str
    visibility: str
    created_at: str
    in_reply_to_id: int | None = None
    edited_at: str | None = None
    spoiler_text: str = ""
    language: str | None = "en"
    mentions: list[int] = field(default_factory=list)
    application: str | None = None  # the app that posted it through the API
    deleted: bool = False  # gone for the API; kept here only so tests can tell what was there


@dataclass
class SimNotification:
    id: int
    account_id: int  # who receives it
    from_id: int
    status_id: int
    created_at: str
    type: str = "mention"


class SimState:
    def __init__(self) -> None:
        self.accounts: Table[int, SimAccount] = Table("account", first_id=109_400_000_000_000_001)
        self.statuses: Table[int, SimStatus] = Table("status", first_id=113_100_000_000_000_001)
        self.notifications: Table[int, SimNotification] = Table("notification", first_id=2_100_001)
        self.idempotency: dict[tuple[int, str], int] = {}  # (account, Idempotency-Key) -> status

    def by_acct(self, acct: str) -> SimAccount | None:
        name, _, domain = acct.lower().lstrip("@").partition("@")
        local = domain in ("", LOCAL_DOMAIN)
        return self.accounts.find(lambda a: a.username.lower() == name
                                  and (a.domain is None if local else (a.domain or "").lower() == domain))

    def mentioned(self, text: str) -> list[SimAccount]:
        found = [self.by_acct(f"{m.group(1)}@{m.group(2) or LOCAL_DOMAIN}") for m in MENTION_RE.finditer(text)]
        return list({a.id: a for a in found if a is not None}.values())

    def visible(self, status: SimStatus, viewer: int) -> bool:
        """Public and unlisted for all; private and direct for the author and those mentioned (no follows here)."""
        return status.visibility in ("public", "unlisted") or viewer == status.account_id or viewer in status.mentions

    def remove(self, status_id: int) -> None:
        """A deleted status is gone, and its notifications with it, as Mastodon's RemoveStatusService does."""
        self.statuses[status_id].deleted = True

    def live(self, status_id: int | None, viewer: int) -> SimStatus | None:
        """The status the API shows ``viewer`` under this id, if any."""
        status = self.statuses.get(status_id) if status_id is not None else None
        return status if status is not None and not status.deleted and self.visible(status, viewer) else None


def text_length(text: str) -> int:
    """What the server's StatusLengthValidator counts: a URL is 23 characters, a mention only its local part."""
    text = URL_RE.sub("x" * 23, text)
    return len(MENTION_RE.sub(lambda m: f"@{m.group(1)}", text))


def render(state: SimState, text: str) -> str:
    """Mastodon's plain-text formatter: HTML escaped, mentions of known accounts, hashtags and URLs linked,
    paragraphs and line breaks kept."""
    def link(match: re.Match[str]) -> str:
        whole = match.group(0)
        if match.re is URL_RE:
            scheme, _, rest = whole.partition("://")
            return (f'<a href="{html.escape(whole)}" target="_blank" rel="nofollow noopener" translate="no">'
                    f'<span class="invisible">{scheme}://</span><span class="">{html.escape(rest)}</span></a>')
        if match.re is HASHTAG_RE:
            tag = match.group(1)
            return (f'<a href="https://{LOCAL_DOMAIN}/tags/{tag.lower()}" class="mention hashtag" rel="tag">'
                    f'#<span>{tag}</span></a>')
        account = state.by_acct(f"{match.group(1)}@{match.group(2) or LOCAL_DOMAIN}")
        if account is None:
            return html.escape(whole)
        return (f'<span class="h-card" translate="no"><a href="{account.url}" class="u-url mention">'
                f'@<span>{account.username}</span></a></span>')

    combined = re.compile("|".join(f"(?:{p.pattern})" for p in (URL_RE, MENTION_RE, HASHTAG_RE)), re.IGNORECASE)
    out, pos = [], 0
    for match in combined.finditer(text):
        out.append(html.escape(text[pos:match.start()], quote=False))
        piece = match.group(0)
        for pattern in (URL_RE, MENTION_RE, HASHTAG_RE):
            exact = pattern.fullmatch(text, match.start(), match.end())
            if exact:
                out.append(link(exact))
                break
        else:
            out.append(html.escape(piece, quote=False))
        pos = match.end()
    out.append(html.escape(text[pos:], quote=False))
    body = "".join(out)
    paragraphs = [p.replace("\n", "<br />") for p in re.split(r"\n\s*\n", body.strip()) if p]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def account_json(account: SimAccount) -> JSON:
    avatar = f"https://{LOCAL_DOMAIN}/avatars/original/missing.png"
    return {"id": str(account.id), "username": account.username, "acct": account.acct,
            "display_name": account.display_name, "locked": False, "bot": False, "group": False,
            "discoverable": True, "indexable": True, "created_at": account.created_at, "note": account.note,
            "url": account.url, "uri": f"https://{account.domain or LOCAL_DOMAIN}/users/{account.username}",
            "avatar": avatar, "avatar_static": avatar, "header": avatar, "header_static": avatar,
            "followers_count": 0, "following_count": 0, "statuses_count": 0, "emojis": [], "fields": []}


def status_json(state: SimState, status: SimStatus, with_source: bool = False) -> JSON:
    author = state.accounts[status.account_id]
    parent = state.statuses.get(status.in_reply_to_id) if status.in_reply_to_id else None
    mentions = [state.accounts[m] for m in status.mentions if m in state.accounts]
    url = f"https://{LOCAL_DOMAIN}/@{author.acct}/{status.id}"
    body: JSON = {
        "id": str(status.id), "created_at": status.created_at, "edited_at": status.edited_at,
        "in_reply_to_id": None if status.in_reply_to_id is None else str(status.in_reply_to_id),
        "in_reply_to_account_id": None if parent is None else str(parent.account_id),
        "sensitive": bool(status.spoiler_text), "spoiler_text": status.spoiler_text,
        "visibility": status.visibility, "language": status.language, "uri": url.replace("/@", "/users/", 1),
        "url": url, "replies_count": sum(1 for s in state.statuses.values()
                                         if s.in_reply_to_id == status.id and not s.deleted),
        "reblogs_count": 0, "favourites_count": 0, "content": render(state, status.text),
        "reblog": None, "account": account_json(author), "media_attachments": [], "emojis": [], "card": None,
        "poll": None, "application": {"name": status.application, "website": None} if status.application else None,
        "mentions": [{"id": str(a.id), "username": a.username, "acct": a.acct, "url": a.url} for a in mentions],
        "tags": [{"name": t.lower(), "url": f"https://{LOCAL_DOMAIN}/tags/{t.lower()}"}
                 for t in dict.fromkeys(m.group(1) for m in HASHTAG_RE.finditer(status.text))],
    }
    if with_source:
        body["text"] = status.text  # as a deletion answers it, for "delete and redraft"
    return body


def notification_json(state: SimState, notification: SimNotification) -> JSON:
    return {"id": str(notification.id), "type": notification.type, "created_at": notification.created_at,
            "group_key": f"ungrouped-{notification.id}", "account": account_json(state.accounts[notification.from_id]),
            "status": status_json(state, state.statuses[notification.status_id])}


def credential_json(account: SimAccount) -> JSON:
    return {**account_json(account),
            "source": {"privacy": "public", "sensitive": False, "language": "en", "note": account.note,
                       "fields": [], "follow_requests_count": 0, "indexable": True},
            "role": {"id": "-99", "name": "", "color": "", "permissions": "0", "highlighted": False}}


def instance_json(max_characters: int) -> JSON:
    return {
        "domain": LOCAL_DOMAIN, "title": "Mastodon (simulated)", "version": "4.3.0",
        "source_url": "https://github.com/mastodon/mastodon", "description": "A simulated Mastodon server.",
        "usage": {"users": {"active_month": 5}}, "thumbnail": {"url": f"https://{LOCAL_DOMAIN}/thumb.png"},
        "icon": [], "languages": ["en"], "api_versions": {"mastodon": 2}, "rules": [],
        "configuration": {
            "urls": {"streaming": f"wss://{LOCAL_DOMAIN}"},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {"max_characters": max_characters, "max_media_attachments": 4,
                         "characters_reserved_per_url": 23},
            "media_attachments": {"supported_mime_types": ["image/png"], "image_size_limit": 16777216,
                                  "image_matrix_limit": 33177600, "video_size_limit": 103809024,
                                  "video_frame_rate_limit": 120, "video_matrix_limit": 8294400},
            "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300,
                      "max_expiration": 2629746},
            "translation": {"enabled": False}},
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "contact": {"email": f"admin@{LOCAL_DOMAIN}"},
    }
