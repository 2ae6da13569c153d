"""Slack's Events API deliveries: ``v0`` signing over ``v0:<timestamp>:<body>``, five minutes at most old.

``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` (``v0=<hex HMAC-SHA256>`` with the app's signing
secret), as Slack's own ``SignatureVerifier`` checks them.  ``url_verification`` (sent when the request
URL is set) is answered with its challenge; an ``event_callback`` is kept under its ``event_id``, which
Slack's retries (``X-Slack-Retry-Num``) keep."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from continuum.kit.webhooks import (
    Accepted,
    Rejected,
    Reply,
    Verdict,
    WebhookRequest,
    fresh,
    hmac_hex,
    json_object,
    same,
)

WINDOW = timedelta(minutes=5)


class SlackWebhook:
    secret_fields = ("signing_secret",)

    def verify(self, request: WebhookRequest, secrets: Mapping[str, str], now: datetime) -> Verdict:
        if request.method != "POST":
            return Rejected(405, "Slack delivers with POST")
        stamp = (request.header("x-slack-request-timestamp") or "").strip()
        if not stamp.isdigit():
            return Rejected(401, "X-Slack-Request-Timestamp is missing or not a number")
        if not fresh(datetime.fromtimestamp(int(stamp), UTC), now, WINDOW):
            return Rejected(401, "X-Slack-Request-Timestamp is outside the 5-minute window (stale or replayed)")
        expected = "v0=" + hmac_hex(secrets["signing_secret"], b"v0:" + stamp.encode() + b":" + request.body)
        if not same(expected, request.header("x-slack-signature")):
            return Rejected(401, "X-Slack-Signature is missing or does not match")
        payload = json_object(request.body)
        if payload is None:
            return Rejected(400, "the body is not a JSON object")
        if payload.get("type") == "url_verification":
            return Reply(json.dumps({"challenge": str(payload.get("challenge") or "")}).encode())
        found = payload.get("event")
        event: dict[str, Any] = found if isinstance(found, dict) else {}
        delivery = payload.get("event_id")
        if payload.get("type") != "event_callback" or not delivery:
            return Rejected(400, f"not an event_callback with an event_id (type {str(payload.get('type'))[:40]!r})")
        return _accepted(str(delivery), event)

    def sign(self, body: bytes, secrets: Mapping[str, str], now: datetime, delivery_id: str,
             event: str) -> dict[str, str]:
        """The headers Slack sends with ``body`` at ``now`` (the event id is in the body)."""
        stamp = str(int(now.timestamp()))
        signature = "v0=" + hmac_hex(secrets["signing_secret"], b"v0:" + stamp.encode() + b":" + body)
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
                "Content-Type": "application/json"}


def _accepted(delivery: str, event: dict[str, Any]) -> Accepted:
    """Which message it is about: an edit names the edited message, a deletion the deleted one, a reaction
    the message it was added to.

    A bot's message (the hub's own notices among them) is kept but wakes nothing."""
    subtype = str(event.get("subtype") or "")
    kind = str(event.get("type") or "unknown") + (f".{subtype}" if subtype else "")
    edited = event.get("message") if isinstance(event.get("message"), dict) else {}
    item = event.get("item") if isinstance(event.get("item"), dict) else {}  # reaction_added: the message
    ts = event.get("deleted_ts") or (edited or {}).get("ts") or (item or {}).get("ts") or event.get("ts")
    channel = event.get("channel") or (item or {}).get("channel")
    subjects = (f"message:{channel}:{ts}",) if channel and ts else ()
    by_bot = bool(event.get("bot_id") or (edited or {}).get("bot_id")) or subtype == "bot_message"
    return Accepted(delivery, kind, subjects, wake=not by_bot)


VERIFIER = SlackWebhook()
