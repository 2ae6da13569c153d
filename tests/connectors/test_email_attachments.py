"""The e-mail connector's attachments: read from real MIME over the loopback IMAP server."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from connectors.email.attachments import attachments_of
from connectors.email.connector import EmailConnector
from connectors.email.plugin import PLUGIN, SIM_PASSWORD, SIM_USER
from connectors.email.simservers import LocalMailServers
from continuum.connector import ConnectionInfo

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
LOG = b"2026-12-01 ERROR sync failed\n" * 20  # smaller than PNG


@pytest.fixture
def servers() -> Iterator[LocalMailServers]:
    with LocalMailServers() as running:
        yield running


def make(servers: LocalMailServers, **options: Any) -> EmailConnector:
    conn = ConnectionInfo("email_test", servers.base_url, SIM_USER, SIM_PASSWORD, {"smtp_url": servers.smtp_url})
    connector = PLUGIN.create(conn, options)
    assert isinstance(connector, EmailConnector)
    return connector


def mail_with_files(message_id: str = "files-1@example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "Ann Lee <ann.lee@example.com>", SIM_USER
    message["Subject"], message["Message-ID"] = "Sync fails", f"<{message_id}>"
    message.set_content("Sync fails, see the screenshot and the log.")
    message.add_alternative("<p>Sync fails, see the screenshot and the log.</p>", subtype="html")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="Bildschirmfoto äöü.png",
                           disposition="inline")
    message.add_attachment(LOG, maintype="text", subtype="plain", filename="sync.log")
    return message


def test_attached_and_inline_files_are_read_with_name_type_size_hash_and_bytes(servers) -> None:
    servers.deliver(mail_with_files().as_bytes())
    [page] = list(make(servers).read_changes("messages", None))
    [record] = page.records
    assert record.payload["continuum"]["text"] == "Sync fails, see the screenshot and the log."
    shot, log = record.attachments
    assert (shot.name, shot.content_type, shot.size) == ("Bildschirmfoto äöü.png", "image/png", len(PNG))
    assert shot.sha256 == hashlib.sha256(PNG).hexdigest() and base64.b64decode(shot.content_b64 or "") == PNG
    assert (log.name, log.content_type, log.sha256) == ("sync.log", "text/plain", hashlib.sha256(LOG).hexdigest())


def test_a_file_over_the_cap_keeps_its_name_size_and_hash_but_not_its_bytes(servers) -> None:
    servers.deliver(mail_with_files().as_bytes())
    [page] = list(make(servers, max_attachment_bytes=len(LOG)).read_changes("messages", None))
    shot, log = page.records[0].attachments
    assert shot.content_b64 is None and shot.size == len(PNG) and shot.sha256 == hashlib.sha256(PNG).hexdigest()
    assert log.content_b64 is not None  # exactly at the cap: carried


def test_the_body_is_no_attachment_and_a_nameless_attachment_gets_a_name() -> None:
    plain = EmailMessage()
    plain.set_content("just text")
    assert attachments_of(plain, 1000) == ()
    message = EmailMessage()
    message.set_content("see attached")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf")
    [pdf] = attachments_of(message, 1000)
    assert pdf.name == "attachment-1.pdf" and pdf.size == 8
