"""What the shared contract suite needs to know about e-mail: real IMAP and SMTP servers on loopback
(``simservers``), the relayed mail as what was written, and which HTTP-only checks do not apply.

Test-only: the suite resolves it lazily, production never imports it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from email import policy
from email.parser import BytesParser
from typing import Any, ClassVar
from urllib.parse import urlsplit

from connectors.email.markup import KEY_HEADER, signed_key
from connectors.email.plugin import PLUGIN, SIM_PASSWORD, SIM_USER
from continuum.connector import ConnectionInfo, Connector, Effect
from continuum.testing.harness import ContractHarness

CUSTOMER = "ann.lee@example.com"
FIRST = "CAF3k2x9-first@mail.example.com"  # the seeded message the contract's answers reply to
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def relayed_with_key(sim: Any, key: str) -> list[bytes]:
    """Every message SMTP relayed to a customer whose key header is ``key``, signed by the hub."""
    found = []
    for sent in list(sim.relayed):
        message = BytesParser(policy=policy.default).parsebytes(sent.data)
        if signed_key(str(message.get(KEY_HEADER, "")), SIM_USER, SIM_PASSWORD) == key:
            found.append(sent.data)
    return found


class EmailHarness(ContractHarness):
    system: ClassVar[str] = "email"
    stream: ClassVar[str | None] = "messages"
    # Support mail filed in its own folder, which the local servers can renumber (INBOX cannot be deleted).
    options: ClassVar[Mapping[str, Any]] = {"folders": ["Support"], "smtp_retry_wait_s": 0.2,
                                            "display_name": "Acme Support"}
    not_applicable: ClassVar[Mapping[str, str]] = {
        "test_429_with_retry_after_is_honoured":
            "IMAP and SMTP have no HTTP status and no Retry-After; SMTP's equivalent, a 4xx 'try again later' "
            "answered with back-off, is tested against the real SMTP server in test_email_connector.py",
    }

    def connector(self, sim: Any | None, credentials: Mapping[str, Any] | None = None,
                  base_url: str | None = None) -> Connector:
        if base_url is not None:  # an address where nothing listens: the suite checks that building calls nothing
            where = urlsplit(base_url)
            imap, smtp = f"imap://{where.hostname}:{where.port}", f"smtp://{where.hostname}:{where.port}"
        else:
            imap, smtp = getattr(sim, "base_url", ""), getattr(sim, "smtp_url", "")
        data = {"login": SIM_USER, "password": SIM_PASSWORD, **(credentials or {})}
        conn = ConnectionInfo(conn_id="contract_email", host=imap, login=data["login"], password=data["password"],
                              extra={"smtp_url": smtp})
        return PLUGIN.create(conn, dict(self.options))

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        return Effect(key=key, action="reply", object_type="message",
                      fields={"to": f"Ann Lee <{CUSTOMER}>", "subject": "CSV export times out", "body": text},
                      target_id=FIRST, context={"in_reply_to": FIRST, "purpose": "reply"})

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key=key, action="reply", object_type="message",
                      fields={"to": CUSTOMER, "subject": "CSV export", "body": "   "}, target_id=FIRST)

    def written(self, sim: Any, key: str) -> list[str]:
        return [data.decode("ascii") for data in relayed_with_key(sim, key)]  # quoted-printable: all ASCII

    def assert_inert(self, stored: str, text: str) -> None:
        message = BytesParser(policy=policy.default).parsebytes(stored.encode("ascii"))
        expected = BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
        plain = message.get_body(preferencelist=("plain",))
        shown = plain.get_content().replace("\r\n", "\n").rstrip("\n") if plain is not None else None
        assert shown == expected, f"the plain text part does not hold {expected!r} literally: {shown!r}"
        page = message.get_body(preferencelist=("html",))
        assert page is not None, "no HTML alternative"
        inner = re.search(r"<body>(.*)</body>", page.get_content(), re.S)
        assert inner, f"not the connector's HTML skeleton: {page.get_content()!r}"
        tags = set(re.findall(r"<[^>]*>", inner.group(1)))
        ours = {"<p>", "</p>", "<br>"}
        assert tags <= ours, f"markup formed from customer text: {sorted(tags - ours)}"
        shown = html.unescape(inner.group(1).replace("\r\n", "\n").replace("</p><p>", "\n\n").replace("<br>", "\n")
                              .removeprefix("<p>").removesuffix("</p>"))
        assert shown == re.sub(r"\n\s*\n", "\n\n", expected.strip()), f"the HTML part shows {shown!r}"

    def add_records(self, sim: Any, count: int) -> None:
        start = len(sim.messages("Support"))
        sim.deliver_many([f"From: Contract Customer <contract.customer@example.com>\r\nTo: {SIM_USER}\r\n"
                          f"Subject: Exports time out ({n})\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
                          f"Message-ID: <contract-{n}@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n"
                          f"\r\nThe export never finishes, attempt {n}.\r\n".encode()
                          for n in range(start, start + count)], "Support")

    def check_exchanges(self, sim: Any) -> None:
        """No vendor description for a protocol; its RFCs instead: every relayed message is a valid RFC 5322
        reply (strict parsing, 998-character lines), signed, automatic, and filed in Sent under its Message-ID."""
        filed = {str(BytesParser(policy=policy.default).parsebytes(raw).get("Message-ID"))
                 for raw in sim.messages("Sent").values()}
        for sent in list(sim.relayed):
            message = BytesParser(policy=policy.strict).parsebytes(sent.data)
            for name in ("From", "To", "Date", "Message-ID", "Subject", "In-Reply-To", "References",
                         "Auto-Submitted", KEY_HEADER):
                assert message.get(name), f"a sent message has no {name}: {sent.data[:300]!r}"
            assert max(map(len, sent.data.split(b"\r\n"))) <= 998, "a line longer than RFC 5322 allows"
            assert sent.mail_from == SIM_USER, f"envelope sender {sent.mail_from} is not the hub's address"
            assert str(message["Message-ID"]) in filed, f"{message['Message-ID']} has no copy in Sent"


HARNESS = EmailHarness()
