"""One checker for the Markdown dialects connectors write customer text into (test-only).

Discourse, GitHub and Reddit all render a CommonMark-like Markdown, and each connector's ``escape_text``
must leave customer text inert in it: nothing may become markup, a mention or a link, and what a reader sees
must be exactly what the customer wrote.  The dialects differ only in data: which characters are active
inside a line, what starts a block, which sigils the platform links, and whether an autolink is allowed.
Each connector's contract module describes its dialect with a :class:`MarkdownDialect`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
ZWSP, NBSP = "\u200b", "\u00a0"
_ESCAPABLE = r"[!-/:-@\[-`{-~]"  # CommonMark: a backslash escapes ASCII punctuation only


def unescape(text: str) -> str:
    """What a reader sees of escaped text: backslash escapes and entities resolved, invisible breaks gone."""
    text = re.sub(rf"\\({_ESCAPABLE})", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace(ZWSP, "").replace(NBSP, " ")


@dataclass(frozen=True)
class MarkdownDialect:
    """What makes text live in one platform's Markdown."""

    inline_active: frozenset[str]  # characters ``escape_text`` backslash-escapes anywhere in a line
    inline_meaning: str = ""  # what an unescaped one could become, for the message
    block_start: str = r"[-+=*]|\d{1,9}[.)]|#"  # a line starting so is a list, heading, rule (or quote)
    block_meaning: str = "a list, task list, heading or rule"
    live_angle_brackets: bool = True  # "<" or ">" anywhere is HTML, a comment or an autolink
    strict_backslash: bool = True  # a backslash before a non-punctuation character is a mistake
    sigils: tuple[tuple[str, str], ...] = ()  # (what it is, a regex finding a live one)
    autolink: re.Pattern[str] | None = None  # an autolink ``escape_text`` may write (shows its own address)

    def _pieces(self, body: str) -> list[tuple[bool, str]]:
        """(is an autolink, text) in order; without autolinks, the whole body as text."""
        if self.autolink is None:
            return [(False, body)]
        return [(n % 2 == 1, piece) for n, piece in enumerate(self.autolink.split(body))]

    def literal(self, raw: str) -> str:
        """What a reader sees once the platform renders ``raw`` (an autolink shows its address as written)."""
        return "".join(piece if link else unescape(piece) for link, piece in self._pieces(raw))

    def markup_left(self, body: str) -> list[str]:
        """Every way ``body`` could still render as markup, ping someone or link something (empty: inert)."""
        found: list[str] = []
        for link, piece in self._pieces(body):
            if not link:
                found += self._in_text(piece)
        return found

    def _in_text(self, body: str) -> list[str]:
        found = [f"live HTML, comment or autolink: {ch!r}" for ch in "<>" if self.live_angle_brackets and ch in body]
        meaning = f": {self.inline_meaning}" if self.inline_meaning else ""
        i = 0
        while i < len(body):
            if body[i] == "\\":
                if self.strict_backslash and (i + 1 >= len(body) or not re.match(_ESCAPABLE, body[i + 1])):
                    found.append(f"a backslash that escapes nothing at {i}")
                i += 2
                continue
            if body[i] in self.inline_active:
                found.append(f"unescaped {body[i]!r} at {i}{meaning}")
            i += 1
        for line in body.split("\n"):
            if line.startswith(("    ", "\t")):
                found.append(f"an indented code block: {line!r}")
            if re.match(self.block_start, line.lstrip(NBSP)):
                found.append(f"{self.block_meaning}: {line!r}")
        for what, pattern in self.sigils:
            found += [f"a live {what} at {m.start()}" for m in re.finditer(pattern, body)]
        found += [f"a bidi control {m.group()!r}" for m in BIDI_CONTROLS.finditer(body)]
        return found

    def expected(self, text: str) -> str:
        """What the customer wrote, as a reader must see it: line ends as newlines, bidi controls dropped."""
        return BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).replace(ZWSP, "").rstrip()
