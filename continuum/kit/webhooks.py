"""What a system that can push gives the webhook receiver: a verifier of its signed deliveries.

A connector folder that can push holds ``webhook.py`` with one object implementing
:class:`WebhookVerifier`, named by its plugin (``ConnectorPlugin.webhook``).  The receiver
(:mod:`continuum.receiver`) knows no vendor: it hands the verifier the request and the
system's webhook secrets (from its Airflow Connection's ``extra``, masked) and gets back
one of three answers:

* :class:`Accepted`: a genuine delivery; the receiver commits it to the inbox before it answers 2xx;
* :class:`Rejected`: forged, stale or malformed; the receiver answers ``status`` and logs ``reason``
  (a reason never holds a secret or a signature);
* :class:`Reply`: a handshake the vendor expects an answer to (a challenge to echo, a CRC token
  to sign); nothing is committed.

The helpers below are the pieces every verifier needs: HMACs, a constant-time compare of the
signature a delivery carries, a freshness window, and a delivery id for vendors that send none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class WebhookRequest:
    """One HTTP request to ``/hooks/<system>``, as the receiver read it (headers with lower-case names)."""

    method: str
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Accepted:
    """A genuine delivery: what the inbox keeps.

    ``delivery_id`` is the vendor's id of the delivery (the same on its retries), or :func:`body_id` for
    vendors that send none; a second delivery under the same id is a replay.  ``subjects`` name the records
    it is about (``object_type:external_id``), for people reading the inbox.  ``wake`` is False for deliveries
    that change no record (a ping when the webhook is made): kept for the record, no run is started."""

    delivery_id: str
    event_type: str
    subjects: tuple[str, ...] = ()
    wake: bool = True


@dataclass(frozen=True)
class Rejected:
    status: int  # 401 forged or stale, 400 malformed, 403 a wrong verify token, 405 a method it does not take
    reason: str  # for the log line: never a secret, a signature or the body


@dataclass(frozen=True)
class Reply:
    """A handshake's answer (a challenge echoed, a CRC token signed): sent as it is, nothing committed."""

    body: bytes
    content_type: str = "application/json"
    status: int = 200


Verdict = Accepted | Rejected | Reply


@runtime_checkable
class WebhookVerifier(Protocol):
    """One system's deliveries: who signed them, when, and which delivery it is."""

    # The Connection ``extra`` keys holding its webhook secrets; every one must be set.
    secret_fields: tuple[str, ...]

    def verify(self, request: WebhookRequest, secrets: Mapping[str, str], now: datetime) -> Verdict:
        """Judge one request; never raise on bad input (a malformed body is a :class:`Rejected`)."""
        ...


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def hmac_hex(secret: str, message: bytes, algorithm: str = "sha256") -> str:
    return hmac.new(secret.encode(), message, algorithm).hexdigest()


def hmac_b64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac_sha256(secret, message)).decode()


def same(expected: str, given: str | None) -> bool:
    """Constant-time equality of a computed signature and the one a delivery carries."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def prefixed_hex_matches(secret: str, body: bytes, given: str | None, prefix: str = "sha256=") -> bool:
    """``sha256=<hex HMAC of the body>``, the form GitHub, Discourse, Facebook and Jira send."""
    algorithm = prefix.rstrip("=")
    return same(prefix + hmac_hex(secret, body, algorithm), given)


def fresh(sent: datetime, now: datetime, window: timedelta) -> bool:
    """Sent within ``window`` of ``now``, either way (a clock a little ahead is not a replay)."""
    return abs(now - sent) <= window


def json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one (the verifier then rejects it, 400)."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def body_id(body: bytes) -> str:
    """A delivery id for vendors that send none: the same bytes again are the same delivery."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


__all__ = ["Accepted", "Rejected", "Reply", "Verdict", "WebhookRequest", "WebhookVerifier", "body_id", "fresh",
           "hmac_b64", "hmac_hex", "hmac_sha256", "json_object", "prefixed_hex_matches", "same"]


def signed_json_post(request: WebhookRequest, secret: str, vendor: str,
                     signature_header: str) -> dict[str, Any] | Rejected:
    """The checks every vendor signing its POSTed JSON as ``sha256=<hex HMAC of the body>`` needs first
    (GitHub, Jira, Discourse): the method, the signature, then a JSON object; the payload or why not."""
    if request.method != "POST":
        return Rejected(405, f"{vendor} delivers with POST")
    if not prefixed_hex_matches(secret, request.body, request.header(signature_header)):
        return Rejected(401, f"{signature_header} is missing or does not match the body")
    payload = json_object(request.body)
    return Rejected(400, "the body is not a JSON object") if payload is None else payload


def subjects_of(payload: Mapping[str, Any], names: dict[str, str]) -> tuple[str, ...]:
    """``kind:id`` for each object the payload carries, by its key (``{"issue": "number"}``: issue:12)."""
    return tuple(f"{name}:{payload[name][key]}" for name, key in names.items()
                 if isinstance(payload.get(name), dict) and payload[name].get(key) not in (None, ""))

