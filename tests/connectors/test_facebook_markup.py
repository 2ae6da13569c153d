"""escape_text: customer text stays literal on Facebook (no mention, hashtag or link comes alive)."""

from __future__ import annotations

import pytest

from connectors.facebook.contract import live_markup
from connectors.facebook.markup import ZWSP, escape_text
from continuum.testing.harness import HOSTILE_TEXTS


@pytest.mark.parametrize("text", [*HOSTILE_TEXTS, "@[104738291654321] and @Acme", "#refund #1 now",
                                  "see evil.example or http://x.io/a", "mail me: a.b@c.de"])
def test_hostile_text_is_inert_and_reads_back_the_same(text: str) -> None:
    escaped = escape_text(text)
    assert live_markup(escaped) == []
    expected = text.replace("\r\n", "\n").replace("\u202e", "").replace(ZWSP, "")
    assert escaped.replace(ZWSP, "") == expected


def test_the_checker_sees_live_markup() -> None:
    # the inertness check itself must be able to fail
    assert live_markup("@[1] hi #tag https://x.example")
    assert len(live_markup("evil.example")) == 1 and live_markup("\u202eabc")


def test_plain_text_is_untouched() -> None:
    text = "Version 4.2.1 crashes, 3.9 was fine. Thanks!"
    assert escape_text(text) == text
