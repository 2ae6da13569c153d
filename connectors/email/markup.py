"""An answer as a mail the customer's client threads: plain text first, an HTML alternative that escapes every
character of it, the reply headers, and the hub's signed key header.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

KEY_HEADER = "X-Continuum-Key"
# Bidi embedding/override/isolate controls reorder how the rest of a line shows (a spoofing trick); other
# control characters have no business in a mail body (tab and newline stay).
_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_text(text: str) -> str:
    """Plain text is inert in itself: line breaks normalised, control and bidi override characters dropped.
    The HTML alternative escapes the whole body when the mail is made (``html_body``)."""
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def html_body(text: str) -> str:
    """The text as HTML that shows exactly its characters: paragraphs and line breaks, nothing else live."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    inner = "".join(f"<p>{html.escape(p, quote=True).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{inner}</body></html>'


def signature(key: str, address: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"{key}|{address}".encode(), hashlib.sha256).hexdigest()[:24]


def key_header(key: str, address: str, secret: str) -> str:
    """The effect key with a MAC: From is easy to forge, so only a header signed with the mailbox's own
    secret makes a mail the hub's (a forged one would stop reading as an unknown hub object)."""
    return f"{key}; sig={signature(key, address, secret)}"


def signed_key(value: str, address: str, secret: str) -> str | None:
    key, _, sig = value.strip().partition("; sig=")
    return key if sig and hmac.compare_digest(sig, signature(key, address, secret)) else None


def message_id_for(key: str, address: str) -> str:
    """The same id for every attempt at one effect: a receiver that sees a retry collapses it by Message-ID."""
    digest = hashlib.sha256(f"{key}|{address}".encode()).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9._-]', '', key)}.{digest}@{address.rpartition('@')[2]}"


def reply_subject(subject: str) -> str:
    subject = " ".join(subject.split()) or "Your message"  # no CR/LF: a header cannot be split from here
    return subject if re.match(r"(?i)re\s*:", subject) else f"Re: {subject}"


def compose(*, key: str, sender: Address, to: str, subject: str, body: str, parent: str | None,
            root: str | None, automatic: str, secret: str) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = reply_subject(subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{message_id_for(key, sender.addr_spec)}>"
    if parent:
        message["In-Reply-To"] = f"<{parent}>"
        message["References"] = " ".join(f"<{i}>" for i in dict.fromkeys([root, parent]) if i)
    # RFC 3834: responders (vacation notices, ticket systems) on the customer's side must not answer it.
    message["Auto-Submitted"] = automatic
    message[KEY_HEADER] = key_header(key, sender.addr_spec, secret)
    message.set_content(body, cte="quoted-printable")
    message.add_alternative(html_body(body), subtype="html", cte="quoted-printable")
    return message
