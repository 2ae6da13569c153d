"""A support mailbox as a Continuum system: read customers' mail over IMAP, answer in their thread over SMTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from email.headerregistry import Address
from typing import Any

from pydantic import BaseModel

from connectors.email import message as mail
from connectors.email.attachments import attachments_of
from connectors.email.client import EmailClient, MailError
from connectors.email.config import EmailConfig
from connectors.email.markup import KEY_HEADER, compose, escape_text, signed_key
from connectors.email.plugin import CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.kit import EffectDispatcher, Stream, StreamCursor, succeeded

log = logging.getLogger(__name__)


class FolderMark(BaseModel):
    uidvalidity: int
    last_uid: int = 0


class MessagesCursor(StreamCursor):
    folders: dict[str, FolderMark] = {}


MESSAGES = Stream(name="messages", object_type="message", cursor=MessagesCursor,
                  description="mail in the configured folders, by UID; UIDVALIDITY guards the numbering")


def _first(values: Sequence[str]) -> str | None:
    return values[0] if values else None


def _iso(value: Any) -> str | None:
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


class EmailConnector:
    system = "email"
    capabilities = CAPABILITIES
    escape_text = staticmethod(escape_text)

    def __init__(self, config: EmailConfig, client: EmailClient | None = None) -> None:
        self.config, self.client = config, client or EmailClient(config)
        self.account: str | None = config.from_address
        self.dispatch = EffectDispatcher(self.system, {"reply": self._reply})  # SMTP: one message a transaction

    def _ours(self, header: object) -> str | None:
        """The key of a key header signed with this mailbox's secret (From alone is easy to forge)."""
        return signed_key(str(header or ""), self.config.from_address, self.config.password.get_secret_value())

    def check(self) -> None:
        """Log in to both servers, and find every folder the connector reads or files answers in."""
        with self.client.session():
            for folder in dict.fromkeys((*self.config.folders, *self._copy_folders())):
                self.client.select(folder)
            self.client.send(None)

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        with self.client.session():
            return self.dispatch.write(effects)

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        """Each folder's messages above its last UID, oldest first, ``page_size`` a fetch and a Page.  A new
        UIDVALIDITY means the server renumbered the folder: it is read again from the start, and since the
        Message-ID is each record's identity the re-read makes nothing twice."""
        if stream != MESSAGES.name:
            raise ValueError(f"e-mail has no stream {stream!r}; it has {MESSAGES.name!r}")
        marks = dict(MessagesCursor.from_json(cursor).folders)
        with self.client.session():
            for folder in self.config.folders:
                validity, mark = self.client.select(folder), marks.get(folder)
                last = mark.last_uid if mark is not None and mark.uidvalidity == validity else 0
                fresh = self.client.uids_above(last)
                for start in range(0, len(fresh), self.config.page_size):
                    chunk = fresh[start:start + self.config.page_size]
                    fetched = self.client.fetch(chunk)
                    records = [r for uid in chunk if uid in fetched
                               if (r := self._record(folder, validity, uid, *fetched[uid])) is not None]
                    marks[folder] = FolderMark(uidvalidity=validity, last_uid=chunk[-1])
                    yield Page(records, MessagesCursor(folders=marks))

    def _record(self, folder: str, validity: int, uid: int, size: int, raw: bytes, arrived: Any) -> SourceRecord | None:
        message = mail.parse_bytes(raw)
        message_id = _first(mail.ids(message.get("Message-ID"))) or mail.fallback_id(raw)
        subject, subject_problem = mail.header(message, "Subject")
        sender = mail.addresses(message, "From")
        own = bool(sender) and sender[0]["address"] == self.config.from_address
        if not own and (why := mail.not_a_customer(message, subject)):
            log.info("email: %s in %s is not a customer writing: %s", message_id, folder, why)
            return None
        text, from_html, problem = "", False, ("subject", subject_problem) if subject_problem else None
        if size > self.config.max_message_bytes:
            problem = ("body", f"{size} bytes, more than max_message_bytes ({self.config.max_message_bytes})")
        elif problem is None:
            text, from_html, problem = mail.body_text(message)
        problem = problem or (None if sender else ("from", "no valid sender address"))
        references, replied_to = mail.ids(message.get("References")), mail.ids(message.get("In-Reply-To"))
        parent = _first(replied_to[-1:] or references[-1:])
        root = _first(references or replied_to) or self._root_by_subject(folder, uid, sender, subject)
        date = getattr(message["Date"], "datetime", None) if message["Date"] is not None else None
        key = self._ours(message.get(KEY_HEADER)) if own else None
        author = sender[0] if sender else {}
        payload: JSON = {
            "message_id": message_id, "from": author or None, "to": mail.addresses(message, "To"),
            "cc": mail.addresses(message, "Cc"), "subject": subject, "date": _iso(date), "in_reply_to": parent,
            "references": references, "folder": folder, "uid": uid, "uidvalidity": validity, "size": size,
            "raw": raw[:self.config.max_raw_chars].decode("utf-8", "replace"),
            "raw_truncated": len(raw) > self.config.max_raw_chars,
            "continuum": {
                "text": None if problem else mail.own_words(text), "from_html": from_html,
                "thread_id": root or message_id, "parent_id": parent, "is_thread_start": root is None,
                "from_address": author.get("address"), "from_name": author.get("name"),
                "date": _iso(date) or _iso(arrived), "channel": f"email/{folder}"}}
        files = () if problem or own else attachments_of(message, self.config.max_attachment_bytes)
        return SourceRecord(stream=MESSAGES.name, object_type=MESSAGES.object_type, external_id=message_id,
                            payload=payload, parent_id=parent, own_key=key, problem=problem, attachments=files)

    def _root_by_subject(self, folder: str, uid: int, sender: list[JSON], subject: str) -> str | None:
        """A reply that lost its In-Reply-To and References (some clients, forwarding rules) joins the thread of
        the same sender's earliest mail with the same subject, found by an IMAP search."""
        if not sender or not mail.is_reply_subject(subject) or not mail.normalised_subject(subject):
            return None
        wanted = mail.normalised_subject(subject)
        earlier = [u for u in self.client.search(folder, ["FROM", sender[0]["address"], "SUBJECT", wanted]) if u < uid]
        heads = self.client.headers_of(earlier, "MESSAGE-ID SUBJECT REFERENCES IN-REPLY-TO")
        for _, head in sorted(heads.items()):  # the earliest first
            parsed = mail.parse_bytes(head)
            if mail.normalised_subject(mail.header(parsed, "Subject")[0]) == wanted:
                chain = mail.ids(parsed.get("References")) or mail.ids(parsed.get("In-Reply-To"))
                return _first(chain or mail.ids(parsed.get("Message-ID")))
        return None

    def _reply(self, effect: Effect) -> EffectResult:
        to, body = mail.addresses_of(str(effect.fields.get("to") or "")), str(effect.fields.get("body") or "")
        if not to or not body.strip():
            raise ValueError("a reply needs fields['to'] (the customer's address) and a non-empty fields['body']")
        found = self._sent_with_key(effect.key) if effect.maybe_applied else None
        if found:
            return succeeded(effect, found, object_type="message", found_existing=True)
        parent = _first(mail.ids(f"<{effect.context.get('in_reply_to') or ''}>"))  # the Message-ID answered
        sender, purpose = Address(self.config.display_name, addr_spec=self.config.from_address), \
            effect.context.get("purpose")  # RFC 3834: a reply answers a message, a notice of a shipped feature not
        message = compose(key=effect.key, sender=sender, to=", ".join(to), body=body, parent=parent,
                          subject=str(effect.fields.get("subject") or ""), root=effect.target_id or parent,
                          automatic="auto-replied" if parent and purpose != "notice" else "auto-generated",
                          secret=self.config.password.get_secret_value())
        self.client.send(message, also_to=[self.config.from_address] if self.config.copy_to_self else ())
        if self.config.append_to_sent:
            try:
                self.client.append(self.config.sent_folder, message.as_bytes())
            except MailError as exc:  # sent is sent: failing now would make a retry send it twice
                log.warning("%s (the answer %s went out; only its copy in Sent is missing)", exc, effect.key)
        return succeeded(effect, mail.ids(message["Message-ID"])[0], object_type="message")

    def _copy_folders(self) -> list[str]:
        """Where copies of the hub's answers are: its own copy first (filed as the answer was accepted), Sent."""
        return list(dict.fromkeys([*([self.config.copy_folder] if self.config.copy_to_self else []),
                                   *([self.config.sent_folder] if self.config.append_to_sent else [])]))

    def _sent_with_key(self, key: str) -> str | None:
        """The Message-ID of an answer carrying this key (signed by us), if one went out: its copy to the
        mailbox itself (filed by the server as it accepted the answer) or its copy in Sent."""
        for folder in self._copy_folders():
            uids = self.client.search(folder, ["HEADER", KEY_HEADER, key])
            for head in self.client.headers_of(uids, f"MESSAGE-ID {KEY_HEADER}").values():
                parsed = mail.parse_bytes(head)
                if self._ours(parsed.get(KEY_HEADER)) == key:
                    return _first(mail.ids(parsed.get("Message-ID")))
        return None
