"""E-mail figures (issue #13): messages parsed per second from the corpus, and IMAP commands per 100 new messages.

Parsing is the connector's own record building (filters, charsets, HTML to text, quotes and signatures cut,
attachments hashed) on every corpus message, without the network.  The IMAP figure is counted by the real
pymap server on loopback: ``size`` new messages (the corpus under fresh Message-IDs) read by one incremental
run, then a run with nothing new.  The duplicate-send figure after crashes is a test, not a benchmark:
tests/reliability/test_mail_crash.py (``make soak`` runs it with 20 crashes).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from bench.common import Timer, emit, sized_main
from connectors.email.connector import EmailConnector
from connectors.email.plugin import PLUGIN, SIM_PASSWORD, SIM_USER
from connectors.email.seed import CORPUS, corpus
from connectors.email.simservers import LocalMailServers
from continuum.connector import ConnectionInfo

DEFAULT_SIZE = 100
FULL_SIZE = 1_000
PARSE_SECONDS = 2.0


class _NoMailbox:
    """Stands in for the IMAP client while parsing: the subject fallback finds no earlier mail."""

    def search(self, folder: str, criteria: list[str]) -> list[int]:
        return []

    def headers_of(self, uids: list[int], fields: str) -> dict[int, bytes]:
        return {}


def messages() -> list[bytes]:
    return [corpus(p.name) for p in sorted(CORPUS.glob("*.eml"))]


def parse_rate(connector: EmailConnector) -> tuple[float, int]:
    """Corpus messages turned into records per second (the broken one included: it becomes a problem)."""
    raw, done = messages(), 0
    timer = Timer()
    while timer.seconds < PARSE_SECONDS:
        for uid, message in enumerate(raw, 1):
            connector._record("INBOX", 1, uid, len(message), message, None)
            done += 1
    return done / timer.seconds, len(raw)


def fresh(raw: bytes, n: int) -> bytes:
    """The message under a Message-ID of its own, so ``size`` copies are ``size`` different messages."""
    return re.sub(rb"(?im)^Message-ID:[^\r\n]*", f"Message-ID: <bench-{n}@mail.example.com>".encode(), raw, count=1)


def run(size: int, tmp: Path) -> None:
    with LocalMailServers() as servers:
        connection = ConnectionInfo("email_bench", servers.base_url, SIM_USER, SIM_PASSWORD,
                                    {"smtp_url": servers.smtp_url})
        connector = PLUGIN.create(connection, {})
        assert isinstance(connector, EmailConnector)
        real_client, connector.client = connector.client, _NoMailbox()  # type: ignore[assignment]
        rate, corpus_size = parse_rate(connector)
        connector.client = real_client
        raw = messages()
        servers.deliver_many([fresh(raw[n % len(raw)], n) for n in range(size)], "INBOX")
        before, timer = servers.call_counts()["imap_commands"], Timer()
        cursor, records = None, 0
        for page in connector.read_changes("messages", None):
            records, cursor = records + len(page.records), page.cursor.to_json()
        read_s = timer.seconds
        time.sleep(0.2)  # pymap writes its debug log line by line; let the last lines land
        first = servers.call_counts()["imap_commands"] - before
        before = servers.call_counts()["imap_commands"]
        again = sum(len(page.records) for page in connector.read_changes("messages", cursor))
        time.sleep(0.2)
        idle = servers.call_counts()["imap_commands"] - before
    emit("email", size, {
        "parsed_messages_per_s": round(rate, 1), "corpus_messages": corpus_size,
        "imap_commands_per_100_new": round(first * 100 / size, 1), "imap_commands_new_read": first,
        "records_read": records, "read_s": round(read_s, 2),
        "imap_commands_nothing_new": idle, "records_nothing_new": again})


def main(argv: list[str] | None = None) -> None:
    sized_main(run, __doc__, DEFAULT_SIZE, FULL_SIZE, argv)


if __name__ == "__main__":
    main()
