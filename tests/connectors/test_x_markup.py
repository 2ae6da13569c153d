"""X's text rules: the weighted length (twitter-text v3, worked out by hand below) and inert customer text."""

from __future__ import annotations

import re

import pytest

from connectors.x.markup import LIMIT, ZWSP, escape_text, weighted_length
from continuum.kit import split_for_limit


@pytest.mark.parametrize(("text", "expected"), [
    ("hello", 5),
    ("é", 1),  # NFC: e + combining accent is one code point below U+10FF
    ("e\u0301", 1),
    ("日本語です", 10),  # CJK: 2 each
    ("한국", 4),
    ("—“quotes”", 9),  # dashes and quotes (U+2010-U+201F) weigh 1
    ("…", 2),  # but the ellipsis U+2026 lies outside every light range
    ("\U0001f600", 2),  # one emoji
    ("\U0001f44d\U0001f3fd", 2),  # with a skin tone: still one emoji
    ("\U0001f469\u200d\U0001f4bb", 2),  # ZWJ sequence
    ("\U0001f1eb\U0001f1f7", 2),  # a flag
    ("1\ufe0f\u20e3", 2),  # a keycap
    ("https://example.com/a/very/long/path/that/goes/on?and=on", 23),
    ("see https://x.co, ok", 4 + 23 + 4),  # the comma after a URL is text
    ("docs at acme.com today", 8 + 23 + 6),  # a bare domain is a link too
    ("v1.2 and e.g. ok", 16),  # not domains
    ("a" * 280, 280),
])
def test_weighted_length_counts_as_x_does(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_a_long_answer_splits_into_numbered_parts_within_the_limit() -> None:
    answer = ("Thanks for the detailed report. " * 6 + "日本語のお客様にも対応しています。" * 8
              + " Details: https://example.com/help/exports/csv-and-excel/very-long-article-name " + "\U0001f64c" * 5)
    parts = split_for_limit(answer, LIMIT, count=weighted_length)
    assert len(parts) >= 3
    assert all(weighted_length(p) <= LIMIT for p in parts)
    assert [re.search(r"\((\d+)/(\d+)\)$", p).groups() for p in parts] == [  # type: ignore[union-attr]
        (str(n), str(len(parts))) for n in range(1, len(parts) + 1)]
    rebuilt = " ".join(re.sub(r" \(\d+/\d+\)$", "", p) for p in parts)
    assert rebuilt.split() == answer.split()  # nothing lost, nothing cut mid-word, in order


def test_len_would_have_split_wrongly() -> None:
    """Why the count matters: 200 CJK characters are 400 weighted, over the limit though len() says 200."""
    text = "日本" * 100
    assert len(text) < LIMIT < weighted_length(text)
    assert all(weighted_length(p) <= LIMIT for p in split_for_limit(text, LIMIT, count=weighted_length))


@pytest.mark.parametrize("text", ["@acme_app hi", "ping ＠someone", "#general #１", "$AAPL up", "http://evil.example/x",
                                  "visit bank.com now", "mail me a@b.com"])
def test_escaped_text_links_and_pings_nothing_but_reads_the_same(text: str) -> None:
    escaped = escape_text(text)
    assert escaped.replace(ZWSP, "") == text
    assert not re.search(r"(?<![A-Za-z0-9_!#$%&*@＠])[@＠#＃$]\w", escaped)
    assert "://" not in escaped and not re.search(r"\w\.\w", escaped)


def test_escaping_drops_bidi_controls_and_unifies_line_ends() -> None:
    assert escape_text("a\r\nb\u202eevil\u202c") == "a\nbevil"


def test_emails_and_words_keep_their_sigils_in_place() -> None:
    assert escape_text("50$ or me@home") == "50$ or me@home"  # not a cashtag, not a mention
