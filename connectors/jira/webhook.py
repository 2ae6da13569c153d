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
    json_object,
    prefixed_hex_matches,
)


class JiraWebhook:
    secret_fields = ("webhook_secret",)

    def verify(self, request: WebhookRequest, secrets: Mapping[str, str], now: datetime) -> Verdict:
        if request.method != "POST":
            return Rejected(405, "Jira delivers with POST")
        if not prefixed_hex_matches(secrets["webhook_secret"], request.body, request.header("x-hub-signature")):
            return Rejected(401, "X-Hub-Signature is missing or does not match the body")
        payload = json_object(request.body)
        if payload is None:
            return Rejected(400, "the body is not a JSON object")
        event = str(payload.get("webhookEvent") or "unknown")
        subjects = []
        issue = payload.get("issue")
        if isinstance(issue, dict) and issue.get("id"):
            subjects.append(f"issue:{issue['id']}")
        comment = payload.get("comment")
        if isinstance(comment, dict) and comment.get("id"):
            subjects.append(f"comment:{comment['id']}")
        delivery = request.header("x-atlassian-webhook-identifier") or body_id(request.body)
        return Accepted(delivery, event, tuple(subjects), wake=bool(subjects))


    def sign(self, body: bytes, secrets: Mapping[str, str], now: datetime, delivery_id: str,
             event: str) -> dict[str, str]:
        """The headers Jira Cloud sends with ``body`` (the event is in the body's ``webhookEvent``)."""
        return {"X-Hub-Signature": "sha256=" + hmac_hex(secrets["webhook_secret"], body),
                "X-Atlassian-Webhook-Identifier": delivery_id, "Content-Type": "application/json"}


VERIFIER = JiraWebhook()
