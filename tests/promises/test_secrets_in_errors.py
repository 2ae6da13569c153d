"""Secrets stay out of errors: a refused credential is reported with its status, never with the credential.

One test per connector, each through its real client against its simulator, and one through the engine:
the dead letter a refused token leaves behind.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from continuum.connector import ConnectionInfo, Effect
from continuum.kit.registry import plugin
from continuum.store.tables import dead_letters
from tests.e2e.conftest import Loop

WRONG = "wrong-secret-Zq81xKp3-never-print-me"
EFFECTS = {
    "discourse": Effect("ck-secret-1", "reply", "post", {"raw": "hello"}, target_id="1"),
    "jira": Effect("ck-secret-1", "comment", "comment", {"body": "hello"}, target_id="PROD-1"),
    "slack": Effect("ck-secret-1", "notify", "message", {"channel": "#hr", "text": "hello"}),
}


def leaks(text: str, login: str | None) -> list[str]:
    """The forms in which the wrong secret could show: plain, in a Basic header, URL-encoded."""
    basic = base64.b64encode(f"{login or ''}:{WRONG}".encode()).decode()
    return [form for form in (WRONG, basic, basic[:-2], WRONG.replace("-", "%2D"), WRONG[4:-4]) if form in text]


@pytest.fixture(params=sorted(EFFECTS))
def refused(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str | None, str]]:
    """A connector of each system whose secret the system refuses, and the login it sends."""
    system = request.param
    found = plugin(system)
    sim = found.simulator_class()()
    found.seed_simulator(sim)
    sim.start()
    try:
        login = found.simulator_credentials.get("login")
        secret = f"xoxb-{WRONG}" if system == "slack" else WRONG  # shaped as the system's secrets are
        conn = ConnectionInfo(f"{system}_test", sim.base_url, login, secret)
        options = {"project": "PROD"} if system == "jira" else {}
        yield found.create(conn, options), login, system
    finally:
        sim.stop()


def test_a_refused_secret_is_named_by_status_not_shown(refused: tuple[Any, str | None, str]) -> None:
    connector, login, system = refused
    with pytest.raises(Exception) as caught:
        connector.check()
    error = caught.value
    shown = " | ".join([str(error), repr(error), repr(error.args), repr(vars(error)), repr(connector.config)])
    assert not leaks(shown, login), shown
    assert getattr(error, "is_auth_error", False) or "401" in str(error) or "403" in str(error), shown
    (result,) = connector.write([EFFECTS[system]])
    assert not result.ok and not leaks(str(result.error), login), result.error


def test_the_dead_letter_of_a_refused_token_does_not_hold_it(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    jira = json.loads(os.environ["AIRFLOW_CONN_CONTINUUM_JIRA"])
    monkeypatch.setenv("AIRFLOW_CONN_CONTINUUM_JIRA", json.dumps({**jira, "password": WRONG}))
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    try:
        loop.sync()
    except Exception as exc:  # a refused credential may stop the run: its error is checked too
        assert not leaks(f"{exc} {exc!r}", jira.get("login")), exc
    with loop.db.connect() as conn:
        letters = [dict(row) for row in conn.execute(select(dead_letters)).mappings()]
    assert letters and all("401" in letter["error"] for letter in letters), letters
    assert not leaks(repr(letters), jira.get("login"))


@pytest.mark.parametrize("system", sorted(EFFECTS))
def test_a_malformed_secret_is_refused_by_field_never_by_value(system: str) -> None:
    from continuum.kit.config import ConfigError

    found = plugin(system)
    login = found.simulator_credentials.get("login")
    secret = f"xoxp-{WRONG}" if system == "slack" else ""  # Slack wants a bot token; the others any non-empty key
    with pytest.raises(ConfigError) as caught:
        found.create(ConnectionInfo(f"{system}_test", "http://127.0.0.1:9", login, secret or None), {})
    assert system in str(caught.value) and not leaks(f"{caught.value} {caught.value!r}", login), caught.value
