"""Facebook's (Meta's) Webhooks for a Page: the verify-token challenge, and ``X-Hub-Signature-256``.

Subscribing sends a GET with ``hub.mode=subscribe``, ``hub.verify_token`` (the one set in the app's
dashboard) and ``hub.challenge``, which is echoed when the token matches.  Each delivery is signed
``sha256=<hex HMAC of the body>`` with the app secret.  Meta sends no delivery id or timestamp, and
retries the same bytes: the body's digest is the id."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from continuum.kit.webhooks import (
    Accepted,
    Rejected,
    Reply,
    Verdict,
    WebhookRequest,
    body_id,
    hmac_hex,
    json_object,
    prefixed_hex_matches,
    same,
)


class FacebookWebhook:
    secret_fields = ("app_secret", "verify_token")

    def verify(self, request: WebhookRequest, secrets: Mapping[str, str], now: datetime) -> Verdict:
        if request.method == "GET":
            if request.query.get("hub.mode") != "subscribe" or "hub.challenge" not in request.query:
                return Rejected(400, "a GET must be the subscription check (hub.mode=subscribe, hub.challenge)")
            if not same(secrets["verify_token"], request.query.get("hub.verify_token")):
                return Rejected(403, "hub.verify_token does not match")
            return Reply(request.query["hub.challenge"].encode(), content_type="text/plain")
        given = request.header("x-hub-signature-256")
        if not prefixed_hex_matches(secrets["app_secret"], request.body, given):
            return Rejected(401, "X-Hub-Signature-256 is missing or does not match the body")
        payload = json_object(request.body)
        if payload is None:
            return Rejected(400, "the body is not a JSON object")
        fields, subjects = set(), []
        for entry in payload.get("entry") or []:
            for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
                if not isinstance(change, dict):
                    continue
                fields.add(str(change.get("field")))
                found = change.get("value")
                value: dict[str, Any] = found if isinstance(found, dict) else {}
                node = value.get("comment_id") or value.get("post_id")
                if node:
                    subjects.append(f"post:{node}")
            if isinstance(entry, dict) and entry.get("messaging"):
                fields.add("messages")
        event = f"{payload.get('object') or 'unknown'}:{','.join(sorted(fields)) or '-'}"
        return Accepted(body_id(request.body), event, tuple(subjects), wake=bool(fields))


    def sign(self, body: bytes, secrets: Mapping[str, str], now: datetime, delivery_id: str,
             event: str) -> dict[str, str]:
        """The headers Meta sends with ``body`` (no id, no timestamp)."""
        return {"X-Hub-Signature-256": "sha256=" + hmac_hex(secrets["app_secret"], body),
                "Content-Type": "application/json"}


VERIFIER = FacebookWebhook()
