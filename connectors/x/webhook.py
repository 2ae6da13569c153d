"""X's Account Activity webhooks: the CRC challenge, and ``x-twitter-webhooks-signature`` on each delivery.

Both are ``sha256=`` + base64(HMAC-SHA256) with the app's consumer secret: of the ``crc_token`` for the
challenge (a GET, answered ``{"response_token": ...}``), of the body for a delivery.  X sends no delivery
id or timestamp, so the body's digest is the id: the same delivery again is a replay."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from continuum.kit.webhooks import (
    Accepted,
    Rejected,
    Reply,
    Verdict,
    WebhookRequest,
    body_id,
    hmac_b64,
    json_object,
    same,
)


class XWebhook:
    secret_fields = ("consumer_secret",)

    def verify(self, request: WebhookRequest, secrets: Mapping[str, str], now: datetime) -> Verdict:
        secret = secrets["consumer_secret"]
        if request.method == "GET":
            token = request.query.get("crc_token")
            if not token:
                return Rejected(400, "a GET must carry crc_token (X's challenge-response check)")
            return Reply(json.dumps({"response_token": "sha256=" + hmac_b64(secret, token.encode())}).encode())
        if not same("sha256=" + hmac_b64(secret, request.body), request.header("x-twitter-webhooks-signature")):
            return Rejected(401, "x-twitter-webhooks-signature is missing or does not match the body")
        payload = json_object(request.body)
        if payload is None:
            return Rejected(400, "the body is not a JSON object")
        kinds = [key for key, value in payload.items() if key.endswith("_events") and isinstance(value, list)]
        subjects = []
        for kind in kinds:
            for event in payload[kind]:
                if isinstance(event, dict) and (event.get("id_str") or event.get("id")):
                    subjects.append(f"{kind.removesuffix('_events')}:{event.get('id_str') or event.get('id')}")
        return Accepted(body_id(request.body), ",".join(kinds) or "unknown", tuple(subjects), wake=bool(kinds))


    def sign(self, body: bytes, secrets: Mapping[str, str], now: datetime, delivery_id: str,
             event: str) -> dict[str, str]:
        """The headers X sends with ``body`` (no id, no timestamp)."""
        return {"x-twitter-webhooks-signature": "sha256=" + hmac_b64(secrets["consumer_secret"], body),
                "Content-Type": "application/json"}


VERIFIER = XWebhook()
