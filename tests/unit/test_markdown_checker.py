"""The shared Markdown inertness checker finds live markup in each dialect (a checker that finds nothing is
no check): every sample below must be reported, and its escaped form must not."""

from __future__ import annotations

import pytest

from connectors.discourse.contract import DIALECT as DISCOURSE
from connectors.discourse.markup import escape_text as discourse_escape
from connectors.github.contract import DIALECT as GITHUB
from connectors.github.markup import escape_text as github_escape
from connectors.reddit.contract import DIALECT as REDDIT
from connectors.reddit.markup import escape_text as reddit_escape
from continuum.testing.markdown import MarkdownDialect

LIVE = {
    "discourse": ["**bold**", "@alice look", "see #general", "<b>x</b>", "- item", "    code", "a \\q b", "\u202eevil"],
    "github": ["**bold**", "@alice look", "fixes #12", "GH-12", "<b>x</b>", "1. item", "$x$", "![i](u)"],
    "reddit": ["**bold**", "ask u/alice", "r/python", "> quote", "www.evil.example", "^super", "||spoiler||"],
}
DIALECTS: dict[str, tuple[MarkdownDialect, object]] = {
    "discourse": (DISCOURSE, discourse_escape), "github": (GITHUB, github_escape), "reddit": (REDDIT, reddit_escape)}


@pytest.mark.parametrize("name,sample", [(n, s) for n, samples in LIVE.items() for s in samples])
def test_live_markup_is_found_and_its_escaped_form_is_inert(name: str, sample: str) -> None:
    dialect, escape = DIALECTS[name]
    assert dialect.markup_left(sample), f"{name}: the checker misses the markup in {sample!r}"
    escaped = escape(sample)  # type: ignore[operator]
    assert dialect.markup_left(escaped) == [], (name, escaped)
    expected = dialect.expected(sample)
    assert dialect.literal(escaped) == (expected.strip() if name == "reddit" else expected)  # Reddit trims


def test_an_allowed_autolink_is_no_markup_and_reads_as_its_address() -> None:
    body = "see <https://example.com/a_b*c> now"
    assert GITHUB.markup_left(body) == [] and GITHUB.literal(body) == "see https://example.com/a_b*c now"
    assert DISCOURSE.markup_left(body), "Discourse allows no autolink"
