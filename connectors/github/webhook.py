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
    json_object,
    prefixed_hex_matches,
)

WAKING_EVENTS = frozenset({"issues", "issue_comment"})


class GithubWebhook:
    secret_fields = ("webhook_secret",)

    def verify(self, request: WebhookRequest, secrets: Mapping[str, str], now: datetime) -> Verdict:
        if request.method != "POST":
            return Rejected(405, "GitHub delivers with POST")
        if not prefixed_hex_matches(secrets["webhook_secret"], request.body, request.header("x-hub-signature-256")):
            return Rejected(401, "X-Hub-Signature-256 is missing or does not match the body")
        delivery = request.header("x-github-delivery")
        payload = json_object(request.body)
        if not delivery or payload is None:
            return Rejected(400, "no X-GitHub-Delivery header, or the body is not a JSON object")
        event = request.header("x-github-event") or "unknown"
        subjects = []
        if isinstance(payload.get("issue"), dict) and "number" in payload["issue"]:
            subjects.append(f"issue:{payload['issue']['number']}")
        if isinstance(payload.get("comment"), dict) and "id" in payload["comment"]:
            subjects.append(f"comment:{payload['comment']['id']}")
        return Accepted(delivery, event, tuple(subjects), wake=event in WAKING_EVENTS)


    def sign(self, body: bytes, secrets: Mapping[str, str], now: datetime, delivery_id: str,
             event: str) -> dict[str, str]:
        """The headers GitHub sends with ``body`` (the simulators, the tests and the benchmark push with it)."""
        return {"X-Hub-Signature-256": "sha256=" + hmac_hex(secrets["webhook_secret"], body),
                "X-GitHub-Delivery": delivery_id, "X-GitHub-Event": event, "Content-Type": "application/json"}


VERIFIER = GithubWebhook()
