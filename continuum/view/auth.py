"""Who is asking, and may they: the Airflow user behind a request, checked with Airflow's auth manager.

A plugin's FastAPI app is mounted under Airflow's API server, but Airflow protects none of its routes: every
page and action here resolves the user itself from the JWT the Airflow UI holds (the ``Authorization: Bearer``
header, or the ``_token`` cookie the UI's login sets) and asks the configured auth manager.  Reading customer
data is a permission of its own (a custom view, :data:`RESOURCE`); replaying is allowed to whoever may trigger
DAG runs, since a replay does what a sync run does.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

RESOURCE = "Continuum"  # the custom view whose GET permission lets a user read customer data here
COOKIE = "_token"  # airflow.api_fastapi.auth.managers.base_auth_manager.COOKIE_NAME_JWT_TOKEN
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-continuum-csrf"


def _auth_manager() -> Any:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


def token_of(request: Request) -> str | None:
    """The JWT of the request: an explicit bearer credential wins over the UI's cookie, as in Airflow."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get(COOKIE) or None


async def current_user(request: Request) -> Any:
    """The Airflow user, or 401 (no token, or one Airflow does not accept)."""
    token = token_of(request)
    if not token:
        raise HTTPException(401, "Not signed in to Airflow: log in to the Airflow UI, then open Continuum again")
    try:
        return await _auth_manager().get_user_from_token(token)
    except Exception:  # expired, revoked, forged: Airflow logs which; the user only needs to log in again
        raise HTTPException(401, "Your Airflow session is not valid any more: log in to the Airflow UI again") \
            from None


def login_url(request: Request) -> str:
    """Airflow's login page, sending the user back to the page they asked for."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return str(_auth_manager().get_url_login(next_url=back))


def may_read(user: Any) -> bool:
    return bool(_auth_manager().is_authorized_custom_view(method="GET", resource_name=RESOURCE, user=user))


def may_replay(user: Any) -> bool:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity

    return bool(_auth_manager().is_authorized_dag(method="POST", access_entity=DagAccessEntity.RUN, user=user))


async def reader(request: Request) -> Any:
    """Dependency of every page: a signed-in user allowed to read customer data (else 401 / 403)."""
    user = await current_user(request)
    if not may_read(user):
        raise HTTPException(403, f"Your Airflow role may not read customer data: ask an admin for the "
                                 f"'{RESOURCE}' view permission")
    return user


def user_name(user: Any) -> str:
    return str(user.get_name())


def _secret() -> bytes:
    from airflow.configuration import conf

    return str(conf.get("api", "secret_key", fallback="") or conf.get("api_auth", "jwt_secret")).encode()


def csrf_token(user: Any) -> str:
    """A per-user token for the replay form: a cross-site page cannot know it (HMAC with Airflow's secret)."""
    return hmac.new(_secret(), f"continuum-replay:{user_name(user)}".encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, user: Any, sent: str | None) -> None:
    """403 unless the request comes from this site and carries the user's token."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "Replay refused: the request came from another site")
    if not sent or not hmac.compare_digest(sent, csrf_token(user)):
        raise HTTPException(403, "Replay refused: the form is stale or not from this page; reload it and retry")
