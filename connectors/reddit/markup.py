"""Make text inert in a Reddit comment (Markdown: snudown on old Reddit, CommonMark-like on new Reddit).

Escaped text renders as the characters it holds: no formatting, no live links, no ``u/`` mention that notifies.
"""

from __future__ import annotations

import re

# Escaped with a backslash anywhere: both renderers accept these escapes (snudown's set is the narrower one).
_INLINE_ACTIVE = re.compile(r"[\\`*_\[\](){}#|^~]")
# Bidi embedding/override/isolate controls reorder how the rest of a comment shows (a spoofing trick).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# ``u/name``, ``/u/name``, ``r/sub`` link (and ``u/`` notifies) unless a letter or digit comes before the sigil;
# a zero-width space before the slash breaks them invisibly.
_SIGIL = re.compile(r"(?<![A-Za-z0-9])([uUrR])/(?=\w)")
# Reddit links bare URLs by their scheme and by ``www.``: escaping the ``:`` or the ``.`` stops it.
_SCHEME, _WWW = re.compile(r"(?<=\w):(?=//)"), re.compile(r"(?i)\bwww\.")
# At a line's start only: lists and thematic breaks, ordered lists, setext underlines.
_BULLET, _ORDERED = re.compile(r"^([ \t]*)([-+])", re.M), re.compile(r"^([ \t]*\d{1,9})\.", re.M)
_SETEXT = re.compile(r"^([ \t]*)=", re.M)
_INDENT = re.compile(r"^[ \t]+", re.M)  # four spaces would open a code block: non-breaking spaces keep the look
ZWSP, NBSP = "\u200b", "\u00a0"


def escape_text(text: str) -> str:
    """``& < >`` become entities (no HTML, quote or ``>!spoiler!<``), Markdown punctuation is backslash-escaped,
    line-start markers too, mentions and bare links broken, bidi overrides dropped; emoji and words kept."""
    text = _BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # "&" first: no double escape
    text = _INLINE_ACTIVE.sub(r"\\\g<0>", text)
    text = _ORDERED.sub(r"\1\\.", _BULLET.sub(r"\1\\\2", text))
    text = _SETEXT.sub(f"\\1{ZWSP}=", text)
    text = _WWW.sub(lambda m: m.group()[:-1] + "\\.", _SCHEME.sub(r"\\:", text))
    text = _SIGIL.sub(f"\\1{ZWSP}/", text)
    return _INDENT.sub(lambda m: m.group().replace("\t", "    ").replace(" ", NBSP), text)
