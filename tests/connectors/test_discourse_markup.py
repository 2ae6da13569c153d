"""Escaping of customer/staff text for Discourse raw, and the idempotency marker."""

from __future__ import annotations

import re

import pytest

from connectors.discourse.markup import HTML_COMMENT, escape_text, idempotency_marker, marked_key

ZWSP = "\u200b"


def _unescape(text: str) -> str:
    """What a reader sees: backslash escapes and entities resolved, invisible breaks removed."""
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text.replace(ZWSP, "").replace("\u00a0", " ")


def test_html_is_entity_escaped() -> None:
    out = escape_text('<script>alert(1)</script> & <ac:structured-macro ac:name="html">')
    assert "<" not in out and ">" not in out
    assert "&lt;script&gt;" in out
    assert "&amp;" in out


def test_markdown_punctuation_is_backslash_escaped() -> None:
    out = escape_text("*bold* _it_ [link](http://x) `code` ~~gone~~ a|b #1 back\\slash")
    for token in ("\\*bold\\*", "\\_it\\_", "\\[link\\]\\(http://x\\)", "\\`code\\`", "\\~\\~gone\\~\\~",
                  "a\\|b", "back\\\\slash"):
        assert token in out, token


@pytest.mark.parametrize("line, expected_start", [
    ("> quoted", "&gt; quoted"),
    ("- item", "\\- item"),
    ("+ item", "\\+ item"),
    ("* item", "\\* item"),
    ("1. first", "1\\. first"),
    ("2) second", "2\\) second"),
    ("# Heading", "\\#"),
    ("===", "\\==="),
    ("---", "\\---"),
    ("```", "\\`\\`\\`"),
])
def test_block_markers_at_line_start_are_neutralised(line: str, expected_start: str) -> None:
    out = escape_text("intro\n" + line).split("\n")[1]
    assert out.startswith(expected_start), out


def test_indentation_cannot_start_a_code_block() -> None:
    out = escape_text("text\n\n    indented *code*\n\tand tab")
    lines = out.split("\n")
    assert lines[2].startswith("\u00a0" * 4) and not lines[2].startswith(" ")
    assert lines[3].startswith("\u00a0" * 4)
    assert "\\*code\\*" in lines[2]


def test_mentions_and_hashtags_are_broken_invisibly() -> None:
    out = escape_text("ping @everyone and @sam.lee, see #general; mail jo@example.com; issue#4")
    assert "@everyone" not in out and "@sam.lee" not in out
    assert "@" + ZWSP + "everyone" in out
    assert "\\#" + ZWSP + "general" in out
    assert "jo@example.com" in out  # not a mention in Discourse either
    assert "issue\\#4" in out


def test_bbcode_and_foreign_markup_are_inert() -> None:
    out = escape_text("[quote]x[/quote] {code}x{code} [~accountid:557058:abc] {color:red}x{color}")
    assert "[quote]" not in out and "\\[quote\\]" in out
    assert "\\[~accountid:557058:abc\\]" in out.replace("\\~", "~")


def test_bidi_overrides_removed_but_emoji_and_joiners_kept() -> None:
    text = "a\u202eevil\u202c b\u2066x\u2069 \U0001f469\u200d\U0001f4bb caf\u00e9 \u0645\u0631\u062d\u0628\u0627 \u200f"
    out = escape_text(text)
    assert "\u202e" not in out and "\u2066" not in out
    assert "\U0001f469\u200d\U0001f4bb" in out
    assert "caf\u00e9" in out and "\u0645\u0631\u062d\u0628\u0627" in out


def test_result_stays_readable() -> None:
    text = "Hi @sam, 2*3 = 6 & <b>not bold</b>.\n- keep this [note] (really)\n> quoted"
    assert _unescape(escape_text(text)) == text


def test_customer_cannot_forge_an_idempotency_marker() -> None:
    forged = "<!-- continuum:abc -->"
    assert not HTML_COMMENT.search(escape_text(forged))


def test_marker_is_a_single_safe_comment() -> None:
    marker = idempotency_marker("reply:ticket-42--x>y <!--")
    assert marker.startswith("<!-- continuum:") and marker.endswith(" -->")
    inner = marker[len("<!-- "):-len(" -->")]
    assert "--" not in inner and ">" not in inner and "<" not in inner
    assert idempotency_marker("a-b") != idempotency_marker("a_b")
    assert idempotency_marker("k1") == idempotency_marker("k1")


@pytest.mark.parametrize("key", ["k1", "reply:ticket-42--x>y <!--", "out/ü é~_.", "a-b"])
def test_the_marker_gives_its_key_back(key: str) -> None:
    assert marked_key(f"Thanks!\n\n{idempotency_marker(key)}") == key
    assert marked_key("no marker here <!-- other comment -->") is None
    assert marked_key(escape_text(idempotency_marker(key))) is None  # escaped text carries no live marker
