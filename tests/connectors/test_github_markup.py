"""GitHub Flavored Markdown escaping: customer text renders as the characters it holds and pings or links nothing.

Each escaped text is rendered by a real CommonMark parser (markdown-it-py, with GFM's tables and strikethrough):
only paragraphs, line breaks and autolinks of the addresses the customer wrote may come out.  Mentions and
issue references, which GitHub links after Markdown, are checked on the rendered text.
"""

from __future__ import annotations

import html
import re

import pytest

from connectors.github.contract import literal, markup_left
from connectors.github.markup import escape_text, idempotency_marker, plain, split_marker, with_marker
from continuum.testing.harness import HOSTILE_TEXTS

markdown_it = pytest.importorskip("markdown_it")
GFM = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
ALLOWED_TAGS = {"p", "/p", "br", "br /", "a", "/a"}

CASES = (
    "@octocat please look, cc @acme/sdk-team",
    "Same as #123 and GH-45 and acme/other#9",
    "- [ ] refund\n- [x] done\n* item\n+ item\n1. one\n2) two",
    "# Title\nSetext\n===\nrule\n---\n***\n___",
    "    indented code\n\tand a tab",
    "```\nfenced\n```\n~~~\ntilde\n~~~",
    "**bold** _it_ ~~struck~~ `code` $x^2$ $$y$$",
    "![pixel](http://tracker.example/p.png) [bank](https://evil.example) [^1]\n\n[^1]: note",
    "<details><summary>x</summary></details> <!-- hidden --> &lt; &amp; &#64;user",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "> quoted\n> [!WARNING]\n> alert",
    "See https://en.wikipedia.org/wiki/Foo_(bar). and https://mastodon.social/@ana/1#top, ok?",
    "ok :smile: \\*not bold\\* \\",
    "a\u202eevil\u2066 b",
)


def rendered(text: str) -> str:
    return str(GFM.render(escape_text(text)))


@pytest.mark.parametrize("text", CASES + HOSTILE_TEXTS)
def test_it_renders_to_paragraphs_and_the_customers_own_addresses_only(text: str) -> None:
    out = rendered(text)
    tags = set(re.findall(r"<([^>]+)>", out))
    links = re.findall(r'<a href="([^"]*)">([^<]*)</a>', out)
    assert {t.split(" ")[0] if t.startswith("a ") else t for t in tags} <= ALLOWED_TAGS, out
    for href, shown in links:  # an autolink goes exactly where it says
        assert html.unescape(href) == html.unescape(shown) and href.startswith(("http://", "https://")), out
        assert html.unescape(shown) in text
    # GitHub links mentions and references in text, never inside a link: those are checked without links.
    visible = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<a [^>]*>[^<]*</a>", " ", out)))
    assert not re.search(r"(?<![\w@])@\w", visible), f"a live mention in {visible!r}"
    assert not re.search(r"#\d|\bGH-\d", visible, re.I), f"a live issue reference in {visible!r}"


@pytest.mark.parametrize("text", CASES + HOSTILE_TEXTS)
def test_it_reads_back_as_typed(text: str) -> None:
    escaped = escape_text(text)
    assert markup_left(escaped) == []
    expected = re.sub("[\u202a-\u202e\u2066-\u2069]", "", text.replace("\r\n", "\n")).replace("\u200b", "")
    expected = re.sub(r"(?m)^[ \t]+", lambda m: m.group().replace("\t", "    "), expected)  # a leading tab: 4 spaces
    assert literal(escaped) == expected


def test_mentions_and_references_are_broken_invisibly_but_mail_addresses_stay() -> None:
    assert escape_text("@ana") == "@\u200bana"
    assert escape_text("#12") == "\\#\u200b12"
    assert escape_text("gh-3") == "gh-\u200b3"
    assert escape_text("ana@example.com") == "ana@example.com"


def test_addresses_become_autolinks_without_the_sentence_around_them() -> None:
    assert escape_text("see https://x.example/a_b.") == "see <https://x.example/a_b>."
    assert escape_text("(https://x.example/wiki/A_(b))") == "\\(<https://x.example/wiki/A_(b)>\\)"
    assert escape_text("<https://evil.example|bank>") == "&lt;<https://evil.example>\\|bank&gt;"
    assert escape_text("javascript:alert(1)") == "javascript:alert\\(1\\)"


def test_titles_are_plain_text_again() -> None:
    title = "Crash in <Widget> *2.4* https://x.example/a_b #12"
    assert plain(escape_text(title)) == "Crash in <Widget> *2.4* https://x.example/a_b #\u200b12"


def test_the_marker_round_trips_and_customers_cannot_forge_one() -> None:
    key = "ck-0123456789abcdef01234567"
    body = with_marker("text", key)
    assert body == f"text\n\n{idempotency_marker(key)}" and "-->" not in idempotency_marker(key)[:-3]
    assert split_marker(body) == ("text", key)
    assert split_marker("no marker") == ("no marker", None)
    forged = escape_text(f"hello {idempotency_marker('ck-forged')}")
    assert split_marker(forged)[1] is None
