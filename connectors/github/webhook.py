"""GitHub's webhook deliveries: ``X-Hub-Signature-256`` (HMAC-SHA256 of the body), ``X-GitHub-Delivery`` as the id.

GitHub sends no timestamp, so a replay is caught by its delivery id alone (a redelivery from GitHub's
settings page keeps the id).  ``issues`` and ``issue_comment`` wake the pipelines; ``ping`` (sent when the
webhook is made) and other events are kept, not run."""

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

WAKING_EVENTS = frozenset({"issues", "issue_comment"})


class GithubWebhook:
    secret_fields = ("webhook_secret",)

    def verify(self, request: WebhookRequest, secrets: Mapping[str, str], now: datetime) -> Verdict:
        payload = signed_json_post(request, secrets["webhook_secret"], "GitHub", "X-Hub-Signature-256")
        if isinstance(payload, Rejected):
            return payload
        delivery = request.header("x-github-delivery")
        if not delivery:
            return Rejected(400, "no X-GitHub-Delivery header")
        event = request.header("x-github-event") or "unknown"
        subjects = subjects_of(payload, {"issue": "number", "comment": "id"})
        return Accepted(delivery, event, subjects, wake=event in WAKING_EVENTS)


    def sign(self, body: bytes, secrets: Mapping[str, str], now: datetime, delivery_id: str,
             event: str) -> dict[str, str]:
        """The headers GitHub sends with ``body`` (the simulators, the tests and the benchmark push with it)."""
        return {"X-Hub-Signature-256": "sha256=" + hmac_hex(secrets["webhook_secret"], body),
                "X-GitHub-Delivery": delivery_id, "X-GitHub-Event": event, "Content-Type": "application/json"}


VERIFIER = GithubWebhook()
