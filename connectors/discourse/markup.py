"""Make text inert in a Discourse post's ``raw`` (markdown-it with HTML, BBCode and @mentions), and the
key marker the hub leaves on its posts.  Escaped text renders as the characters it holds and pings no one.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

# Active anywhere in a line; CommonMark lets any ASCII punctuation be backslash-escaped, so this is safe.
_INLINE_ACTIVE = re.compile(r"[\\*_\[\]()#`~|]")
# Bidi embedding/override/isolate controls reorder how the rest of a post shows (a spoofing trick).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Not after a word character, as in Discourse (so e-mail addresses stay); a zero-width space after the
# sigil breaks the mention or hashtag invisibly.
_MENTION, _HASHTAG = re.compile(r"(?<![\w@])@(?=\w)"), re.compile(r"(?<![\w#])\\#(?=\w)")
# At a line's start only: lists, thematic breaks and setext headings (``)`` is escaped inline already).
_BULLET, _ORDERED = re.compile(r"^([ \t]*)([-+=])", re.M), re.compile(r"^([ \t]*\d{1,9})\.", re.M)
# Four spaces or a tab would open a code block (showing our escapes); non-breaking spaces keep the look.
_INDENT = re.compile(r"^[ \t]+", re.M)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def escape_text(text: str) -> str:
    """``& < >`` become entities (no tag, comment, autolink or blockquote), Markdown punctuation and
    leading list markers are backslash-escaped, mentions broken, bidi overrides dropped; emoji kept."""
    text = _BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # "&" first: no double escape
    text = _ORDERED.sub(r"\1\\.", _BULLET.sub(r"\1\\\2", _INLINE_ACTIVE.sub(r"\\\g<0>", text)))
    text = _HASHTAG.sub("\\#\u200b", _MENTION.sub("@\u200b", text))
    return _INDENT.sub(lambda m: m.group().replace("\t", "    ").replace(" ", "\u00a0"), text)


def idempotency_marker(key: str) -> str:
    """An HTML comment naming the key (cooking drops it), percent-encoded (``-`` too) so it cannot close early."""
    return f"<!-- continuum:{quote(key, safe=':/._').replace('-', '%2D')} -->"


def marked_key(raw: str) -> str | None:
    """The key of the marker in ``raw``, if any (``escape_text`` leaves customers no way to write one)."""
    found = re.search(r"<!-- continuum:([A-Za-z0-9%:/._~]+) -->", raw)
    return unquote(found.group(1)) if found else None
