"""Fitting an answer into a platform's length limit without cutting a word silently.

Two ways, as the platforms' own clients do it:

* :func:`split_for_limit`: a numbered thread, ``(1/3)`` … ``(3/3)``, each part within the limit, split at
  paragraph, then sentence, then word boundaries;
* :func:`shorten_with_link`: the first words that fit, an ellipsis, and a link to the full answer.

``count`` measures a text the way the platform does (X weighs URLs and some characters differently);
``len`` is right for most.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Count = Callable[[str], int]
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_ELLIPSIS = "…"


def split_for_limit(text: str, limit: int, *, count: Count = len, numbered: bool = True) -> list[str]:
    """Parts of ``text`` that each fit ``limit`` (counted by ``count``), numbered when there is more than one.

    Only a single word longer than a whole part is ever cut, and then visibly (it ends in ``…``).
    """
    text = text.strip()
    if count(text) <= limit:
        return [text] if text else []
    # Reserve room for the widest numbering this split can need: " (99/99)" for up to 99 parts.
    parts: list[str] = []
    for digits in (1, 2, 3):
        room = limit - len(f" ({'9' * digits}/{'9' * digits})") if numbered else limit
        if room < 8:
            raise ValueError(f"a limit of {limit} leaves no room for text once parts are numbered")
        parts = _pack(_pieces(text, room, count), room, count)
        if not numbered or len(parts) < 10 ** digits:
            break
    if not numbered or len(parts) == 1:
        return parts
    return [f"{part} ({n}/{len(parts)})" for n, part in enumerate(parts, 1)]


def shorten_with_link(text: str, limit: int, link: str, *, count: Count = len) -> str:
    """``text`` if it fits; otherwise the words that fit, ``…`` and ``link`` (the full answer)."""
    text = text.strip()
    if count(text) <= limit:
        return text
    tail = f"{_ELLIPSIS} {link}"
    room = limit - count(tail)
    if room < 1:
        raise ValueError(f"a limit of {limit} cannot hold the link {link!r}")
    words, kept = text.split(), ""
    for word in words:
        candidate = f"{kept} {word}" if kept else word
        if count(candidate) > room:
            break
        kept = candidate
    if not kept:  # one word longer than the room: cut it, visibly
        kept = _cut(words[0], room, count)
    return f"{kept}{tail}"


def _pieces(text: str, room: int, count: Count) -> list[tuple[str, bool]]:
    """Paragraphs, then sentences, then words: the largest units that fit ``room``, in order, each with whether
    it starts a paragraph (so packing can keep the blank line between paragraphs)."""
    pieces: list[tuple[str, bool]] = []
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not paragraph:
            continue
        if count(paragraph) <= room:
            pieces.append((paragraph, True))
            continue
        first = True
        for sentence in _SENTENCE_END.split(paragraph):
            if count(sentence) <= room:
                pieces.append((sentence, first))
                first = False
                continue
            for word in sentence.split():
                while count(word) > room:  # a URL or a word longer than a part: cut visibly
                    head = _cut(word, room, count)
                    pieces.append((head, first))
                    first = False
                    word = word[len(head) - len(_ELLIPSIS):]
                pieces.append((word, first))
                first = False
    return pieces


def _pack(pieces: list[tuple[str, bool]], room: int, count: Count) -> list[str]:
    parts: list[str] = []
    current = ""
    for piece, starts_paragraph in pieces:
        candidate = f"{current}{chr(10) * 2 if starts_paragraph else ' '}{piece}" if current else piece
        if count(candidate) <= room:
            current = candidate
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts


def _cut(word: str, room: int, count: Count) -> str:
    end = len(word)
    while end > 1 and count(word[:end] + _ELLIPSIS) > room:
        end -= 1
    return word[:end] + _ELLIPSIS
