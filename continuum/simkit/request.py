"""The request a simulator's handler receives, with the readings every vendor API needs."""

from __future__ import annotations

import base64
import binascii
import json
from functools import cached_property
from typing import Any

from werkzeug.wrappers import Request


class SimRequest(Request):
    """A werkzeug request plus the body as JSON, every parameter, and the credentials sent."""

    @cached_property
    def json_body(self) -> Any:
        """The body parsed as JSON whatever the Content-Type says; None when it is not JSON."""
        try:
            return json.loads(self.get_data() or b"null")
        except ValueError:
            return None

    @cached_property
    def params(self) -> dict[str, Any]:
        """Query parameters overlaid with the body's: a JSON object or form fields.

        APIs such as Slack's take any argument in the query, a form or a JSON body alike.
        """
        merged: dict[str, Any] = dict(self.args.items())
        if self.mimetype == "application/json":
            body = self.get_json(silent=True)
            if isinstance(body, dict):
                merged.update(body)
        else:
            merged.update(self.form.items())
        return merged

    def bearer_token(self) -> str | None:
        """The token of an ``Authorization: Bearer`` header (scheme in any case)."""
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None

    def basic_credentials(self) -> tuple[str, str] | None:
        """``(user, password)`` of an ``Authorization: Basic`` header; None when absent or garbled."""
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, colon, password = decoded.partition(":")
        return (user, password) if colon else None
