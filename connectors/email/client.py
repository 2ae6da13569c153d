"""The mailbox over IMAP (imapclient) and the way out over SMTP (smtplib), with errors a person can act on.
One IMAP login serves a whole read or write call and one SMTP session a batch: servers throttle logins."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any, ClassVar, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

from connectors.email.config import EmailConfig, split_url
from continuum.kit import ClientError

T = TypeVar("T")


class MailError(ClientError):
    auth_codes: ClassVar[frozenset[str]] = frozenset({"imap-login", "smtp-auth"})


def _text(value: object) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)).strip()[:300]


def _transient(exc: BaseException) -> bool:
    """SMTP's 4xx is "try again later" (throttling, greylisting); so is a refused or dropped connection."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min((c for c, _ in exc.recipients.values()), default=None)
    return (isinstance(code, int) and 400 <= code < 500) or isinstance(exc, ConnectionError | TimeoutError)


def _recipients(message: EmailMessage, also_to: Sequence[str]) -> list[str] | None:
    """The header recipients (To, Cc, Bcc, as smtplib finds them) and ``also_to``; None: smtplib's own choice."""
    if not also_to:
        return None
    found = [a for _, a in getaddresses([str(v) for f in ("To", "Cc", "Bcc") for v in message.get_all(f, [])]) if a]
    return list(dict.fromkeys([*found, *also_to]))


class EmailClient:
    def __init__(self, config: EmailConfig) -> None:
        self.config = config
        self._imap: IMAPClient | None = None
        self._smtp: smtplib.SMTP | None = None

    @contextmanager
    def session(self) -> Iterator[None]:
        """Both connections for one call, closed after it (a login kept between runs would time out)."""
        try:
            yield
        finally:
            imap, smtp, self._imap, self._smtp = self._imap, self._smtp, None, None
            for close in ([imap.logout] if imap else []) + ([smtp.quit] if smtp else []):
                try:
                    close()
                except (OSError, IMAPClientError, smtplib.SMTPException):
                    pass  # the server already dropped it

    # -- IMAP -------------------------------------------------------------------
    def imap(self) -> IMAPClient:
        if self._imap is None:
            scheme, host, port = split_url(self.config.url)
            try:
                client = IMAPClient(host, port=port, ssl=scheme == "imaps", timeout=self.config.timeout_s,
                                    ssl_context=ssl.create_default_context())
                client.normalise_times = False  # keep the server's offsets: dates are stored in UTC
                if EmailConfig.needs_starttls(scheme, host):
                    client.starttls(ssl.create_default_context())
                client.login(self.config.username, self.config.password.get_secret_value())
            except LoginError as exc:
                raise MailError("email", f"IMAP {host} refused the login of {self.config.username!r}: {_text(exc)}",
                                code="imap-login") from None
            except (OSError, IMAPClientError) as exc:
                raise MailError("email", f"cannot reach IMAP {host}:{port}: {type(exc).__name__}: {_text(exc)}") \
                    from None
            self._imap = client
        return self._imap

    def _imap_call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except IMAPClientError as exc:
            raise MailError("email", f"IMAP {what}: {_text(exc)}") from None

    def select(self, folder: str) -> int:
        """Open a folder read-only (reading marks nothing as seen); its UIDVALIDITY."""
        return int(self._imap_call(f"folder {folder!r}", lambda: self.imap().select_folder(folder, readonly=True))
                   [b"UIDVALIDITY"])

    def uids_above(self, last: int) -> list[int]:
        """The selected folder's UIDs above ``last`` ("n:*" also names the highest UID, so it is filtered)."""
        return sorted(uid for uid in self.imap().search(["UID", f"{last + 1}:*"]) if uid > last)

    def fetch(self, uids: Sequence[int]) -> dict[int, tuple[int, bytes, Any]]:
        """Each message's size, its bytes up to ``max_message_bytes`` (no more is read), and its arrival time."""
        answer = self.imap().fetch(uids, ["RFC822.SIZE", "INTERNALDATE",
                                          f"BODY.PEEK[]<0.{self.config.max_message_bytes}>"])
        return {uid: (int(data.get(b"RFC822.SIZE", 0)), bytes(data.get(b"BODY[]<0>") or b""),
                      data.get(b"INTERNALDATE")) for uid, data in answer.items()}

    def headers_of(self, uids: Sequence[int], names: str) -> dict[int, bytes]:
        answer = self.imap().fetch(uids, [f"BODY.PEEK[HEADER.FIELDS ({names})]"]) if uids else {}
        return {uid: next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), b"")
                for uid, data in answer.items()}

    def search(self, folder: str, criteria: list[str]) -> list[int]:
        self.select(folder)
        wide = any(not c.isascii() for c in criteria)
        return sorted(self.imap().search(criteria, charset="UTF-8" if wide else None))

    def append(self, folder: str, message: bytes) -> None:
        self._imap_call(f"APPEND to {folder!r}", lambda: self.imap().append(folder, message, flags=(b"\\Seen",)))

    # -- SMTP -------------------------------------------------------------------
    def smtp(self) -> smtplib.SMTP:
        if self._smtp is None:
            scheme, host, port = self.config.smtp
            context, timeout = ssl.create_default_context(), self.config.timeout_s
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context) if scheme == "smtps" \
                else smtplib.SMTP(host, port, timeout=timeout)
            if EmailConfig.needs_starttls(scheme, host):
                smtp.starttls(context=context)
            smtp.login(self.config.username, self.config.password.get_secret_value())
            self._smtp = smtp
        return self._smtp

    def send(self, message: EmailMessage | None, also_to: Sequence[str] = ()) -> None:
        """Hand the message to the SMTP server (None: only log in), for its header recipients and ``also_to``
        (envelope only); 4xx answers are retried with back-off, doubling from ``smtp_retry_wait_s`` since SMTP
        names no wait, and 5xx are final."""
        first = self.config.smtp_retry_wait_s
        retrying = Retrying(stop=stop_after_attempt(self.config.smtp_retries), reraise=True,
                            wait=wait_exponential(multiplier=first, max=8 * first) + wait_random(0, first / 4),
                            retry=retry_if_exception(_transient), before_sleep=lambda _: self._drop_smtp())
        try:
            retrying(lambda: self.smtp().send_message(message, to_addrs=_recipients(message, also_to))
                     if message is not None else self.smtp().noop())
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError("email", f"SMTP refused the login of {self.config.username!r}: {exc.smtp_code} "
                            f"{_text(exc.smtp_error)}", code="smtp-auth") from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = "; ".join(f"{rcpt}: {code} {_text(why)}" for rcpt, (code, why) in exc.recipients.items())
            raise MailError("email", f"SMTP refused the recipient ({refused})") from None
        except smtplib.SMTPResponseException as exc:
            raise MailError("email", f"SMTP answered {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            self._drop_smtp()
            raise MailError("email", f"SMTP {self.config.smtp[1]}: {type(exc).__name__}: {_text(exc)}") from None

    def _drop_smtp(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()
