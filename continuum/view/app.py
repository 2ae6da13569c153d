"""The Continuum view's FastAPI app: server-drawn pages over the store, mounted in Airflow's API server.

Every route depends on :func:`continuum.view.auth.reader` (signed in, may read customer data); replay also
needs the right to trigger DAG runs and the form's CSRF token.  Pages are Jinja2 with autoescape on, so a
customer's words are text wherever they appear; every string is scrubbed of the connections' secrets first.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import Engine

from continuum.view import auth

SOON = timedelta(hours=4)  # "breaching soon": due within this
LETTERS_SHOWN = 200  # the oldest this many; `continuum dead-letters` lists them all


def web_url(url: Any) -> str:
    """Only http(s) links become links: a stored ``javascript:`` URL would otherwise run on a click."""
    text = str(url or "")
    return text if text.lower().startswith(("https://", "http://")) else ""


@cache
def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["web_url"] = web_url
    return env


@cache
def _store() -> Engine:
    from continuum.store.db import open_store

    # The store is set up by `continuum setup` or the DAGs; a page only reads it.
    return open_store(migrate_schema=False)


def _page(request: Request, user: Any, template: str, **values: Any) -> HTMLResponse:
    from continuum.ops.report import _scrubbed

    html = _templates().get_template(template).render(
        base=request.scope.get("root_path", "").rstrip("/"), user=auth.user_name(user),
        may_replay=auth.may_replay(user), **_scrubbed(values))
    return HTMLResponse(html, headers={"Content-Security-Policy": ("default-src 'self'; style-src 'unsafe-inline'; "
                                                                   "script-src 'none'; frame-ancestors 'self'"),
                                       "Cache-Control": "no-store"})


def create_app() -> FastAPI:
    app = FastAPI(title="Continuum view", docs_url=None, redoc_url=None, openapi_url=None)
    reader = Depends(auth.reader)

    @app.exception_handler(HTTPException)
    async def signed_out(request: Request, exc: HTTPException) -> Response:
        # A person opening a page while signed out goes to Airflow's login, and comes back after it.
        if exc.status_code == 401 and request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(auth.login_url(request), status_code=303)
        return await http_exception_handler(request, exc)

    @app.get("/", response_class=HTMLResponse)
    def customers_page(request: Request, q: str = "", user: Any = reader) -> HTMLResponse:
        from continuum.store.customers import summaries

        with _store().connect() as conn:
            found = summaries(conn, q.strip() or None, limit=100)
        return _page(request, user, "customers.html.j2", q=q, customers=found)

    @app.get("/customers/{customer_id}", response_class=HTMLResponse)
    def customer_page(request: Request, customer_id: int, user: Any = reader) -> HTMLResponse:
        from continuum.ops.customers import CustomerError, timeline

        try:
            with _store().connect() as conn:
                found = timeline(conn, customer_id)
        except CustomerError as exc:
            raise HTTPException(404, str(exc)) from None
        return _page(request, user, "customer.html.j2", **found)

    @app.get("/requests", response_class=HTMLResponse)
    def requests_page(request: Request, user: Any = reader) -> HTMLResponse:
        from continuum.store.report import top_requests
        from continuum.store.view import voices_of

        with _store().connect() as conn:
            board = top_requests(conn, limit=200)
            voices = voices_of(conn, [r["id"] for r in board])
        return _page(request, user, "requests.html.j2", board=[{**r, "voices": voices.get(r["id"], 0)}
                                                               for r in board])

    @app.get("/sla", response_class=HTMLResponse)
    def sla_page(request: Request, user: Any = reader) -> HTMLResponse:
        from continuum.store.db import utcnow
        from continuum.store.view import sla_watch

        with _store().connect() as conn:
            rows = sla_watch(conn, utcnow(), SOON)
        groups: dict[tuple[str, str], list[Any]] = {}
        for row in rows:
            groups.setdefault((row["team"], row["priority"]), []).append(row)
        return _page(request, user, "sla.html.j2", groups=sorted(groups.items()), soon_hours=SOON.seconds // 3600)

    @app.get("/dead-letters", response_class=HTMLResponse)
    def letters_page(request: Request, replayed: int | None = None, outcome: str = "",
                     user: Any = reader) -> HTMLResponse:
        from continuum.ops.replay import list_dead_letters
        from continuum.store.view import failed_effects

        db = _store()
        waiting = list_dead_letters(db, state=("open", "expired"))
        letters = [{k: v for k, v in letter.items() if k != "payload"}  # a payload may be anything a source sent
                   for letter in waiting[:LETTERS_SHOWN]]
        with db.connect() as conn:
            effects = failed_effects(conn)
        return _page(request, user, "dead_letters.html.j2", letters=letters, effects=effects, replayed=replayed,
                     outcome=outcome, csrf=auth.csrf_token(user), total=len(waiting))

    @app.post("/dead-letters/{letter_id}/replay")
    async def replay(request: Request, letter_id: int, user: Any = reader) -> RedirectResponse:
        if not auth.may_replay(user):
            raise HTTPException(403, "Your Airflow role may not replay: replaying needs the permission to "
                                     "trigger DAG runs")
        form = parse_qs((await request.body()).decode(errors="replace"))
        auth.check_csrf(request, user, request.headers.get(auth.CSRF_HEADER) or
                        next(iter(form.get(auth.CSRF_FIELD, [])), None))
        from continuum.config import load_config
        from continuum.ops.replay import replay_letter

        outcome = replay_letter(_store(), load_config(), letter_id)
        if outcome is None:
            raise HTTPException(404, f"no open dead letter {letter_id}: it may have been replayed already")
        base = request.scope.get("root_path", "").rstrip("/")
        return RedirectResponse(f"{base}/dead-letters?{urlencode({'replayed': letter_id, 'outcome': outcome})}",
                                status_code=303)

    @app.get("/history", response_class=HTMLResponse)
    def history_page(request: Request, ref: str = "", user: Any = reader) -> HTMLResponse:
        from continuum.ops.history import NotFound, history_of

        found: Any = None
        problem = ""
        if ref.strip():
            try:
                with _store().connect() as conn:
                    found = history_of(conn, ref.strip())
            except NotFound as exc:
                problem = str(exc)
        return _page(request, user, "history.html.j2", ref=ref, found=found, problem=problem)

    return app
