"""HubSpot's CRM v3 API through the shared HTTP layer (retries, the 10-second window, counting).

The official ``hubspot-api-client`` talks through its own urllib3 pool, which would bypass the shared layer
(retries, ``Retry-After``, call counts): its models are the contract the simulator is checked against instead
(``connectors.hubspot.simcontract``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import requests

from connectors.hubspot.config import HubspotConfig
from continuum.connector import JSON
from continuum.http import RetryPolicy, new_session
from continuum.kit import ClientError, RateLimitHeaders

SYSTEM = "hubspot"
# HubSpot counts calls in a 10-second window and a day. A 429 of the short window names no wait: wait one
# window. A spent day (its remaining header at 0, no reset given) stops the run cleanly; the next run resumes.
RATE_LIMITS = RateLimitHeaders(remaining="x-hubspot-ratelimit-daily-remaining", throttle_wait_s=10.0)


class HubspotError(ClientError):
    @property
    def is_auth_error(self) -> bool:
        return self.status in (401, 403) or self.code in ("INVALID_AUTHENTICATION", "MISSING_SCOPES")


class HubspotClient:
    def __init__(self, config: HubspotConfig, policy: RetryPolicy | None = None) -> None:
        self.base_url = config.url
        self.session = new_session(SYSTEM, policy, rate_limits=RATE_LIMITS)
        self.session.headers.update({"Authorization": f"Bearer {config.token.get_secret_value()}",
                                     "Accept": "application/json"})

    def call(self, method: str, path: str, *, params: JSON | None = None, body: JSON | None = None) -> Any:
        try:
            response = self.session.request(method, self.base_url + path, params=params, json=body)
        except requests.RequestException as exc:
            raise HubspotError(SYSTEM, f"{type(exc).__name__}: {exc}", method=method, path=path) from None
        try:
            data: Any = response.json() if response.content else {}
        except ValueError:
            data = None
        if response.status_code >= 400 or data is None:
            info = data if isinstance(data, dict) else {}
            text = str(info.get("message") or response.reason or "the answer is not JSON")
            raise HubspotError(SYSTEM, text[:300], status=response.status_code, method=method, path=path,
                               code=str(info["category"]) if info.get("category") else None)
        return data

    def search(self, object_type: str, filters: list[JSON], *, properties: Sequence[str], limit: int,
               sort: str | None = None, after: str | None = None) -> JSON:
        """One page of ``POST /crm/v3/objects/{type}/search`` (one filter group: all filters must match)."""
        body: JSON = {"filterGroups": [{"filters": filters}] if filters else [], "properties": list(properties),
                      "limit": limit, **({"sorts": [{"propertyName": sort, "direction": "ASCENDING"}]} if sort else {}),
                      **({"after": after} if after else {})}
        return self.call("POST", f"/crm/v3/objects/{object_type}/search", body=body)  # type: ignore[no-any-return]

    def find_by_keys(self, object_type: str, key_property: str, keys: Sequence[str],
                     properties: Sequence[str] = ()) -> dict[str, JSON]:
        """Key -> the object carrying it, 100 keys a search (``IN`` takes at most 100 values)."""
        found: dict[str, JSON] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), 100):
            chunk = wanted[start:start + 100]
            after: str | None = None
            for _ in range(50):  # 100 keys, 200 a page: one page, rarely two
                page = self.search(object_type, [{"propertyName": key_property, "operator": "IN", "values": chunk}],
                                   properties=[key_property, *properties], limit=200, after=after)
                for item in page.get("results") or []:
                    key = (item.get("properties") or {}).get(key_property)
                    if key in chunk:
                        found.setdefault(str(key), item)
                after = ((page.get("paging") or {}).get("next") or {}).get("after")
                if not after:
                    break
        return found

    def batch(self, object_type: str, verb: str, inputs: list[JSON], **extra: Any) -> Iterator[JSON]:
        """``POST /crm/v3/objects/{type}/batch/{verb}``, 100 inputs a call.  HubSpot does not keep the order of
        ``inputs`` in ``results``: callers match them by id or key."""
        for start in range(0, len(inputs), 100):
            answer = self.call("POST", f"/crm/v3/objects/{object_type}/batch/{verb}",
                               body={"inputs": inputs[start:start + 100], **extra})
            yield from answer.get("results") or []
