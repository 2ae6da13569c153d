"""Jira's webhook deliveries (Cloud's admin webhooks with a secret, Data Center 10+): ``X-Hub-Signature``.

The header is ``sha256=<hex HMAC of the body>``.  Cloud names the delivery in
``X-Atlassian-Webhook-Identifier`` (the same on its retries); without it the body's digest is the id.
Issue and comment events wake the pipelines that read the project's changes back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from continuum.kit.webhooks import (
    Accepted,
    Rejected,
    Verdict,
    WebhookRequest,
    body_id,
    hmac_hex,
    signed_json_post,
    subjects_of,
)


class JiraWebhook:
    secret_fields = ("webhook_secret",)

    def verify(self, request: WebhookRequest, secrets: Mapping[str, str], now: datetime) -> Verdict:
        payload = signed_json_post(request, secrets["webhook_secret"], "Jira", "X-Hub-Signature")
        if isinstance(payload, Rejected):
            return payload
        event = str(payload.get("webhookEvent") or "unknown")
        subjects = subjects_of(payload, {"issue": "id", "comment": "id"})
        delivery = request.header("x-atlassian-webhook-identifier") or body_id(request.body)
        return Accepted(delivery, event, subjects, wake=bool(subjects))


    def sign(self, body: bytes, secrets: Mapping[str, str], now: datetime, delivery_id: str,
             event: str) -> dict[str, str]:
        """The headers Jira Cloud sends with ``body`` (the event is in the body's ``webhookEvent``)."""
        return {"X-Hub-Signature": "sha256=" + hmac_hex(secrets["webhook_secret"], body),
                "X-Atlassian-Webhook-Identifier": delivery_id, "Content-Type": "application/json"}


VERIFIER = JiraWebhook()
