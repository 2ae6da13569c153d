"""Make text inert in LinkedIn's "little text format" (commentary and comment text).

The format's templates, ``@[Name](urn:li:organization:1)`` mentions and ``{hashtag|\\#|tag}`` hashtags, are
built from reserved characters; each one is backslash-escaped, as the format requires, so customer text can
neither mention nor tag anyone.  LinkedIn also links bare URLs: a zero-width space after the scheme's colon
(and in ``www.``) keeps them as text.
"""

from __future__ import annotations

import re

RESERVED = frozenset("|{}@[]()<>#\\*_~")
_RESERVED = re.compile(r"[|{}@\[\]()<>#\\*_~]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SCHEME, _WWW = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}):(?=//)"), re.compile(r"(?i)\bwww\.")
ZWSP = "\u200b"


def escape_text(text: str) -> str:
    """Reserved characters backslash-escaped, autolinks broken invisibly, bidi overrides dropped."""
    text = _BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _RESERVED.sub(r"\\\g<0>", text)
    return _WWW.sub(lambda m: m.group()[:3] + ZWSP + ".", _SCHEME.sub(lambda m: m.group() + ZWSP, text))


def unescape(text: str) -> str:
    """What a reader sees of little text (escapes resolved; templates are the caller's to find)."""
    return re.sub(r"\\([|{}@\[\]()<>#\\*_~])", r"\1", text)


# A mention ``@[Name](urn:li:…)``, a hashtag ``{hashtag|\#|tag}``, or one escaped character.
_TEMPLATE = re.compile(r"@\[(?P<name>(?:\\.|[^\]\\])*)\]\(urn:li:[a-zA-Z]+:[^()\s]+\)"
                       r"|\{hashtag\|\\#\|(?P<tag>[^{}|]*)\}|\\(?P<char>[|{}@\[\]()<>#\\*_~])")


def readable(text: str) -> str:
    """Little text as a reader sees it on LinkedIn: ``@Name`` for a mention, ``#tag`` for a hashtag."""
    def one(m: re.Match[str]) -> str:
        if m.group("name") is not None:
            return "@" + unescape(m.group("name"))
        return "#" + m.group("tag") if m.group("tag") is not None else m.group("char")

    return _TEMPLATE.sub(one, text)
