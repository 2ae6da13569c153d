"""Make text inert inside a Discourse post's ``raw``.

Discourse cooks ``raw`` with markdown-it (CommonMark plus tables,
strikethrough and linkify), an allow-list of HTML, BBCode-like tags
(``[quote]``, ``[details]``, ``[poll]``...), ``@mentions`` that notify users
and ``#hashtags`` that link categories and tags.  Customer or staff text that
we copy into a post must render as the very characters it contains, and must
never ping anyone, so :func:`escape_text` neutralises each of those.

The result stays readable as plain text: Markdown backslash escapes and HTML
entities render as the original characters, and the breaks we put into
mentions are invisible.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Characters markdown-it gives a meaning to anywhere in a line.  CommonMark lets
# any ASCII punctuation be backslash-escaped, so escaping them is always safe.
_INLINE_ACTIVE = frozenset("\\*_[]()#`~|")

# Bidirectional embedding/override/isolate controls can reorder how the rest of
# a post is displayed (a classic spoofing trick); marks (LRM/RLM) are harmless.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")

# A mention is ``@`` followed by a username character, not preceded by a word
# character (so e-mail addresses are left alone by Discourse, and by us).  A
# hashtag is ``#`` followed by a slug character.  A zero-width space after the
# sigil breaks both without changing what a reader sees.
_MENTION = re.compile(r"(?<![\w@])@(?=[\w])")
_HASHTAG = re.compile(r"(?<![\w#])\\#(?=[\w])")
_ZWSP = "\u200b"

# Block constructs that only count at the start of a line (after indentation).
_LIST_BULLET = re.compile(r"^([-+=])")
_ORDERED_LIST = re.compile(r"^(\d{1,9})([.)])")

# Indentation of four spaces (or a tab) would turn a line into a code block, in
# which our backslash escapes would be shown literally.  Non-breaking spaces
# keep the visual indent without meaning anything to Markdown.
_NBSP = "\u00a0"

HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _escape_html(text: str) -> str:
    # ``&`` first, so the entities we add are not escaped twice.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_line(line: str) -> str:
    stripped = line.lstrip(" \t")
    indent = line[: len(line) - len(stripped)]
    body = "".join("\\" + ch if ch in _INLINE_ACTIVE else ch for ch in stripped)
    # ``-``/``+``/``=`` start lists, thematic breaks and setext headings;
    # ``1.``/``1)`` start ordered lists.  ``*`` and ``#`` are escaped above and
    # a leading ``>`` has already become ``&gt;``, which is not a blockquote.
    body = _LIST_BULLET.sub(r"\\\1", body, count=1)
    body = _ORDERED_LIST.sub(r"\1\\\2", body, count=1)
    body = _MENTION.sub("@" + _ZWSP, body)
    body = _HASHTAG.sub("\\#" + _ZWSP, body)
    visual_indent = indent.replace("\t", "    ").replace(" ", _NBSP)
    return visual_indent + body


def escape_text(text: str) -> str:
    """Return ``text`` so that Discourse shows it literally and notifies no one.

    * ``& < >`` become HTML entities: no tag, comment or autolink survives.
    * ``\\ * _ [ ] ( ) # ` ~ |`` are backslash-escaped: no emphasis, link,
      image, BBCode tag, code span/fence, strikethrough, table or heading.
    * leading list markers, ``=`` underlines and ordered-list numbers are
      escaped; leading indentation is kept with non-breaking spaces.
    * ``@name`` and ``#tag`` get an invisible zero-width space after the sigil.
    * bidi override controls are dropped; other characters (emoji, accents,
      zero-width joiners inside emoji) are kept.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BIDI_CONTROLS.sub("", text)
    text = _escape_html(text)
    return "\n".join(_escape_line(line) for line in text.split("\n"))


def idempotency_marker(key: str) -> str:
    """An HTML comment naming the effect key; Discourse drops comments when cooking.

    The key is percent-encoded (and ``-`` too), so it can never contain
    ``--`` or ``>`` and close the comment early.
    """
    safe = quote(key, safe=":/._").replace("-", "%2D")
    return f"<!-- continuum:{safe} -->"
