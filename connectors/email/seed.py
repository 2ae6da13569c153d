"""The demo's mailbox: the corpus of real-shaped mail (customers in Gmail, Outlook, Apple Mail, Latin-1 and
Shift_JIS, an HTML-only message) and the noise a support address gets (a vacation notice, a bounce, a list)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "corpus"


def corpus(name: str) -> bytes:
    """One message of the corpus, as it arrives: CRLF line ends."""
    return (CORPUS / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def seed(servers: Any) -> None:
    for path in sorted(CORPUS.glob("*.eml")):
        if path.name != "broken-charset.eml":  # the demo's story, not its fault injection
            servers.deliver(corpus(path.name), "INBOX")
