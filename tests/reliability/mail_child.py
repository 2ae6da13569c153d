"""One run of the e-mail answers in the outbox, as its own process: ``python -m tests.reliability.mail_child
DB_URL IMAP_URL SMTP_URL COPY_TO_SELF``.  tests/reliability/test_mail_crash.py kills it with SIGKILL from the
SMTP server, the moment the server has accepted an answer and before the process hears so."""

from __future__ import annotations

import sys

from connectors.email.plugin import PLUGIN, SIM_PASSWORD, SIM_USER
from continuum.config import HubConfig
from continuum.connector import ConnectionInfo
from continuum.engine.apply import apply_effects
from continuum.engine.context import SyncContext
from continuum.store.db import make_engine

HUB = HubConfig.model_validate({"systems": {"email": {"connector": "email", "connection": "none"}},
                                "pipelines": {"p": {"sources": []}}})


def main(db_url: str, imap_url: str, smtp_url: str, copy_to_self: str) -> int:
    connection = ConnectionInfo("email_crash", imap_url, SIM_USER, SIM_PASSWORD, {"smtp_url": smtp_url})
    connector = PLUGIN.create(connection, {"copy_to_self": copy_to_self == "1", "smtp_retry_wait_s": 0.1})
    db = make_engine(db_url)
    stats = apply_effects(SyncContext(db=db, hub=HUB, pipeline_name="p", connectors={"email": connector}), "email")
    print(dict(stats.counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
