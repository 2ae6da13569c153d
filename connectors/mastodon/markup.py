"""Mastodon's plain-text statuses: make customer text inert in one, read a status's HTML as safe text, and
count a status's length the way the server does.

Mastodon renders a plain-text status itself: it escapes HTML and turns ``@user@domain``, ``#tag``, URLs
with a scheme and ``:shortcode:`` emoji live.  Nothing else is markup (no Markdown), so escaping means
breaking those four with an invisible zero-width space, never entities (they would show literally).
"""

from __future__ import annotations

import html
import re

ZWSP = "\u200b"
URL_WEIGHT = 23  # every URL counts as 23 characters, whatever its length (StatusLengthValidator)
# Bidi embedding/override/isolate controls reorder how the rest of a status shows (a spoofing trick).
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# As the server finds them: a mention or a hashtag not glued to a word; an emoji shortcode; a scheme's "://".
MENTION = re.compile(r"(?<![=/\w@])@(?=\w)")
HASHTAG = re.compile(r"(?<![/)\w#])#(?=\w)")
EMOJI = re.compile(r"(?<![\w:]):(?=\w{2,}:)")
SCHEME = re.compile(r"(?i)(?<=[a-z0-9+.-]):(?=//)")
_COUNTED_URL = re.compile(r"(?i)\bhttps?://[^\s<>\"]+")
_REMOTE_MENTION = re.compile(r"(?<![=/\w@])(@\w+(?:[\w.-]*\w)?)@[\w-]+(?:\.[\w-]+)+")


def escape_text(text: str) -> str:
    """``text`` as a status shows it literally: no mention notifies, no tag, link or emoji becomes live."""
    text = BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    for pattern, sigil in ((MENTION, "@"), (HASHTAG, "#"), (EMOJI, ":"), (SCHEME, ":")):
        text = pattern.sub(sigil + ZWSP, text)
    return text


def status_length(text: str) -> int:
    """A status's length as Mastodon counts it: a URL is 23, a remote mention counts its local part only."""
    return len(_REMOTE_MENTION.sub(r"\1", _COUNTED_URL.sub("x" * URL_WEIGHT, text)))


def html_to_text(content: str) -> str:
    """The plain text a reader sees in a status's ``content`` (the server's own HTML): breaks and paragraphs
    as newlines, every tag dropped, then entities decoded, so ``&lt;b&gt;`` is the text ``<b>``, never a tag."""
    text = re.sub(r"<br\s*/?>", "\n", re.sub(r"</p>\s*<p[^>]*>", "\n\n", content or "", flags=re.I), flags=re.I)
    text = re.sub(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", "", text, flags=re.I | re.S)
    return BIDI_CONTROLS.sub("", html.unescape(text)).strip()


def without_leading_mentions(text: str) -> str:
    """``text`` without the ``@name`` run a reply starts with (how the same reply is recognised in a thread)."""
    return re.sub(r"^(?:\s*@[\w.-]+(?:@[\w.-]+)?)+\s*", "", text.replace(ZWSP, "")).strip()
