"""Make text inert in GitHub Flavored Markdown, and the key marker the hub leaves on its issues and comments.

GitHub links mentions (``@user``, ``@org/team``) and references (``#123``, ``GH-123``) in the rendered text,
after Markdown: a backslash does not stop them, a zero-width space after the sigil does.  A web address becomes a
``<https://…>`` autolink, whose text CommonMark takes literally: escapes inside a bare address would end up in its
link, and an autolink shows the very address it goes to.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

# ASCII punctuation that starts markup anywhere in a line: emphasis, links and images, code, tables, math,
# strikethrough, headings and footnotes.  CommonMark lets any ASCII punctuation be backslash-escaped.
_INLINE_ACTIVE = re.compile(r"[\\*_\[\]()#`~|$!]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_MENTION = re.compile(r"(?<![\w@])@(?=\w)")
_REFERENCE = re.compile(r"(\\#|\bGH-)(?=\w)", re.IGNORECASE)
# At a line's start only: bullets, task lists, thematic breaks, setext headings, ordered lists.
_BULLET, _ORDERED = re.compile(r"^([ \t]*)([-+=])", re.M), re.compile(r"^([ \t]*\d{1,9})([.)])", re.M)
_INDENT = re.compile(r"^[ \t]+", re.M)  # four spaces would open a code block; non-breaking spaces do not
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# An http(s) address with a host, in RFC 3986 characters only (no backslash, pipe, quote or angle bracket).
_URL = re.compile(r"(?<![\w@.])https?://[A-Za-z0-9](?:[-A-Za-z0-9.]*[A-Za-z0-9])?(?::\d{1,5})?"
                  r"(?:[/?#][-A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%]*)?")
_OPENERS = {")": "(", "]": "["}
_AUTOLINK = re.compile(r"<(https?://[^\s<>]*)>")
_MARKER = re.compile(r"\s*<!-- continuum:([A-Za-z0-9%:/._~]+) -->\s*$")


def escape_text(text: str) -> str:
    """``& < >`` as entities (no HTML or comment), Markdown punctuation and line-start markers backslash-escaped,
    mentions and references broken by a zero-width space, addresses as autolinks, bidi overrides dropped."""
    text = _BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    parts, done = [], 0
    for found in _URL.finditer(text):
        if found.start() >= done:
            url = _trim(found.group())
            parts += [_escape_inline(text[done:found.start()]), f"<{url}>"]
            done = found.start() + len(url)
    text = "".join([*parts, _escape_inline(text[done:])])
    text = _ORDERED.sub(r"\1\\\2", _BULLET.sub(r"\1\\\2", text))
    return _INDENT.sub(lambda m: m.group().replace("\t", "    ").replace(" ", "\u00a0"), text)


def _escape_inline(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # "&" first: no double escape
    return _REFERENCE.sub("\\1\u200b", _MENTION.sub("@\u200b", _INLINE_ACTIVE.sub(r"\\\g<0>", text)))


def _trim(url: str) -> str:
    """Without the punctuation that ends a sentence rather than the address, as GitHub's autolinking reads it."""
    while url and (url[-1] in ".,:;!?'*" or (url[-1] in _OPENERS
                                               and url.count(url[-1]) > url.count(_OPENERS[url[-1]]))):
        url = url[:-1]
    return url


def plain(escaped: str) -> str:
    """An escaped text as a title shows it: GitHub renders no Markdown there, so the escapes come back out."""
    text = _ESCAPE.sub(r"\1", _AUTOLINK.sub(r"\1", escaped))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def idempotency_marker(key: str) -> str:
    """An HTML comment naming the key (GitHub does not show it), percent-encoded so it cannot close early."""
    return f"<!-- continuum:{quote(key, safe=':/._').replace('-', '%2D')} -->"


def with_marker(body: str, key: str) -> str:
    return f"{body.rstrip()}\n\n{idempotency_marker(key)}"


def split_marker(body: str | None) -> tuple[str, str | None]:
    """The text without a trailing marker, and the marker's key (``escape_text`` leaves customers no way to
    write one)."""
    found = _MARKER.search(body or "")
    return ((body or "")[:found.start()], unquote(found.group(1))) if found else (body or "", None)
