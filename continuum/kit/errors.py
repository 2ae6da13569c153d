"""One error type for every connector's client: status, retry hint, and whether the credentials are wrong."""

from __future__ import annotations

from typing import ClassVar

AUTH_STATUSES = frozenset({401, 403})


class ClientError(Exception):
    """A system answered with a failure, or could not be reached.

    ``status`` is the HTTP status (None when no answer came), ``code`` the
    vendor's own error code where it has one (Slack's ``invalid_auth``),
    ``retry_after`` the seconds the system asked us to wait.  The message
    always starts with the system's name, so one line tells a person where
    to look; it never holds a credential (clients build it from the answer,
    never from the request).
    """

    # Vendor codes that mean the credentials, not the request, are wrong.
    auth_codes: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, system: str, message: str, *, status: int | None = None, code: str | None = None,
                 method: str = "", path: str = "", retry_after: float | None = None) -> None:
        where = f" {method} {path}".rstrip() if (method or path) else ""
        shown = f" -> {status}" if status is not None else ""
        super().__init__(f"{system}{where}{shown}: {message}")
        self.system = system
        self.message = message
        self.status = status
        self.code = code
        self.method = method
        self.path = path
        self.retry_after = retry_after

    @property
    def is_auth_error(self) -> bool:
        return self.status in AUTH_STATUSES or (self.code is not None and self.code in self.auth_codes)


class PermanentError(ValueError):
    """The effect cannot succeed however often it is tried (a file over the size limit, a blocked type):
    the engine dead-letters it at once instead of retrying it until it gives up."""


def is_auth_error(exc: BaseException) -> bool:
    """True for a :class:`ClientError` that says so, or any error carrying a 401/403 status.

    Vendor libraries (``jira.JIRAError``) put the status in ``status_code``; we
    look there too, so a connector need not wrap every library error.
    """
    flag = getattr(exc, "is_auth_error", None)
    if isinstance(flag, bool):
        return flag
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    return status in AUTH_STATUSES
