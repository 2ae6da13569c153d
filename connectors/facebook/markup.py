"""Make customer text inert in a Facebook comment or Messenger message (plain text, linkified by Facebook).

Facebook renders neither HTML nor Markdown, but it turns ``@[id]`` tags into mentions, ``#word`` into hashtag
links, and URLs or bare domains into live links with previews.  A zero-width space breaks each invisibly.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")  # reorder how the rest shows: a spoofing trick
_SIGIL = re.compile(r"([@#])(?=[\w\[])")  # a mention (@name, @[id]) or a hashtag
_SCHEME = re.compile(r"(?<=:)(?=//)")  # http://, javascript://...
_DOMAIN = re.compile(r"(?<=\w\.)(?=[^\W\d_]{2,})")  # evil.example: a bare domain Facebook links


def escape_text(text: str) -> str:
    text = _BIDI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _DOMAIN.sub(ZWSP, _SCHEME.sub(ZWSP, _SIGIL.sub(rf"\1{ZWSP}", text)))
