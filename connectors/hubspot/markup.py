"""HubSpot's rich text (note bodies, ticket content) is HTML: customer text goes in escaped, never as markup."""

from __future__ import annotations

import html
import re

# Bidirectional overrides and zero-width characters can make a note read other than it is.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def escape_text(text: str) -> str:
    """Plain text as HTML that shows exactly that text (line breaks kept as ``<br>``)."""
    clean = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return html.escape(clean, quote=True).replace("\n", "<br>")


def plain(text: str) -> str:
    """What a person reads from the HTML (paragraphs and breaks as new lines, tags out, entities decoded)."""
    broken = re.sub(r"<br\s*/?>|</p>\s*<p[^>]*>", "\n", text or "")
    return html.unescape(re.sub(r"<[^>]+>", "", broken)).strip()


def link(url: str) -> str:
    """A hub-made link (http or https only) as an anchor that shows its own address."""
    if not re.match(r"^https?://", url or ""):
        return ""
    shown = html.escape(url, quote=True)
    return f'<a href="{shown}">{shown}</a>'
