"""praw on the shared HTTP layer, pointed at the configured API, with every failure as one ``ClientError``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import praw
import prawcore
import requests
from praw.exceptions import PRAWException, RedditAPIException
from praw.models import Listing

from connectors.reddit.config import RedditConfig
from continuum.http import IDEMPOTENT_METHODS, new_session
from continuum.kit import ClientError, RateLimitHeaders

# X-Ratelimit-Remaining is a float ("587.0"), Reset the seconds left in the 10-minute window.
RATE_LIMITS = RateLimitHeaders(remaining="x-ratelimit-remaining", reset="x-ratelimit-reset")
_RATE_HEADERS = ("x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset")


class RedditError(ClientError):
    # The token endpoint answers a wrong password with 200 {"error": "invalid_grant"}.
    auth_codes: ClassVar[frozenset[str]] = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


class _SentPost(Exception):
    """A POST that failed after it may have reached Reddit: not prawcore's to retry (the outbox recovers it)."""


class _Requestor(prawcore.Requestor):
    """The shared layer paces and stops on spent windows; prawcore must neither sleep on them nor resend POSTs.

    prawcore's own limiter sleeps up to the window's end before a call, where the hub must stop cleanly, and it
    retries any 5xx or timeout, a POST included (a second comment): both are turned off here, by what it sees.
    """

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> requests.Response:
        method = str(args[0] if args else kwargs.get("method", "GET")).upper()
        try:
            response: requests.Response = self._http.request(*args, **{**kwargs, "timeout": timeout or self.timeout})
        except ClientError:  # the shared layer's clean stop (RateLimitExhausted) passes through unchanged
            raise
        except Exception as exc:
            cause = exc if method in IDEMPOTENT_METHODS else _SentPost(f"{type(exc).__name__}: {exc}")
            raise prawcore.RequestException(cause, args, kwargs) from None
        for name in _RATE_HEADERS:
            response.headers.pop(name, None)
        if response.status_code >= 500 and method not in IDEMPOTENT_METHODS:
            raise prawcore.RequestException(_SentPost(f"HTTP {response.status_code}"), args, kwargs)
        return response


class RedditClient:
    def __init__(self, config: RedditConfig, session: requests.Session | None = None) -> None:
        self.config = config
        session = session or new_session("reddit", rate_limits=RATE_LIMITS)
        self.reddit = praw.Reddit(
            client_id=config.client_id, client_secret=config.client_secret.get_secret_value(),
            username=config.username, password=config.password.get_secret_value(),
            user_agent=f"python:continuum-hub:0.1 (by /u/{config.username})",
            oauth_url=config.url, reddit_url=config.auth_url, short_url=config.url,
            check_for_updates=False, check_for_async=False,
            requestor_class=_Requestor, requestor_kwargs={"session": session})

    @contextmanager
    def _call(self, method: str, path: str) -> Iterator[None]:
        try:
            yield
        except ClientError:
            raise
        except prawcore.PrawcoreException as exc:  # OAuthException: .error; ResponseException: .response
            reply, code = getattr(exc, "response", None), getattr(exc, "error", None)
            detail = f"token refused: {code}" if code else getattr(exc, "original_exception", None) or (
                reply.text or reply.reason if reply is not None else exc)
            raise RedditError("reddit", str(detail)[:300], status=None if reply is None else reply.status_code,
                              code=code, method=method, path=path) from None
        except RedditAPIException as exc:
            first = exc.items[0]
            raise RedditError("reddit", "; ".join(str(i) for i in exc.items)[:300], status=200,
                              code=first.error_type, method=method, path=path) from None
        except PRAWException as exc:
            raise RedditError("reddit", str(exc)[:300], method=method, path=path) from None

    def me(self) -> str:
        with self._call("GET", "/api/v1/me"):
            return str(self.reddit.user.me())

    def listing(self, path: str, **params: str | int) -> Listing:
        """One page of a listing, newest first, as praw's models (``children``, ``after``, ``before``)."""
        with self._call("GET", path):
            found = self.reddit.get(path, params={"limit": self.config.page_size, **params})
        if not isinstance(found, Listing):
            raise RedditError("reddit", f"{path} did not answer a listing", status=200, method="GET", path=path)
        return found

    def info(self, fullnames: Sequence[str]) -> list[Any]:
        """The things still there among ``fullnames`` (100 per call); a purged one is simply absent."""
        with self._call("GET", "/api/info"):
            return list(self.reddit.info(fullnames=list(fullnames))) if fullnames else []

    def post_comment(self, thing_id: str, text: str) -> Any:
        """A reply to a comment, a submission or a message, as the company's account."""
        with self._call("POST", "/api/comment"):
            things = self.reddit.post("/api/comment", data={"thing_id": thing_id, "text": text})
        made = things[0] if isinstance(things, list) and things else things  # {"json": {"data": {"things": [..]}}}
        if not getattr(made, "id", None):
            raise RedditError("reddit", f"unexpected answer to a new comment: {str(made)[:200]}", status=200,
                              method="POST", path="/api/comment")
        return made
