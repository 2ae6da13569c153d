"""Box's webhook deliveries (V2): two signatures, either of which may prove it, ten minutes at most old.

``BOX-SIGNATURE-PRIMARY`` and ``BOX-SIGNATURE-SECONDARY`` are base64(HMAC-SHA256) of the body followed by
``BOX-DELIVERY-TIMESTAMP``, with the app's primary and secondary keys: two, so a key can be rotated without
a gap.  ``BOX-DELIVERY-ID`` names the delivery."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from continuum.kit.webhooks import Accepted, Rejected, Verdict, WebhookRequest, fresh, hmac_b64, json_object, same

WINDOW = timedelta(minutes=10)


class BoxWebhook:
    secret_fields = ("primary_signature_key", "secondary_signature_key")

    def verify(self, request: WebhookRequest, secrets: Mapping[str, str], now: datetime) -> Verdict:
        if request.method != "POST":
            return Rejected(405, "Box delivers with POST")
        stamp = (request.header("box-delivery-timestamp") or "").strip()
        try:
            sent = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return Rejected(401, "BOX-DELIVERY-TIMESTAMP is missing or not a date-time")
        if sent.tzinfo is None or not fresh(sent, now, WINDOW):
            return Rejected(401, "BOX-DELIVERY-TIMESTAMP is outside the 10-minute window (stale or replayed)")
        if (request.header("box-signature-algorithm") or "HmacSHA256") != "HmacSHA256" \
                or (request.header("box-signature-version") or "1") != "1":
            return Rejected(401, "an unknown BOX-SIGNATURE-ALGORITHM or BOX-SIGNATURE-VERSION")
        signed = request.body + stamp.encode()
        primary = same(hmac_b64(secrets["primary_signature_key"], signed), request.header("box-signature-primary"))
        secondary = same(hmac_b64(secrets["secondary_signature_key"], signed),
                         request.header("box-signature-secondary"))
        if not (primary or secondary):
            return Rejected(401, "neither BOX-SIGNATURE-PRIMARY nor BOX-SIGNATURE-SECONDARY matches")
        delivery = request.header("box-delivery-id")
        payload = json_object(request.body)
        if not delivery or payload is None:
            return Rejected(400, "no BOX-DELIVERY-ID header, or the body is not a JSON object")
        found = payload.get("source")
        source: dict[str, Any] = found if isinstance(found, dict) else {}
        subjects = (f"{source.get('type')}:{source['id']}",) if source.get("id") else ()
        return Accepted(delivery, str(payload.get("trigger") or "unknown"), subjects)


    def sign(self, body: bytes, secrets: Mapping[str, str], now: datetime, delivery_id: str,
             event: str) -> dict[str, str]:
        """The headers Box sends with ``body`` at ``now``, signed with both keys."""
        stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        signed = body + stamp.encode()
        return {"BOX-DELIVERY-ID": delivery_id, "BOX-DELIVERY-TIMESTAMP": stamp,
                "BOX-SIGNATURE-PRIMARY": hmac_b64(secrets["primary_signature_key"], signed),
                "BOX-SIGNATURE-SECONDARY": hmac_b64(secrets["secondary_signature_key"], signed),
                "BOX-SIGNATURE-VERSION": "1", "BOX-SIGNATURE-ALGORITHM": "HmacSHA256",
                "Content-Type": "application/json"}


VERIFIER = BoxWebhook()
