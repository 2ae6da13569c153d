"""Real mail servers on loopback for the tests and the demo: pymap (IMAP4rev1, MIT) as a child process and
aiosmtpd (Apache-2.0) in a thread, the SMTP server delivering into the IMAP mailbox as an MTA would.

Not a simulator of either protocol: the connector talks to real server implementations.  What this module
adds is what a test needs around them: the hub's mailbox and folders, mail "from customers", what SMTP
relayed to the outside, injected "try again later" answers, and a renumbered folder (a new UIDVALIDITY).
"""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from connectors.email.plugin import SIM_PASSWORD, SIM_USER

FOLDERS = ("Sent", "Support")
_RUNNING: dict[str, str] = {}  # IMAP base URL -> SMTP URL of the servers running in this process
_IMAP_COMMAND = re.compile(r"-->\| [A-Z]{4}\d+ [A-Z]")  # a tagged client command in pymap's debug log


class _QuietLegacy(logging.Filter):
    """aiosmtpd warns about its own use of ``Session.login_data`` on every login (fixed in its 2.0)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_QuietLegacy())
logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO


def smtp_url_for(base_url: str) -> str:
    if base_url not in _RUNNING:
        raise LookupError(f"no local mail servers answer at {base_url}")
    return _RUNNING[base_url]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Relayed:
    """A message SMTP accepted for a recipient outside the hub's domain (what would leave the machine)."""

    mail_from: str
    rcpt_to: tuple[str, ...]
    data: bytes
    at: float


class _Handler:
    """aiosmtpd's hooks: local recipients are delivered into the IMAP mailbox, others relayed (kept here)
    only for an authenticated session, as a real MTA refuses to be an open relay."""

    def __init__(self, servers: LocalMailServers) -> None:
        self.servers = servers

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self.servers.smtp_sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address.lower() != self.servers.user and not session.authenticated:
            return "550 5.7.1 Relaying denied: authenticate first"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.servers.refusals:
            self.servers.refused_at.append(time.monotonic())
            return self.servers.refusals.pop(0)
        data = bytes(envelope.original_content or envelope.content)
        outside = tuple(r for r in envelope.rcpt_tos if r.lower() != self.servers.user)
        if len(outside) < len(envelope.rcpt_tos):
            self.servers.deliver(data, self.servers.deliver_to)
        if outside:
            self.servers.relayed.append(Relayed(envelope.mail_from, outside, data, time.monotonic()))
        if self.servers.on_accept is not None:  # the message is queued; the client has not heard so yet
            self.servers.on_accept(data)
        return "250 2.0.0 OK: queued"


class LocalMailServers:
    """One hub mailbox (``support@hub.example``) on real IMAP and SMTP servers bound to loopback."""

    @property
    def accounts(self) -> tuple[dict[str, Any], ...]:
        """Who uses the servers (``continuum simulate`` prints them): the hub, and any customer writing in."""
        host, _, port = self.smtp_url.removeprefix("smtp://").partition(":")
        example = (f"python3 -c \"import smtplib; smtplib.SMTP('{host}', {port or 25}).sendmail('ann@example.com', "
                   f"['{self.user}'], b'From: Ann Lee <ann@example.com>\\r\\nTo: {self.user}\\r\\n"
                   f"Subject: Export crashes\\r\\n\\r\\nIt crashes on big files.')\"")
        return ({"role": "hub", "basic": [self.user, self.password],
                 "does": "the support mailbox: IMAP and SMTP log in as it (its connection)"},
                {"role": "customer", "how": f"SMTP at {self.smtp_url}, no login",
                 "does": f"mail to {self.user} from any address is a customer writing in; e.g. {example}"})

    def __init__(self, user: str = SIM_USER, password: str = SIM_PASSWORD, deliver_to: str = "INBOX") -> None:
        self.user, self.password, self.deliver_to = user.lower(), password, deliver_to
        self.lock = threading.Lock()
        self.relayed: list[Relayed] = []
        self.refusals: list[str] = []  # SMTP answers to give the next DATA commands instead of accepting
        self.refused_at: list[float] = []
        self.smtp_sessions = 0
        # Called with each message the SMTP server has taken on, before it answers "queued" (crash tests kill
        # the sender there: the answer went out, and the sender never learns it).
        self.on_accept: Callable[[bytes], None] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="continuum-mail-")
        self._log = Path(self._dir.name) / "imap.log"
        self._imap: subprocess.Popen[bytes] | None = None
        self._admin: IMAPClient | None = None
        self._smtp: Any = None
        self.base_url = self.smtp_url = ""

    # -- life cycle -------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        from aiosmtpd.controller import Controller  # test dependencies: never imported by production code
        from aiosmtpd.smtp import AuthResult

        imap_port = port or free_port(host)
        with self._log.open("wb") as log:
            self._imap = subprocess.Popen(
                [sys.executable, "-c", "from pymap.main import main; main()", "--debug", "--host", host,
                 "--port", str(imap_port), "--no-tls", "dict", "--demo-user", self.user,
                 "--demo-password", self.password], stdout=log, stderr=subprocess.STDOUT)
        self.host, self.imap_port = host, imap_port
        self._wait_for_imap()
        with self.admin() as admin:
            for folder in FOLDERS:
                if not admin.folder_exists(folder):
                    admin.create_folder(folder)

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
            login, password = getattr(auth_data, "login", b""), getattr(auth_data, "password", b"")
            ok = (login.decode().lower(), password.decode()) == (self.user, self.password)
            return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

        smtp_port = free_port(host)
        self._smtp = Controller(_Handler(self), hostname=host, port=smtp_port, authenticator=authenticate,
                                auth_require_tls=False, auth_required=False)
        self._smtp.start()
        self.base_url, self.smtp_url = f"imap://{host}:{imap_port}", f"smtp://{host}:{smtp_port}"
        _RUNNING[self.base_url] = self.smtp_url
        return self.base_url

    def _wait_for_imap(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._imap is not None and self._imap.poll() is not None:
                raise RuntimeError(f"pymap exited with {self._imap.returncode}: {self._log.read_text()[-2000:]}")
            try:
                socket.create_connection((self.host, self.imap_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"pymap did not listen on {self.host}:{self.imap_port} within {timeout_s:.0f} s")

    def stop(self) -> None:
        _RUNNING.pop(self.base_url, None)
        if self._admin is not None:
            try:
                self._admin.logout()
            except (OSError, IMAPClientError):
                pass
            self._admin = None
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        if self._imap is not None:
            self._imap.terminate()
            try:
                self._imap.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._imap.kill()
            self._imap = None
        self._dir.cleanup()

    def __enter__(self) -> LocalMailServers:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the mailbox --------------------------------------------------------------
    @contextmanager
    def admin(self) -> Iterator[IMAPClient]:
        """The servers' own IMAP session (one login: pymap hashes passwords, a login costs a third of a second),
        shared by the test and the SMTP thread one at a time."""
        with self.lock:
            if self._admin is None:
                self._admin = IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=30)
                # APPEND waits for the server's "+" before its literal: without this, Nagle's algorithm and
                # delayed ACKs make that wait 40 ms a message.
                self._admin.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._admin.login(self.user, self.password)
            yield self._admin

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        """Put a message in a folder, as local delivery does; its UID."""
        return self.deliver_many([raw], folder)[0]

    def deliver_many(self, messages: list[bytes], folder: str = "INBOX") -> list[int]:
        """Several messages in one MULTIAPPEND (RFC 3502); their UIDs."""
        with self.admin() as admin:
            _, answer = admin.multiappend(folder, [m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for m in messages])
        found = re.search(rb"APPENDUID \d+ (\d+)(?::(\d+))?", answer[0] if answer else b"")
        first, last = (int(found.group(1)), int(found.group(2) or found.group(1))) if found else (0, -1)
        return list(range(first, last + 1))

    def messages(self, folder: str) -> dict[int, bytes]:
        with self.admin() as admin:
            admin.select_folder(folder, readonly=True)
            uids = admin.search("ALL")
            return {uid: bytes(d[b"BODY[]"]) for uid, d in admin.fetch(uids, ["BODY.PEEK[]"]).items()} if uids else {}

    def uidvalidity(self, folder: str) -> int:
        with self.admin() as admin:
            return int(admin.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def renumber(self, folder: str) -> None:
        """Rebuild a folder (what a restored backup or a migrated server does): new UIDVALIDITY, new UIDs."""
        kept = list(self.messages(folder).values())
        with self.admin() as admin:
            admin.select_folder("INBOX", readonly=True)  # pymap ends the session that deletes its selected folder
            admin.delete_folder(folder)
            admin.create_folder(folder)
        if kept:
            self.deliver_many(kept, folder)

    # -- faults -----------------------------------------------------------------
    def refuse_next(self, answer: str = "451 4.7.1 Try again later", times: int = 1) -> None:
        self.refusals.extend([answer] * times)

    def set_paging_faults(self, mode: str | None, rate: float = 0.5, folder: str = "Support") -> None:
        """IMAP's ways for a listing to repeat or shift: copies of messages come back under new UIDs (mail
        moved out and back), or the folder is renumbered under a new UIDVALIDITY.  Both stay, as on a server."""
        if mode == "repeat" and rate > 0:
            self.deliver_many(list(self.messages(folder).values())[::max(1, round(1 / rate))], folder)
        elif mode == "shift":
            self.renumber(folder)

    def effect_counts(self) -> dict[str, int]:
        commands = len(_IMAP_COMMAND.findall(self._log.read_text(errors="replace"))) if self._log.exists() else 0
        # Only effects besides "calls" (the demo counts everything else as something written): IMAP commands
        # and SMTP sessions are the calls; mail delivered for someone else is the hub's answers going out.
        return {"calls": commands + self.smtp_sessions, "replies": len(self.relayed)}

    def call_counts(self) -> dict[str, int]:
        """The calls by protocol (IMAP commands, SMTP sessions), for the figures."""
        commands = len(_IMAP_COMMAND.findall(self._log.read_text(errors="replace"))) if self._log.exists() else 0
        return {"imap_commands": commands, "smtp_sessions": self.smtp_sessions}
