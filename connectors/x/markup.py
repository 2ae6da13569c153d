"""Text rules of X: how a post's length is counted (twitter-text v3), and how customer text is made inert.

A post is plain text, so nothing can become HTML; what X turns live is @mentions (they notify), #hashtags and
$cashtags (links to searches), and URLs, bare domains included (links through t.co).
"""

from __future__ import annotations

import re
import unicodedata

LIMIT = 280  # twitter-text config v3: maxWeightedTweetLength 280 at scale 100
URL_WEIGHT = 23  # transformedURLLength: every URL counts as a t.co link
# Code points of weight 1 (Latin, Greek, Cyrillic, Hebrew, Arabic..., general punctuation); all others weigh 2.
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
# twitter-text's autolinker takes a bare domain only with a known TLD: the common ones here.
_TLDS = "com|org|net|io|co|app|dev|ai|info|biz|me|tv|ly|gg|xyz|edu|gov|us|uk|de|fr|es|it|nl|jp|cn|in|br|ca|au|ru"
_URL = re.compile(r"(?:https?://[^\s]+|(?<![\w@.-])(?:www\.)?(?:[a-z0-9-]+\.)+(?:" + _TLDS + r")\b(?:/[^\s]*)?)",
                  re.IGNORECASE)
_URL_TRAIL = re.compile(r"[.,;:!?'\")\]]+$")
# One emoji (keycap, flag, or a pictograph with its variation selector, skin tone, ZWJ partners and tags)
# counts 2, however many code points it holds: emojiParsingEnabled.
_PICTO = "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u3030\u303d\u3297\u3299]"
_EMOJI = re.compile(rf"[0-9#*]\ufe0f?\u20e3|[\U0001f1e6-\U0001f1ff]{{2}}|{_PICTO}\ufe0f?[\U0001f3fb-\U0001f3ff]?"
                    rf"(?:\u200d{_PICTO}\ufe0f?[\U0001f3fb-\U0001f3ff]?)*[\U000e0020-\U000e007f]*")
# Bidi embedding/override/isolate controls reorder how the rest of a post shows (a spoofing trick).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
ZWSP = "\u200b"  # weight 1 (inside 8192-8205), invisible, and no mention, tag or domain character
# twitter-text: a mention/hashtag/cashtag sigil not glued to a word; ＠ and ＃ count as sigils too.
_SIGIL = re.compile(r"(?<![A-Za-z0-9_!#$%&*@＠])([@＠](?=\w)|[#＃](?=\w)|\$(?=[A-Za-z]))")
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*:)//")
_DOT = re.compile(r"(?<=\w)\.(?=\w)")


def _weight(char: str) -> int:
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in _LIGHT) else 2


def weighted_length(text: str) -> int:
    """The length X counts (twitter-text ``parseTweet(...).weightedLength`` with config v3)."""
    text = unicodedata.normalize("NFC", text)
    total, at = 0, 0
    for url in _URL.finditer(text):
        total += _plain(text[at:url.start()]) + URL_WEIGHT
        at = url.start() + len(_URL_TRAIL.sub("", url.group()))  # trailing punctuation is text, not link
    return total + _plain(text[at:])


def _plain(text: str) -> int:
    total, at = 0, 0
    for emoji in _EMOJI.finditer(text):
        total += sum(map(_weight, text[at:emoji.start()])) + 2
        at = emoji.end()
    return total + sum(map(_weight, text[at:]))


def escape_text(text: str) -> str:
    """Customer text that X shows as typed but does not link: a zero-width space after each live sigil
    (``@``, ``#``, ``$``), after a URL scheme's ``:`` and after each dot inside a word (``bank.com``); line ends
    unified, bidi controls dropped.  It reads the same and pings no one."""
    text = _BIDI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SIGIL.sub(lambda m: m.group(1) + ZWSP, text)
    return _DOT.sub("." + ZWSP, _SCHEME.sub(lambda m: m.group(1) + ZWSP + "//", text))
