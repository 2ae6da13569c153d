"""Discourse's webhook deliveries: ``X-Discourse-Event-Signature`` (``sha256=`` HMAC of the body).

``X-Discourse-Event-Id`` is the id (a redelivery from the admin page keeps it); Discourse sends no
timestamp.  Post and topic events wake the pipelines; ``ping`` and the rest are kept, not run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from continuum.kit.webhooks import (
    Accepted,
    Rejected,
    Verdict,
    WebhookRequest,
    hmac_hex,
    signed_json_post,
    subjects_of,
)

WAKING_TYPES = frozenset({"post", "topic"})


class DiscourseWebhook:
    secret_fields = ("webhook_secret",)

    def verify(self, request: WebhookRequest, secrets: Mapping[str, str], now: datetime) -> Verdict:
        payload = signed_json_post(request, secrets["webhook_secret"], "Discourse", "X-Discourse-Event-Signature")
        if isinstance(payload, Rejected):
            return payload
        delivery = request.header("x-discourse-event-id")
        if not delivery:
            return Rejected(400, "no X-Discourse-Event-Id header")
        kind = request.header("x-discourse-event-type") or next(iter(payload), "unknown")
        event = request.header("x-discourse-event") or kind
        subjects = subjects_of(payload, {"post": "id", "topic": "id"})
        # The instance's id of the event: with the instance's URL, unique across the sites one hub listens to.
        return Accepted(f"{request.header('x-discourse-instance') or ''}#{delivery}", event, subjects,
                        wake=kind in WAKING_TYPES)


    def sign(self, body: bytes, secrets: Mapping[str, str], now: datetime, delivery_id: str,
             event: str) -> dict[str, str]:
        """The headers Discourse sends with ``body`` (``event`` as ``type:name``, e.g. ``post:post_created``)."""
        kind, _, name = event.partition(":")
        return {"X-Discourse-Event-Signature": "sha256=" + hmac_hex(secrets["webhook_secret"], body),
                "X-Discourse-Event-Id": delivery_id, "X-Discourse-Event-Type": kind,
                "X-Discourse-Event": name or kind, "Content-Type": "application/json"}


VERIFIER = DiscourseWebhook()
