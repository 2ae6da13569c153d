"""The view's pages and replay over real HTTP, through a real Airflow API server and its auth manager."""

from __future__ import annotations

import pytest
import requests
from markupsafe import escape

from tests.e2e.reportkit import HOSTILE_NAME, HOSTILE_TITLE, SECRET
from tests.view.conftest import PLAN_LETTER, ViewServer, interaction_status, letter_state

PAGES = ["/", "/?q=ann", "/customers/1", "/customers/2", "/requests", "/sla", "/dead-letters", "/history?ref=1"]


def get(server: ViewServer, path: str, user: str | None = None, **kwargs: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {server.token(user)}"} if user else {}
    return requests.get(f"{server.url}{path}", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_signed_in_airflow_user(view_server: ViewServer, path: str) -> None:
    assert get(view_server, path).status_code == 401
    forged = requests.get(f"{view_server.url}{path}", headers={"Authorization": "Bearer not.a.jwt"}, timeout=30)
    assert forged.status_code == 401
    assert requests.get(f"{view_server.url}{path}", cookies={"_token": "forged"}, timeout=30).status_code == 401


def test_a_signed_out_person_is_sent_to_airflows_login_and_back(view_server: ViewServer) -> None:
    page = requests.get(f"{view_server.url}/sla?x=1", headers={"Accept": "text/html"}, allow_redirects=False,
                        timeout=30)
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/login?next=%2Fcontinuum%2Fsla%3Fx%3D1"


@pytest.mark.parametrize("path", PAGES)
def test_reading_customer_data_is_a_permission(view_server: ViewServer, path: str) -> None:
    refused = get(view_server, path, "nel")
    assert refused.status_code == 403
    assert "Continuum" in refused.json()["detail"]
    assert get(view_server, path, "vic").status_code == 200


def test_the_ui_cookie_is_enough(view_server: ViewServer) -> None:
    page = requests.get(f"{view_server.url}/", cookies={"_token": view_server.token("vic")}, timeout=30)
    assert page.status_code == 200
    assert 'id="user">vic<' in page.text


def test_search_finds_by_name_handle_and_email(view_server: ViewServer) -> None:
    for query in ("Ann", "annlee", "ann.lee@example", "eve_x"):
        page = get(view_server, f"/?q={query}", "vic").text
        assert page.count('class="customer"') == 1, query
    assert "Ann Lee" in get(view_server, "/?q=annlee", "vic").text
    assert 'class="customer"' not in get(view_server, "/?q=nobody-like-this", "vic").text


def test_hostile_text_is_escaped_and_no_secret_is_shown(view_server: ViewServer) -> None:
    pages = {path: get(view_server, path, "ada").text for path in PAGES}
    for path, text in pages.items():
        assert SECRET not in text, path
        assert "<script>" not in text and "onerror=\"document" not in text, path
    assert str(escape(HOSTILE_NAME)) in pages["/customers/2"]  # shown, as text
    assert str(escape(HOSTILE_TITLE)) in pages["/requests"]
    assert pages["/dead-letters"].count("***@jira.example") == 2  # letter and effect errors, secrets scrubbed
    assert "&lt;i&gt;boom&lt;/i&gt;" in pages["/dead-letters"]


def test_pages_show_the_store(view_server: ViewServer) -> None:
    timeline = get(view_server, "/customers/1", "vic").text
    assert timeline.count('class="event"') == 3  # interactions 1, 2 and 4 are Ann's
    board = get(view_server, "/requests", "vic").text
    assert board.index("Export to CSV") < board.index("Dark mode")  # 7 votes before 4
    assert "shipped, customers told" in board and "Nobody asked" not in board
    sla = get(view_server, "/sla", "vic").text
    assert "breached" in sla and "support" in sla
    story = get(view_server, "/history?ref=post:1", "vic").text
    assert "Interaction 1: discourse post:1" in story
    assert "nothing in the store" in get(view_server, "/history?ref=NOPE-1", "vic").text


def _replay(server: ViewServer, letter: int, user: str | None, csrf: str | None,
            origin: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {server.token(user)}"} if user else {}
    if origin:
        headers["Origin"] = origin
    return requests.post(f"{server.url}/dead-letters/{letter}/replay", data={"csrf": csrf} if csrf else {},
                         headers=headers, allow_redirects=False, timeout=60)


def _csrf(server: ViewServer, user: str) -> str:
    page = get(server, "/dead-letters", user).text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_replay_is_refused_without_permission_or_token_then_works(view_server: ViewServer) -> None:
    assert _replay(view_server, PLAN_LETTER, None, None).status_code == 401
    assert _replay(view_server, PLAN_LETTER, "nel", "x").status_code == 403
    viewer_page = get(view_server, "/dead-letters", "vic").text
    assert 'class="replay"' not in viewer_page and "(read only)" in viewer_page
    assert _replay(view_server, PLAN_LETTER, "vic", "anything").status_code == 403
    token = _csrf(view_server, "ada")
    assert _replay(view_server, PLAN_LETTER, "ada", None).status_code == 403
    assert _replay(view_server, PLAN_LETTER, "ada", token[::-1]).status_code == 403
    assert _replay(view_server, PLAN_LETTER, "ada", token, origin="https://evil.example").status_code == 403
    assert letter_state(view_server, PLAN_LETTER) == "open"

    done = _replay(view_server, PLAN_LETTER, "ada", token)
    assert done.status_code == 303, done.text
    assert done.headers["location"].endswith(f"/continuum/dead-letters?replayed={PLAN_LETTER}&outcome=replayed")
    assert letter_state(view_server, PLAN_LETTER) == "resolved"
    assert interaction_status(view_server, 3) == "new"  # triage runs it again
    assert _replay(view_server, PLAN_LETTER, "ada", token).status_code == 404  # nothing left to replay
