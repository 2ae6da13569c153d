"""The files a customer attached to a mail (Content-Disposition attachment, or inline with a file name).

Each becomes a :class:`continuum.connector.Attachment` with its name, type, size and SHA-256.  Its bytes are
carried (base64) up to ``max_attachment_bytes``; a larger file keeps only its name, size and hash, and the
document store's own size limit decides about it (it refuses it, naming the file and the limit).
"""

from __future__ import annotations

import base64
import hashlib
from email.message import EmailMessage

from continuum.connector import Attachment

MAX_NAME = 255


def attachments_of(message: EmailMessage, cap: int) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        name = part.get_filename()
        # An inline part without a file name is the body (or its HTML twin), not a file the customer sent.
        if disposition not in ("attachment", "inline") or (disposition == "inline" and not name):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):  # a message/rfc822 part: the forwarded mail is read as text, not a file
            continue
        found.append(Attachment(
            name=_name(name, part.get_content_type(), len(found) + 1), content_type=part.get_content_type(),
            size=len(data), sha256=hashlib.sha256(data).hexdigest(),
            content_b64=base64.b64encode(data).decode() if len(data) <= cap else None))
    return tuple(found)


def _name(name: str | None, content_type: str, n: int) -> str:
    """The file's own name (decoded from RFC 2231/2047 by the parser), or one made from its type."""
    text = " ".join((name or "").split())[:MAX_NAME]
    if text:
        return text
    subtype = content_type.partition("/")[2] or "bin"
    return f"attachment-{n}.{subtype}"
