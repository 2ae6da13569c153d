"""Answers fitted to a platform's length limit: every part fits, no word is lost or silently cut, order kept."""

from __future__ import annotations

import re

import pytest

from continuum.kit.text import shorten_with_link, split_for_limit

ANSWER = ("Thanks for asking! CSV export shipped today for every plan. Open Reports, choose Export, then CSV. "
          "Large reports arrive by e-mail within a few minutes.\n\nIf a column is missing, reply here and "
          "we will add it to the template. Known gap: custom fields are exported as text for now.")
NUMBERING = re.compile(r" \((\d+)/(\d+)\)$")


def _unnumbered(parts: list[str]) -> list[str]:
    return [NUMBERING.sub("", part) for part in parts]


def test_a_short_answer_is_one_part_without_numbering() -> None:
    assert split_for_limit("  Fixed, thanks!  ", 280) == ["Fixed, thanks!"]
    assert split_for_limit("   ", 280) == []


@pytest.mark.parametrize("limit", [40, 80, 140, 200])
def test_every_part_fits_and_the_words_come_back_in_order(limit: int) -> None:
    parts = split_for_limit(ANSWER, limit)
    assert len(parts) > 1
    assert all(len(part) <= limit for part in parts)
    assert [NUMBERING.search(p).groups() for p in parts] == [  # type: ignore[union-attr]
        (str(n), str(len(parts))) for n in range(1, len(parts) + 1)]
    assert " ".join(_unnumbered(parts)).split() == ANSWER.split()


def test_parts_break_between_sentences_when_they_can() -> None:
    parts = _unnumbered(split_for_limit(ANSWER, 140))
    assert all(part.rstrip().endswith((".", "!", "?")) for part in parts[:-1])


def test_a_paragraph_break_inside_a_part_is_kept() -> None:
    text = "First paragraph.\n\nSecond one."
    assert split_for_limit(text + " " + "word " * 60, 400)[0].startswith("First paragraph.\n\nSecond one.")


def test_a_word_longer_than_a_part_is_cut_visibly_and_nothing_is_lost() -> None:
    url = "https://example.com/" + "a" * 150
    parts = split_for_limit(f"See {url} for details", 60)
    assert all(len(p) <= 60 for p in parts)
    joined = "".join(p.replace("…", "") for p in _unnumbered(parts)).replace(" ", "")
    assert joined == f"See{url}fordetails"
    assert any(p.rstrip().endswith("…") for p in _unnumbered(parts))


def test_the_platforms_own_count_is_used() -> None:
    def weighted(text: str) -> int:  # every character counts twice, like CJK on X
        return 2 * len(text)

    parts = split_for_limit("日本語のテキスト " * 20, 100, count=weighted)
    assert all(weighted(p) <= 100 for p in parts)


def test_many_parts_make_room_for_two_digit_numbers() -> None:
    parts = split_for_limit("word " * 400, 40)
    assert len(parts) >= 10 and all(len(p) <= 40 for p in parts)
    assert parts[-1].endswith(f"({len(parts)}/{len(parts)})")


def test_a_limit_too_small_for_numbering_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        split_for_limit("word " * 10, 12)


def test_shortening_keeps_whole_words_and_ends_with_the_link() -> None:
    link = "https://help.example.com/a/42"
    short = shorten_with_link(ANSWER, 100, link)
    assert len(short) <= 100 and short.endswith(f"… {link}")
    kept = short.removesuffix(f"… {link}")
    assert ANSWER.startswith(kept) and ANSWER[len(kept)] == " "
    assert shorten_with_link("Fixed.", 100, link) == "Fixed."
    with pytest.raises(ValueError, match="cannot hold the link"):
        shorten_with_link(ANSWER, 10, link)
