"""Reddit Markdown escaping: customer text renders as itself and notifies or links no one."""

from __future__ import annotations

import pytest

from connectors.reddit.contract import literal, markup_left
from connectors.reddit.markup import escape_text

CASES = (
    "thanks u/AcmeOfficial and /u/someone_else, see r/acmeapp or /r/other",
    "go to https://evil.example/login or www.evil.example now",
    "**bold** _it_ ~~gone~~ ^super `code` >!spoiler!< [link](http://x.example)",
    "1. first\n- second\n+ third\n# heading\n> quote\n    indented code\n\tand a tab",
    "Title\n===\nunder a setext line",
    "pipes | make | tables\n---|---",
    "entities &amp; &lt;b&gt; stay text, emoji 🎉 stay too",
)


@pytest.mark.parametrize("text", CASES)
def test_escaped_text_is_inert_and_reads_back_literally(text: str) -> None:
    escaped = escape_text(text)
    assert markup_left(escaped) == [], escaped
    assert literal(escaped) == text.replace("\n\t", "\n    ")  # a leading tab shows as four spaces


@pytest.mark.parametrize("text", CASES[:-1])  # the last one is only text that looks like entities
def test_the_check_sees_the_markup_in_raw_text(text: str) -> None:
    assert markup_left(text), f"the inertness check would miss markup in {text!r}"


def test_words_and_addresses_keep_their_look() -> None:
    assert escape_text("menu/route and guru/x") == "menu/route and guru/x"  # u/ after a letter links nothing
    assert escape_text("plain words, no markup") == "plain words, no markup"
