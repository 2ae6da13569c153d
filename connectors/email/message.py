"""Real-world mail as the customer's words: decoded in any charset, HTML made plain, quoted history and
signatures cut, and mail that is not a customer speaking (auto-replies, bounces, lists) told apart.

Anything that cannot be decoded is reported as ``(field, why)``, never guessed at: the engine keeps such a
message as a dead letter naming it, and the rest of the mailbox is read on.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from html.parser import HTMLParser
from typing import Any

BROKEN_TRANSFER = ("InvalidBase64", "UndecodableBytes")  # defects of a body that did not decode
_IDS = re.compile(r"<([^<>\s]+)>")
_ENCODED_WORD_CHARSET = re.compile(r"=\?([^?*]+)(?:\*[^?]*)?\?[bBqQ]\?")
# Vacation notices that carry no RFC 3834 header (older Exchange, webmail responders).
_AUTO_SUBJECT = re.compile(r"^\s*(automatic reply|auto(matic)?[- ]?(reply|response)|out of (the )?office|"
                           r"abwesenheitsnotiz|réponse automatique|respuesta automática)\b|^auto:", re.I)
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|réf|ref|fw|fwd|wg|tr|rv)\s*(\[\d+\]|\(\d+\))?\s*:\s*)+", re.I)
# Where quoted history starts (English, German, French, Spanish clients) and where a signature starts.
_ORIGINAL = re.compile(r"^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|"
                       r"forwarded message|weitergeleitete nachricht)\s*-{2,}$", re.I)
_WROTE = re.compile(r"^(on\b.{0,200}\bwrote|am\b.{0,200}\bschrieb.{0,100}|le\b.{0,200}\ba écrit|"
                    r"el\b.{0,200}\bescribió)\s*:$", re.I)
_OUTLOOK_FROM = re.compile(r"^\*?(from|von|de)\s*:\*?\s", re.I)
_OUTLOOK_NEXT = re.compile(r"^\*?(sent|date|gesendet|datum|envoyé|enviado|to|an|à|para|subject|betreff)\s*:", re.I)
_RULE = re.compile(r"[_\-=*]{5,}")
_DEVICE = re.compile(r"^(sent from my \w+|get outlook for \w+|von meinem \w+ gesendet|envoyé de mon \w+)", re.I)


def parse_bytes(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)


def ids(value: object) -> list[str]:
    """The message ids in a Message-ID, In-Reply-To or References header, in order."""
    return _IDS.findall(str(value or ""))


def fallback_id(raw: bytes) -> str:
    """A stable id for a message without a Message-ID (rare, but old tools send them): its content's hash."""
    return f"{hashlib.sha256(raw).hexdigest()[:32]}@message-id.invalid"


def normalised_subject(subject: str) -> str:
    return " ".join(_REPLY_PREFIX.sub("", subject).split()).casefold()


def is_reply_subject(subject: str) -> bool:
    return bool(_REPLY_PREFIX.match(subject))


def header(message: Message, name: str) -> tuple[str, str | None]:
    """A header decoded (RFC 2047, any charset, raw UTF-8), and why not when its bytes cannot be decoded."""
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == name.lower()), None)
    if raw is None:
        return "", None
    for charset in _ENCODED_WORD_CHARSET.findall(raw):
        try:
            codecs.lookup(charset)
        except LookupError:
            return "", f"RFC 2047 word in an unknown charset {charset!r}"
    value = str(message[name] or "")
    # policy.default puts U+FFFD where bytes do not decode; a real U+FFFD arrives as UTF-8 bytes in the raw value.
    if "\ufffd" in value and "\ufffd".encode() not in raw.encode("utf-8", "surrogateescape"):
        return "", "bytes that are neither RFC 2047 nor UTF-8"
    return " ".join(value.split()), None


def not_a_customer(message: Message, subject: str) -> str | None:
    """Why this mail is not a person writing (RFC 3834 responders, DSNs, lists, bulk), or None."""
    auto = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto and not auto.startswith("no"):
        return f"auto-submitted ({auto})"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "auto-reply (X-Autoreply)"
    if message.get_content_type() == "multipart/report":
        return f"report ({message.get_param('report-type') or 'delivery status'})"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"precedence {precedence}"
    if message.get("List-Id") or message.get("List-Unsubscribe"):
        return "mailing list"
    sender = str(message.get("From", "")).lower()
    if re.search(r"\b(mailer-daemon|postmaster)@", sender):
        return "bounce (mailer-daemon)"
    return "vacation notice (subject)" if _AUTO_SUBJECT.search(subject) else None


def body_text(message: EmailMessage) -> tuple[str, bool, tuple[str, str] | None]:
    """(text, came from HTML, problem): the preferred text part, strictly decoded."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", False, None
    data = part.get_payload(decode=True)  # decoding is what registers a broken transfer encoding's defects
    data = data if isinstance(data, bytes) else b""
    if broken := [type(d).__name__ for d in part.defects if type(d).__name__.startswith(BROKEN_TRANSFER)]:
        return "", False, ("body", f"broken {part.get('Content-Transfer-Encoding', '7bit')} encoding "
                                   f"({', '.join(broken)})")
    declared = part.get_content_charset()
    charset = declared or "us-ascii"
    try:
        codecs.lookup(charset)
    except LookupError:
        return "", False, ("body", f"unknown charset {charset!r}")
    try:
        text = data.decode(charset)
    except UnicodeDecodeError as exc:
        if charset.replace("-", "") not in ("usascii", "ascii"):
            return "", False, ("body", f"bytes not valid {charset} at offset {exc.start}")
        try:  # no charset, or "ascii", on UTF-8 text: the commonest mislabel there is
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return "", False, ("body", f"8-bit bytes with no usable charset (declared {declared or 'none'})")
    html = part.get_content_subtype() == "html"
    return (html_to_text(text) if html else text.replace("\r\n", "\n")), html, None


class _Plain(HTMLParser):
    BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "hr"})
    SKIP = frozenset({"script", "style", "head", "title", "template"})
    VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[tuple[str, bool]] = []  # (tag, dropped with its content)
        self.ended = False  # Outlook's reply header: the rest of the document is the quoted original

    def dropping(self) -> bool:
        return self.ended or any(drop for _, drop in self.open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marks = " ".join(v or "" for k, v in attrs if k in ("class", "id", "type")).lower()
        if "divrplyfwdmsg" in marks:
            self.ended = True
        if tag in self.BLOCK and not self.dropping():
            self.parts.append("\n")
        if tag not in self.VOID:
            # Quoted history in HTML: <blockquote> (Apple Mail, Thunderbird), Gmail's quote block.
            self.open.append((tag, tag in self.SKIP or tag == "blockquote" or "gmail_quote" in marks))

    def handle_endtag(self, tag: str) -> None:
        if any(t == tag for t, _ in self.open):
            while self.open and self.open.pop()[0] != tag:
                pass
        if tag in self.BLOCK and not self.dropping():
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping():
            pre = any(t == "pre" for t, _ in self.open)
            self.parts.append(data if pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: tags, scripts and styles gone, blocks on their own lines, entities read."""
    parser = _Plain()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).replace("\xa0", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def own_words(text: str) -> str:
    """The text without quoted history ("On … wrote:", "> " lines, Outlook's "From:/Sent:" block or
    "-----Original Message-----") and without the signature ("-- "); the whole text if nothing else is left."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        s, following = line.strip(), [x.strip() for x in lines[i + 1:i + 5] if x.strip()]
        if (line.rstrip("\n") in ("-- ", "--") or _ORIGINAL.match(s) or _WROTE.match(s)
                or (following and _WROTE.match(f"{s} {following[0]}") and not _WROTE.match(following[0]))
                or (_OUTLOOK_FROM.match(s) and any(_OUTLOOK_NEXT.match(x) for x in following))):
            break
        if not s.startswith(">"):
            kept.append(line.rstrip())
    # Trailing blank lines, "Sent from my iPhone", and the rule Outlook draws above the quoted original.
    while kept and (not kept[-1].strip() or _DEVICE.match(kept[-1].strip()) or _RULE.fullmatch(kept[-1].strip())):
        kept.pop()
    words = "\n".join(kept).strip()
    return words or text.strip()


def addresses(message: Message, name: str) -> list[dict[str, Any]]:
    try:
        found = getattr(message[name], "addresses", ()) if message[name] is not None else ()
    except (ValueError, TypeError, IndexError):  # a header the parser could not make addresses of
        return []
    return [{"address": a.addr_spec.lower(), "name": a.display_name} for a in found if a.domain and a.username]


def addresses_of(text: str) -> list[str]:
    """The addresses in a To-like value ("Ann <ann@example.com>, bob@example.org"); none if any is malformed."""
    parsed = policy.default.header_factory("To", text.replace("\r", " ").replace("\n", " "))
    found = [a.addr_spec for a in getattr(parsed, "addresses", ())]
    return found if found and not parsed.defects and all("@" in a for a in found) else []
