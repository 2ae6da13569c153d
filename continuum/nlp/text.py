"""What a text rule or classifier should read: the customer's own words, without the wrapping.

Social posts open with the @handles of the thread, e-mails end with
signatures and quoted history, and every channel carries URLs.  None of that
says what the customer wants, and all of it misleads word features (the
company's @handle is in every tweet; a quoted staff answer is not the
customer speaking).  The original text is always kept; this is a view of it.
"""

from __future__ import annotations

import re

_LEADING_MENTIONS = re.compile(r"^(?:\s*(?:@|＠)[\w.\-]+(?:@[\w.\-]+)?[,:]?)+\s*")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
# "On Tue, 3 Mar 2026 at 10:02, Support <help@x.com> wrote:" and its translations start quoted history.
_QUOTE_HEADER = re.compile(
    r"^\s*(?:on\b.{0,200}\bwrote:|le\b.{0,200}\ba écrit\s*:|am\b.{0,200}\bschrieb\b.{0,100}:|"
    r"el\b.{0,200}\bescribió:|-{2,}\s*original message\s*-{2,}|-{2,}\s*ursprüngliche nachricht|"
    r"from:\s.+)$", re.IGNORECASE)
_SIGNATURE_START = re.compile(
    r"^\s*(?:--\s*|sent from my \w+.*|envoyé de mon \w+.*|von meinem \w+ gesendet.*|enviado desde mi \w+.*|"
    r"(?:best|kind|warm)?\s*regards,?|cheers,?|thanks,?|thank you,?|many thanks,?|best,?|sincerely,?|"
    r"cordialement,?|bien à vous,?|mit freundlichen grüßen,?|viele grüße,?|saludos,?|atentamente,?|"
    r"cordiali saluti,?|met vriendelijke groet,?|atenciosamente,?)\s*$", re.IGNORECASE)
_MAX_SIGNATURE_LINES = 6  # a sign-off followed by more than this is body text, not a signature


def strip_quoted(text: str) -> str:
    """Drop quoted history: ``>`` lines and everything after a "... wrote:" header."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTE_HEADER.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept)


def strip_signature(text: str) -> str:
    """Drop a trailing sign-off block ("Best regards,\\nAnna Meyer\\nACME GmbH")."""
    lines = text.rstrip().splitlines()
    for index in range(len(lines) - 1, 0, -1):
        if len(lines) - index > _MAX_SIGNATURE_LINES + 1:
            break
        if _SIGNATURE_START.match(lines[index]):
            head = "\n".join(lines[:index]).rstrip()
            return head if head else text
    return text


def clean_text(text: str) -> str:
    """The customer's own words: no leading @mentions, URLs, quoted history or signature."""
    body = strip_signature(strip_quoted(text or ""))
    body = _LEADING_MENTIONS.sub("", body)
    body = _URL.sub(" ", body)
    return re.sub(r"[ \t]+", " ", body).strip()
