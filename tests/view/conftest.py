"""A real Airflow API server with the Continuum view plugin, over a seeded store.

Airflow's metadata lives in SQLite in the test's folder (the api-server alone needs nothing more); the
SimpleAuthManager knows two users, an admin and a viewer.  The plugin comes in through the package's
``airflow.plugins`` entry point, as in a real installation; the store holds a hostile customer name and a
dead letter whose error quotes a connection's secret.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import update

from continuum.store.db import make_engine, migrate
from continuum.store.tables import customers, dead_letters, identities, interactions, outbox
from tests.airflow.conftest import AirflowStack, base_env, free_port
from tests.e2e.reportkit import NOW, SECRET, seed_store

USERS = {"ada": "admin", "vic": "viewer", "nel": ""}  # nel: signed in, with no role at all
PLAN_LETTER = 10  # a triage failure: replay puts interaction 3 back to 'new' and resolves the letter
BROWSER_LETTER = 11  # the same, for the browser test (the server is shared by the package's tests)


@dataclass
class ViewServer:
    stack: AirflowStack
    store_url: str
    passwords: dict[str, str]

    @property
    def url(self) -> str:
        return f"{self.stack.url}/continuum"

    def token(self, user: str) -> str:
        response = requests.post(f"{self.stack.url}/auth/token",
                                 json={"username": user, "password": self.passwords[user]}, timeout=15)
        assert response.status_code in (200, 201), response.text
        return str(response.json()["access_token"])


def seed_view_store(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    seed_store(engine)
    with engine.begin() as conn:
        conn.execute(update(customers).where(customers.c.id == 1).values(primary_email="ann.lee@example.com"))
        conn.execute(identities.insert(), [
            {"customer_id": 1, "system": "discourse", "account_id": "17", "handle": "annlee",
             "email": "ann.lee@example.com", "created_at": NOW},
            {"customer_id": 2, "system": "x", "account_id": "99", "handle": "eve_x", "email": None,
             "created_at": NOW}])
        conn.execute(dead_letters.insert(), [{
            "id": letter, "pipeline": "p", "system": "x", "stream": "posts", "stage": "plan",
            "record_key": f"interaction/{interaction}", "error": "rule 'vip' failed: KeyError 'tier'",
            "payload": {"interaction_id": interaction}, "state": "open", "created_at": NOW - timedelta(hours=1),
            "updated_at": NOW - timedelta(hours=1)} for letter, interaction in ((PLAN_LETTER, 3), (BROWSER_LETTER, 4))])
        conn.execute(outbox.insert(), [{
            "idempotency_key": "k-dead-1", "pipeline": "p", "system": "jira", "action": "create",
            "object_type": "issue", "record_type": "interaction", "record_id": 2,
            "payload": {"fields": {"summary": f"token {SECRET}"}}, "context": {}, "state": "dead", "attempts": 5,
            "last_error": f"500 <i>boom</i> from https://bot:{SECRET}@jira.example", "created_at": NOW,
            "updated_at": NOW}])
    engine.dispose()


@pytest.fixture(scope="package")
def view_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ViewServer]:
    home = tmp_path_factory.mktemp("airflow-view")
    store_url = f"sqlite:///{home / 'store.db'}"
    seed_view_store(store_url)
    port = free_port()
    env = base_env(home, f"sqlite:///{home / 'airflow.db'}")
    passwords = {user: secrets.token_hex(8) for user in USERS}
    (home / "passwords.json").write_text(json.dumps(passwords))
    env.update({
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}", "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16), "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "CONTINUUM_DB_URL": store_url,
        # A connection whose password appears in a dead letter's error: no page may show it.
        "AIRFLOW_CONN_REPORT_TEST": json.dumps({"conn_type": "http", "password": SECRET}),
    })
    stack = AirflowStack(home=home, env=env, api_port=port)
    stack.run("db", "migrate", timeout=300)
    stack.start("api-server", "api-server")
    try:
        stack.wait_for_health(120)
        yield ViewServer(stack, store_url, passwords)
    finally:
        stack.stop()
        print(stack.log_tail("api-server", 30), file=sys.stderr)


def letter_state(server: ViewServer, letter_id: int) -> str:
    engine = make_engine(server.store_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(dead_letters.select().where(dead_letters.c.id == letter_id)).one().state)
    finally:
        engine.dispose()


def interaction_status(server: ViewServer, interaction_id: int) -> str:
    engine = make_engine(server.store_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(interactions.select().where(interactions.c.id == interaction_id)).one().status)
    finally:
        engine.dispose()


def artefacts_dir(tmp_path: Path) -> Path:
    import os

    where = Path(os.environ.get("CONTINUUM_ARTEFACTS_DIR") or tmp_path) / "airflow-view"
    where.mkdir(parents=True, exist_ok=True)
    return where


