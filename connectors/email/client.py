"""The mailbox over IMAP (imapclient) and the way out over SMTP (smtplib), with errors a person can act on.

One IMAP connection serves a whole read or write call and one SMTP session a whole batch of answers:
mail servers count logins, and a login per message is what gets an account throttled.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any, ClassVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

from connectors.email.config import EmailConfig, split_url
from continuum.kit import ClientError

# What one UID FETCH asks for: the size first (an oversized message is not read whole), a capped body.
Fetched = dict[int, tuple[int, bytes, Any]]


class MailError(ClientError):
    auth_codes: ClassVar[frozenset[str]] = frozenset({"imap-login", "smtp-auth"})


def _transient(exc: BaseException) -> bool:
    """4xx is SMTP's "try again later" (throttling, greylisting); a refused or dropped connection may pass too."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min((c for c, _ in exc.recipients.values()), default=None)
    return (isinstance(code, int) and 400 <= code < 500) or isinstance(exc, ConnectionError | socket.timeout)


class EmailClient:
    def __init__(self, config: EmailConfig) -> None:
        self.config = config
        self._imap: IMAPClient | None = None
        self._smtp: smtplib.SMTP | None = None

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
                raise MailError("email", f"IMAP {host} refused the login of {self.config.username!r}: "
                                f"{_text(exc)}", code="imap-login") from None
            except (OSError, IMAPClientError) as exc:
                raise MailError("email", f"cannot reach IMAP {host}:{port}: {type(exc).__name__}: {_text(exc)}") \
                    from None
            self._imap = client
        return self._imap

    @contextmanager
    def session(self) -> Iterator[None]:
        """Both connections for one call, closed after it (a long-lived login would time out between runs)."""
        try:
            yield
        finally:
            self.close()

    def close(self) -> None:
        imap, smtp, self._imap, self._smtp = self._imap, self._smtp, None, None
        for quit_ in (imap.logout if imap else None, smtp.quit if smtp else None):
            try:
                if quit_:
                    quit_()
            except (OSError, IMAPClientError, smtplib.SMTPException):
                pass  # closing a connection the server already dropped

    def select(self, folder: str) -> int:
        """Open a folder read-only (reading marks nothing as seen); its UIDVALIDITY."""
        try:
            return int(self.imap().select_folder(folder, readonly=True)[b"UIDVALIDITY"])
        except IMAPClientError as exc:
            raise MailError("email", f"IMAP folder {folder!r}: {_text(exc)}") from None

    def uids_above(self, last: int) -> list[int]:
        """The selected folder's UIDs above ``last`` ("n:*" also names the highest UID, so it is filtered)."""
        return sorted(uid for uid in self.imap().search(["UID", f"{last + 1}:*"]) if uid > last)

    def fetch(self, uids: Sequence[int]) -> Fetched:
        """Each message's size, bytes (at most ``max_message_bytes``) and the server's arrival time."""
        part = f"BODY[]<0.{self.config.max_message_bytes}>"
        answer = self.imap().fetch(uids, ["RFC822.SIZE", "INTERNALDATE", part.replace("BODY[]", "BODY.PEEK[]")])
        return {uid: (int(data.get(b"RFC822.SIZE", 0)), bytes(data.get(b"BODY[]<0>") or data.get(b"BODY[]") or b""),
                      data.get(b"INTERNALDATE")) for uid, data in answer.items()}

    def headers_of(self, uids: Sequence[int], names: str) -> dict[int, bytes]:
        answer = self.imap().fetch(uids, [f"BODY.PEEK[HEADER.FIELDS ({names})]"])
        return {uid: next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), b"")
                for uid, data in answer.items()}

    def search(self, folder: str, criteria: list[Any]) -> list[int]:
        self.select(folder)
        wide = any(isinstance(c, str) and not c.isascii() for c in criteria)
        return sorted(self.imap().search(criteria, charset="UTF-8" if wide else None))

    def append(self, folder: str, message: bytes) -> None:
        try:
            self.imap().append(folder, message, flags=(b"\\Seen",))
        except IMAPClientError as exc:
            raise MailError("email", f"IMAP APPEND to {folder!r}: {_text(exc)}") from None

    # -- SMTP -------------------------------------------------------------------
    def send(self, message: EmailMessage) -> None:
        """Hand the message to the SMTP server; 4xx answers are retried with back-off, 5xx are final."""
        first = self.config.smtp_retry_wait_s  # SMTP has no Retry-After: the wait doubles from this, with jitter
        retrying = Retrying(stop=stop_after_attempt(self.config.smtp_retries), reraise=True,
                            wait=wait_exponential(multiplier=first, max=8 * first) + wait_random(0, first / 4),
                            retry=retry_if_exception(_transient), before_sleep=lambda _: self._drop_smtp())
        try:
            retrying(lambda: self.smtp().send_message(message))
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError("email", f"SMTP refused the login of {self.config.username!r}: {exc.smtp_code} "
                            f"{_text(exc.smtp_error)}", code="smtp-auth") from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = "; ".join(f"{rcpt}: {code} {_text(why)}" for rcpt, (code, why) in exc.recipients.items())
            raise MailError("email", f"SMTP refused the recipient ({refused})") from None
        except smtplib.SMTPResponseException as exc:
            raise MailError("email", f"SMTP answered {exc.smtp_code} {_text(exc.smtp_error)}",
                            status=exc.smtp_code) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._drop_smtp()
            raise MailError("email", f"SMTP {type(exc).__name__}: {_text(exc)}") from None

    def smtp(self) -> smtplib.SMTP:
        if self._smtp is None:
            scheme, host, port = self.config.smtp
            timeout = self.config.timeout_s
            if scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
                if EmailConfig.needs_starttls(scheme, host):
                    smtp.starttls(context=ssl.create_default_context())
            smtp.login(self.config.username, self.config.password.get_secret_value())
            self._smtp = smtp
        return self._smtp

    def send_noop(self) -> None:
        """Log in to SMTP and ask nothing: what ``check`` needs to prove the credentials."""
        try:
            self.smtp().noop()
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError("email", f"SMTP refused the login of {self.config.username!r}: {exc.smtp_code} "
                            f"{_text(exc.smtp_error)}", code="smtp-auth") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError("email", f"cannot use SMTP {self.config.smtp[1]}: {type(exc).__name__}: {_text(exc)}") \
                from None

    def _drop_smtp(self) -> None:
        smtp, self._smtp = self._smtp, None
        try:
            if smtp:
                smtp.close()
        except OSError:
            pass


def _text(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text.strip()[:300]
