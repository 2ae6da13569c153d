"""Kill -9 the hub the moment the SMTP server has accepted its answer, before the hub hears "queued" (issue #13).

The servers are real (pymap, aiosmtpd); the hub is its own process (tests/reliability/mail_child.py) applying
the outbox's e-mail answers; the SMTP server kills it from outside right after taking each answer on.  The
answer went out, the outbox row still says "sending": the next run must find the answer's copy by its key and
never send it again.  ``CONTINUUM_MAIL_CRASHES`` sets the number of crashes (``make soak``: 20).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from connectors.email.markup import KEY_HEADER
from connectors.email.simservers import LocalMailServers
from continuum.store import outbox
from continuum.store.tables import outbox as outbox_table

pytest.importorskip("pymap", reason="the e-mail crash test needs the pymap IMAP server (pip install pymap)")
pytest.importorskip("aiosmtpd", reason="the e-mail crash test needs the aiosmtpd SMTP server (pip install aiosmtpd)")

ROOT = Path(__file__).resolve().parents[2]
CRASHES = int(os.environ.get("CONTINUUM_MAIL_CRASHES", "5"))
FIRST = "CAF3k2x9-first@mail.example.com"


def plan_answers(db: Engine, count: int) -> list[str]:
    keys = [f"ck-crash-answer-{n}" for n in range(count)]
    with db.begin() as conn:
        for n, key in enumerate(keys):
            outbox.add_effect(conn, key=key, pipeline="p", system="email", action="reply", object_type="message",
                              record_type="interaction", record_id=1000 + n, target_id=FIRST,
                              fields={"to": f"Customer {n} <customer{n}@example.com>", "subject": "CSV export",
                                      "body": f"Answer number {n}: export one month at a time."},
                              context={"in_reply_to": FIRST, "purpose": "reply"})
    return keys


def run_child(db: Engine, servers: LocalMailServers, copy_to_self: bool, tmp: Path) -> int:
    with (tmp / "child.log").open("a") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.mail_child", str(db.url.render_as_string(hide_password=False)),
             servers.base_url, servers.smtp_url, "1" if copy_to_self else "0"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        servers.on_accept = lambda data: os.kill(child.pid, signal.SIGKILL)
        try:
            return child.wait(timeout=120)
        finally:
            servers.on_accept = None


def sent_keys(servers: LocalMailServers) -> Counter[str]:
    parse = BytesParser(policy=policy.default).parsebytes
    return Counter(str(parse(r.data)[KEY_HEADER]).split(";")[0].strip() for r in servers.relayed)


def states(db: Engine) -> Counter[str]:
    with db.connect() as conn:
        return Counter(conn.execute(select(outbox_table.c.state).where(outbox_table.c.system == "email")).scalars())


def crash_on_every_answer(db: Engine, servers: LocalMailServers, keys: list[str], copy_to_self: bool,
                          tmp: Path) -> list[int]:
    """Runs until every answer is settled; each run dies as its next answer is accepted.  The exit codes."""
    codes: list[int] = []
    while states(db).get("done", 0) < len(keys) and len(codes) <= 2 * len(keys) + 2:
        codes.append(run_child(db, servers, copy_to_self, tmp))
    return codes


def test_answers_accepted_as_the_hub_dies_are_never_sent_twice(sqlite_db: Engine, tmp_path: Path) -> None:
    with LocalMailServers() as servers:
        keys = plan_answers(sqlite_db, CRASHES)
        codes = crash_on_every_answer(sqlite_db, servers, keys, copy_to_self=True, tmp=tmp_path)
        killed = sum(1 for c in codes if c == -signal.SIGKILL)
        assert killed == CRASHES, (codes, (tmp_path / "child.log").read_text()[-2000:])
        sent = sent_keys(servers)
        assert sorted(sent) == sorted(keys) and set(sent.values()) == {1}, f"sent more than once: {sent}"
        assert states(sqlite_db) == Counter({"done": CRASHES})
        # Each answer's copy to the mailbox itself is what the retries found; Sent has only those the hub
        # lived to file (none: every run died before its append).
        copies = [m for m in servers.messages("INBOX").values() if KEY_HEADER.encode() in m]
        assert len(copies) == CRASHES and not servers.messages("Sent")


def test_without_its_copy_to_itself_the_hub_cannot_tell_and_sends_again(sqlite_db: Engine, tmp_path: Path) -> None:
    """The control: the gap the copy closes is real (Sent is written only after sending)."""
    with LocalMailServers() as servers:
        (key,) = plan_answers(sqlite_db, 1)
        codes = crash_on_every_answer(sqlite_db, servers, [key], copy_to_self=False, tmp=tmp_path)
        assert codes[0] == -signal.SIGKILL
        assert sent_keys(servers)[key] >= 2
