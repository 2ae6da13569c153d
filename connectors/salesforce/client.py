"""Salesforce's REST API through simple-salesforce, on a session of the shared HTTP layer, behind one error type.

simple-salesforce does the calls, the query paging and the error parsing (its ``SalesforceError`` subclasses);
we get the OAuth token ourselves (its own login builds ``https://<domain>.salesforce.com`` and cannot take a
login URL as given: a sandbox's, a My Domain's), then hand it the ``instance_url`` the token answer names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from connectors.salesforce.config import SalesforceConfig
from continuum.http import RetryPolicy, new_session
from continuum.kit import ClientError, RateLimitHeaders

SYSTEM = "salesforce"
# REQUEST_LIMIT_EXCEEDED (403) means the org's rolling 24-hour API allowance is spent: no wait in a run helps, so
# the shared layer stops the system's calls cleanly (throttle_wait_s beyond any run's patience).
# Sforce-Limit-Info ("api-usage=N/M") tells the same before it happens.
RATE_LIMITS = RateLimitHeaders(throttle_statuses=(403,), throttle_phrases=("REQUEST_LIMIT_EXCEEDED",),
                               throttle_wait_s=3600.0, used_of="Sforce-Limit-Info")
MAX_PAGES = 10_000  # a query locator that never says done is a broken answer, not a long result


class SalesforceApiError(ClientError):
    auth_codes: ClassVar[frozenset[str]] = frozenset({
        "INVALID_SESSION_ID", "invalid_grant", "invalid_client", "invalid_client_id", "unsupported_grant_type",
        "inactive_user", "INVALID_AUTH_HEADER"})

    @property
    def is_auth_error(self) -> bool:  # a 403 is also how Salesforce says the daily allowance is spent
        return self.status == 401 or (self.code is not None and self.code in self.auth_codes)


def _from_library(exc: SalesforceError, method: str, path: str) -> SalesforceApiError:
    """One line from simple-salesforce's error: Salesforce's errorCode and message (never the request)."""
    content = exc.content
    first: dict[str, Any] = content[0] if isinstance(content, list) and content and isinstance(content[0], dict) else {}
    code = str(first.get("errorCode") or "") or None
    text = str(first.get("message") or content or type(exc).__name__)[:300]
    if code == "INVALID_SESSION_ID":
        text += "; the session ended or the connected app lost access: check the connection's user and app"
    return SalesforceApiError(SYSTEM, f"{code + ': ' if code else ''}{text}", status=exc.status, code=code,
                              method=method, path=path)


class SalesforceClient:
    def __init__(self, config: SalesforceConfig, policy: RetryPolicy | None = None) -> None:
        self.config = config
        self.session = new_session(SYSTEM, policy, rate_limits=RATE_LIMITS)
        if config.ca_bundle:
            _trust(self.session, config.ca_bundle)
        self._sf: Salesforce | None = None
        self.user_id: str | None = None  # the integration user's Id (from the token's identity URL)

    # -- the session ----------------------------------------------------------------
    def _login(self) -> Salesforce:
        config, path = self.config, "/services/oauth2/token"
        form = {"client_id": config.client_id, "client_secret": config.client_secret.get_secret_value()}
        if config.username:
            form.update(grant_type="password", username=config.username,
                        password=config.password.get_secret_value() if config.password else "")
        else:
            form["grant_type"] = "client_credentials"
        try:
            response = self.session.post(config.url + path, data=form, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise SalesforceApiError(SYSTEM, f"{type(exc).__name__}: {exc}", method="POST", path=path) from None
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict) or "access_token" not in body:
            code = str(body.get("error") or "") or None if isinstance(body, dict) else None
            said = body.get("error_description") if isinstance(body, dict) else response.reason
            raise SalesforceApiError(SYSTEM, f"{said or 'no token in the answer'} ({code}); check the connection's "
                                     "login URL, consumer key and secret, username and password+security token",
                                     status=response.status_code, code=code, method="POST", path=path)
        instance = str(body.get("instance_url") or config.url).rstrip("/")
        self.user_id = str(body.get("id") or "").rstrip("/").rpartition("/")[2] or None
        if not instance.startswith("https://"):
            raise SalesforceApiError(SYSTEM, f"the token answer names instance {instance[:80]!r}, not an https:// "
                                     "URL; simple-salesforce speaks only HTTPS", method="POST", path=path)
        sf = Salesforce(instance_url=instance, session_id=str(body["access_token"]), session=self.session,
                        version=config.api_version)
        sf.headers["Sforce-Query-Options"] = f"batchSize={config.page_size}"
        return sf

    @property
    def sf(self) -> Salesforce:
        if self._sf is None:
            self._sf = self._login()
        return self._sf

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded answer of ``services/data/vXX.X/<path>`` (None for 204); one new session on expiry."""
        for attempt in (1, 2):
            try:
                return self.sf.restful(path, method=method, **kwargs)
            except requests.RequestException as exc:  # refused, dropped, or a certificate we do not trust
                raise SalesforceApiError(SYSTEM, f"{type(exc).__name__}: {str(exc)[:200]}", method=method,
                                         path=path) from None
            except SalesforceError as exc:
                error = _from_library(exc, method, path)
                if error.code == "INVALID_SESSION_ID" and attempt == 1:
                    self._sf = None  # tokens expire: one fresh login, then the error stands
                    continue
                raise error from None
        raise AssertionError("unreachable")

    # -- queries --------------------------------------------------------------------
    def query_pages(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        """The records of ``soql``, a batch at a time, following ``nextRecordsUrl`` until ``done``."""
        answer = self.call("GET", "query/", params={"q": soql})
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            yield [r for r in answer.get("records") or [] if isinstance(r, dict)]
            following = answer.get("nextRecordsUrl")
            if answer.get("done", True) or not following:
                return
            if following in seen:
                raise SalesforceApiError(SYSTEM, f"query page {following[:80]!r} came back again; stopping")
            seen.add(following)
            answer = self._more(str(following))
        raise SalesforceApiError(SYSTEM, f"a query kept paging past {MAX_PAGES} pages; stopping")

    def _more(self, following: str) -> Any:
        try:
            return self.sf.query_more(following, identifier_is_url=True)
        except SalesforceError as exc:  # a locator does not outlive its session: no fresh login helps here
            raise _from_library(exc, "GET", "query (next page)") from None

    def query_all(self, soql: str) -> list[dict[str, Any]]:
        return [record for page in self.query_pages(soql) for record in page]


def _trust(session: requests.Session, ca_bundle: str) -> None:
    """Verify against ``ca_bundle``.  ``session.verify`` alone is not enough: requests lets REQUESTS_CA_BUNDLE
    and CURL_CA_BUNDLE win over it (psf/requests#3829), so the merged settings get the bundle back."""
    merge = session.merge_environment_settings

    def settings(url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        merged: dict[str, Any] = dict(merge(url, proxies, stream, verify, cert))
        if verify in (None, True):
            merged["verify"] = ca_bundle
        return merged

    session.verify = ca_bundle
    session.merge_environment_settings = settings  # type: ignore[method-assign]


def soql_string(value: str) -> str:
    """A SOQL string literal: quotes and backslashes escaped, so a value never becomes query text."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    return f"'{escaped}'"
