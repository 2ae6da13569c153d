"""Settings for one mailbox (IMAP to read, SMTP to answer), validated before any call is made."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator

from continuum.kit.config import ConnectorConfig

PORTS = {"imap": 143, "imaps": 993, "smtp": 587, "smtps": 465}


def split_url(url: str) -> tuple[str, str, int]:
    """``imaps://imap.example.com`` -> (scheme, host, port), the scheme's standard port when none is given."""
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or PORTS[parts.scheme]


def _names(value: Any) -> Any:
    return tuple(p.strip() for p in value.split(",") if p.strip()) if isinstance(value, str) else value  # "a, b"


class EmailConfig(ConnectorConfig):
    system: ClassVar[str] = "email"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "username", "password": "password"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the IMAP URL, imaps://imap.example.com)",
                                               "login": "login (the mailbox user)", "password": "password"}

    username: str = Field(min_length=1)
    password: SecretStr  # IMAP and SMTP log in as the same user, as mail providers set mailboxes up
    smtp_url: str = ""  # empty: the IMAP host on the submission port (smtps:465 after imaps, smtp:587 after imap)
    address: str = ""  # the hub's From address; empty: the login, when it is an address
    display_name: str = ""  # "Acme Support", shown before the address
    folders: Annotated[tuple[str, ...], BeforeValidator(_names)] = ("INBOX",)
    sent_folder: str = "Sent"
    # A copy of each answer goes to Sent, as mail clients do; off where the SMTP server files one itself (Gmail).
    append_to_sent: bool = True
    # Each answer is also addressed to the mailbox itself (in the envelope only: the customer sees no Bcc), so
    # the server files a copy in ``copy_folder`` in the same SMTP transaction that accepts the answer.  After a
    # crash between the server's "queued" and the hub recording it, that copy proves the answer went out; the
    # copy in Sent cannot, since the hub appends it only after sending.  Off: only Sent is checked.
    copy_to_self: bool = True
    copy_folder: str = "INBOX"  # where the mailbox's own delivery puts mail to its address
    page_size: int = Field(default=50, ge=1, le=500)  # messages per UID FETCH and per Page
    max_message_bytes: int = Field(default=10_000_000, ge=10_000)  # larger ones are dead letters, not read whole
    max_raw_chars: int = Field(default=100_000, ge=0)  # how much of the raw message the payload keeps
    # The bytes carried per attachment; a larger file keeps its name, size and hash only (the document store's
    # limit refuses it, naming it).  Set it at least as high as the document store's size limit.
    max_attachment_bytes: int = Field(default=10_000_000, ge=0)
    timeout_s: float = Field(default=30.0, gt=0)
    smtp_retries: int = Field(default=3, ge=1, le=10)  # attempts when the server answers 4xx "try again later"
    smtp_retry_wait_s: float = Field(default=5.0, ge=0)  # the first wait; it doubles, with jitter

    @field_validator("url", "smtp_url", mode="before")
    @classmethod
    def _check_url(cls, value: Any) -> str:
        text = str(value or "").strip().rstrip("/")
        if text and (urlsplit(text).scheme not in PORTS or not urlsplit(text).hostname):
            raise ValueError("must look like imaps://host[:port] or smtps://host[:port] (or imap://, smtp://)")
        return text

    @model_validator(mode="after")
    def _complete(self) -> EmailConfig:
        if not self.url.startswith("imap") or (not self.smtp_url.startswith("smtp") and self.smtp_url):
            raise ValueError("the connection's host must be an imap(s):// URL and smtp_url an smtp(s):// one")
        if (self.address or self.username).count("@") != 1:
            raise ValueError("address: the login is not an e-mail address, so set the hub's From address")
        return self

    @property
    def from_address(self) -> str:
        return (self.address or self.username).strip().lower()

    @property
    def smtp(self) -> tuple[str, str, int]:
        if self.smtp_url:
            return split_url(self.smtp_url)
        scheme, host, _ = split_url(self.url)
        return ("smtps", host, 465) if scheme == "imaps" else ("smtp", host, 587)

    @staticmethod
    def needs_starttls(scheme: str, host: str) -> bool:
        """Plain IMAP/SMTP is upgraded with STARTTLS, which must succeed; only a loopback server may stay plain."""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        return scheme in ("imap", "smtp") and not loopback
