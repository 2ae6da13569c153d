"""A real receiver on a loopback port (uvicorn in a thread), the systems' secrets, and signed deliveries."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import uvicorn
from sqlalchemy import Engine, select

from continuum.config import HubConfig
from continuum.kit.registry import plugin
from continuum.receiver import ReceiverSettings, build_app
from continuum.store.tables import inbox

# The Connection extras of each pushing system: what the vendor signs with (test values only).
SECRETS: dict[str, dict[str, str]] = {
    "github": {"webhook_secret": "gh-hook-secret-1f3a"},
    "discourse": {"webhook_secret": "dc-hook-secret-77b2"},
    "jira": {"webhook_secret": "jira-hook-secret-09c1"},
    "slack": {"signing_secret": "slack-signing-secret-5d0e"},
    "x": {"consumer_secret": "x-consumer-secret-a8f4"},
    "facebook": {"app_secret": "fb-app-secret-3c9d", "verify_token": "fb-verify-token-6e21"},
    "box": {"primary_signature_key": "box-primary-key-41aa", "secondary_signature_key": "box-secondary-key-92bb"},
}
# Systems whose deliveries carry a time the vendor signs: a stale one is refused.
WINDOWED = ("slack", "box")


def connection_env(extra_hosts: dict[str, str] | None = None) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` for the pushing systems of the shipped config, holding only their webhook secrets."""
    hosts = extra_hosts or {}
    return {f"AIRFLOW_CONN_CONTINUUM_{name.upper()}": json.dumps({
        "conn_type": name, "host": hosts.get(name, f"https://{name}.example"), "login": "hub",
        "password": "unused", "extra": secrets}) for name, secrets in SECRETS.items()}


def body_for(system: str, nonce: str, size: int = 0) -> bytes:
    """A plausible delivery of ``system`` (unique by ``nonce``), padded to at least ``size`` bytes."""
    payloads: dict[str, Any] = {
        "github": {"action": "opened", "issue": {"number": 7, "title": nonce}},
        "discourse": {"post": {"id": 5, "topic_id": 3, "raw": nonce}},
        "jira": {"webhookEvent": "jira:issue_updated", "issue": {"id": "10001", "key": "PROD-1"}, "n": nonce},
        "slack": {"type": "event_callback", "event_id": f"Ev{nonce}",
                  "event": {"type": "message", "channel": "C1", "ts": "1700000000.000100", "text": nonce}},
        "x": {"for_user_id": "1", "tweet_create_events": [{"id_str": "99", "text": nonce}]},
        "facebook": {"object": "page", "entry": [{"id": "1", "time": 1, "changes": [
            {"field": "feed", "value": {"post_id": "1_2", "item": "post", "verb": "add", "message": nonce}}]}]},
        "box": {"type": "webhook_event", "id": nonce, "trigger": "FILE.UPLOADED",
                "source": {"id": "12", "type": "file"}},
    }
    payload = payloads[system]
    if size:
        payload["padding"] = "x" * size
    return json.dumps(payload).encode()


EVENTS = {"github": "issues", "discourse": "post:post_created", "jira": "", "slack": "", "x": "", "facebook": "",
          "box": ""}


def signed(system: str, body: bytes, *, at: datetime | None = None, delivery: str | None = None,
           secrets: dict[str, str] | None = None) -> dict[str, str]:
    """The headers ``system`` would send with ``body`` (with other ``secrets``: a forgery)."""
    verifier: Any = plugin(system).webhook_verifier()
    return dict(verifier.sign(body, secrets or SECRETS[system], at or datetime.now(UTC),
                              delivery or uuid.uuid4().hex, EVENTS[system]))


def forged_secrets(system: str) -> dict[str, str]:
    return {key: value + "-forged" for key, value in SECRETS[system].items()}


@dataclass
class Receiver:
    url: str
    db: Engine

    def hook(self, system: str) -> str:
        return f"{self.url}/hooks/{system}"

    def deliveries(self, system: str | None = None) -> list[dict[str, Any]]:
        query = select(inbox).order_by(inbox.c.id)
        if system is not None:
            query = query.where(inbox.c.system == system)
        with self.db.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]


@contextmanager
def running_receiver(hub: HubConfig, db: Engine, settings: ReceiverSettings | None = None) -> Iterator[Receiver]:
    server = uvicorn.Server(uvicorn.Config(build_app(hub, db, settings), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, name="receiver", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the receiver did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Receiver(f"http://127.0.0.1:{port}", db)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
