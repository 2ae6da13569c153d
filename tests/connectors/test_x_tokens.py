"""X's rotating OAuth 2.0 tokens, against the simulator's token endpoint over real HTTP: refreshed before they
expire and on a 401, the rotated pair kept sealed in the store, one refresh for two concurrent runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, text, update

from connectors.x.connector import XConnector
from connectors.x.contract import HARNESS
from connectors.x.plugin import PLUGIN, SIM_ACCOUNT
from connectors.x.seed import seed
from connectors.x.simoauth import SIM_CLIENT_ID, SIM_CONFIDENTIAL_ID, SIM_CONFIDENTIAL_SECRET
from connectors.x.simulator import XSimulator
from continuum.connector import ConnectionInfo, SourceRecord
from continuum.kit.errors import ClientError
from continuum.kit.oauth import RefreshRefused
from continuum.kit.secretbox import SecretKeyMissing
from continuum.ops.problems import EXIT_CONFIG, EXIT_CONNECTION, describe
from continuum.store.db import make_engine, migrate, utcnow
from continuum.store.tables import oauth_tokens
from tests.conftest import pg_database_url, throwaway_database
from tests.e2e.conftest import Loop, loop  # noqa: F401  the fixture
from tests.newcomer.conftest import cli

CONN_ID = "continuum_x_rotating"
TOKEN_PATH = "/2/oauth2/token"


@pytest.fixture
def sim() -> Iterator[XSimulator]:
    simulator = XSimulator()
    seed(simulator)
    simulator.start()
    yield simulator
    simulator.stop()
    HARNESS.check_exchanges(simulator)  # the API calls stay true to X's description


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = Fernet.generate_key().decode()
    monkeypatch.setenv("CONTINUUM_SECRET_KEY", value)
    return value


def make(sim: XSimulator, db: Engine, refresh_token: str, **extra: Any) -> XConnector:
    extra = {"refresh_token": refresh_token, "client_id": SIM_CLIENT_ID, **extra}
    connector = PLUGIN.create(ConnectionInfo(CONN_ID, sim.base_url, SIM_ACCOUNT, None, extra), {})
    assert isinstance(connector, XConnector)
    connector.bind_store(db)
    return connector


def read(connector: XConnector) -> list[SourceRecord]:
    return [r for page in connector.read_changes("posts", None) for r in page.records]


def token_calls(sim: XSimulator) -> list[dict[str, list[str]]]:
    """The form of every refresh the simulator answered."""
    return [parse_qs(x.request_body.decode()) for x in sim.calls("POST", TOKEN_PATH)]


def answered_refresh_tokens(sim: XSimulator) -> list[str]:
    return [json.loads(x.response_body)["refresh_token"] for x in sim.calls("POST", TOKEN_PATH) if x.status == 200]


def test_the_first_run_refreshes_then_reads_and_an_expired_token_is_refreshed_on_the_401(
        sim: XSimulator, sqlite_db: Engine, key: str) -> None:
    seed_token = sim.issue_refresh_token()
    connector = make(sim, sqlite_db, seed_token)
    first = read(connector)
    assert first and sim.effect_counts()["token_refreshes"] == 1
    assert token_calls(sim)[0] == {"grant_type": ["refresh_token"], "refresh_token": [seed_token],
                                   "client_id": [SIM_CLIENT_ID]}
    sim.expire_access_tokens()  # X ended the token before the connector expected: the API answers 401
    again = read(connector)
    assert [r.external_id for r in again] == [r.external_id for r in first]
    assert sim.effect_counts()["token_refreshes"] == 2
    refused = [x for x in sim.calls("GET") if x.status == 401]
    assert len(refused) == 1  # one 401, then the new token and the same call once more


def test_a_token_near_its_expiry_is_refreshed_before_the_run_calls(sim: XSimulator, sqlite_db: Engine,
                                                                   key: str) -> None:
    seed_token = sim.issue_refresh_token()
    read(make(sim, sqlite_db, seed_token))
    with sqlite_db.begin() as conn:  # as if 1 h 57 min passed: the token still works, for 3 more minutes
        conn.execute(update(oauth_tokens).values(expires_at=utcnow() + timedelta(minutes=3)))
    read(make(sim, sqlite_db, seed_token))
    assert sim.effect_counts()["token_refreshes"] == 2
    assert not [x for x in sim.exchanges if x.status == 401]  # never sent a token about to die
    read(make(sim, sqlite_db, seed_token))  # two hours left: no refresh
    assert sim.effect_counts()["token_refreshes"] == 2


def test_the_rotated_pair_is_stored_sealed_and_the_next_run_uses_it_not_the_connections_stale_one(
        sim: XSimulator, sqlite_db: Engine, key: str) -> None:
    seed_token = sim.issue_refresh_token()
    read(make(sim, sqlite_db, seed_token))
    rotated = answered_refresh_tokens(sim)[-1]
    access = json.loads(sim.calls("POST", TOKEN_PATH)[-1].response_body)["access_token"]
    with sqlite_db.connect() as conn:
        row = conn.execute(text("SELECT * FROM oauth_tokens")).mappings().one()
    raw = " ".join(str(v) for v in row.values())
    assert row["system"] == "x" and row["account"] == SIM_ACCOUNT
    for secret in (seed_token, rotated, access):
        assert secret not in raw  # sealed, not in clear text
    assert Fernet(key.encode()).decrypt(row["refresh_token"].encode()).decode() == rotated
    # The next run starts with the Connection's (now spent) seed and X's token expired.
    sim.expire_access_tokens()
    assert read(make(sim, sqlite_db, seed_token))
    assert token_calls(sim)[-1]["refresh_token"] == [rotated]
    assert sim.effect_counts()["token_refreshes"] == 2
    assert not [x for x in sim.calls("POST", TOKEN_PATH) if x.status != 200]  # the seed was never replayed


def test_a_new_refresh_token_in_the_connection_is_taken_once(sim: XSimulator, sqlite_db: Engine, key: str) -> None:
    read(make(sim, sqlite_db, sim.issue_refresh_token()))
    sim.revoke()  # the chain is gone; a person re-authorises the app and puts the new token in the Connection
    fresh_seed = sim.issue_refresh_token()
    assert read(make(sim, sqlite_db, fresh_seed))
    assert token_calls(sim)[-1]["refresh_token"] == [fresh_seed]
    assert read(make(sim, sqlite_db, fresh_seed))  # within the token's life: no refresh, the stored token
    assert sim.effect_counts()["token_refreshes"] == 2


def test_a_confidential_client_authenticates_with_basic(sim: XSimulator, sqlite_db: Engine, key: str) -> None:
    seed_token = sim.issue_refresh_token(SIM_CONFIDENTIAL_ID)
    connector = make(sim, sqlite_db, seed_token, client_id=SIM_CONFIDENTIAL_ID, client_secret=SIM_CONFIDENTIAL_SECRET)
    assert read(connector)
    assert sim.calls("POST", TOKEN_PATH)[0].request_headers["Authorization"].startswith("Basic ")


def test_a_refused_refresh_token_is_one_line_naming_the_account_and_the_connection(
        sim: XSimulator, sqlite_db: Engine, key: str) -> None:
    seed_token = sim.issue_refresh_token()
    sim.revoke()
    with pytest.raises(RefreshRefused) as caught:
        read(make(sim, sqlite_db, seed_token))
    problem = describe(caught.value)
    assert problem is not None and problem.code == EXIT_CONNECTION
    assert problem.lines == (f"X refused the refresh token for @{SIM_ACCOUNT}: re-authorise the app and put the "
                             f"new refresh token in the Connection {CONN_ID}",)
    assert seed_token not in str(caught.value)


def test_no_key_refuses_to_store_tokens_with_one_line_naming_the_setting(
        sim: XSimulator, sqlite_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUUM_SECRET_KEY", raising=False)
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "")
    seed_token = sim.issue_refresh_token()
    with pytest.raises(SecretKeyMissing) as caught:
        read(make(sim, sqlite_db, seed_token))
    problem = describe(caught.value)
    assert problem is not None and problem.code == EXIT_CONFIG and "CONTINUUM_SECRET_KEY" in problem.lines[0]
    assert sim.effect_counts()["token_refreshes"] == 0  # nothing spent that could not be kept
    with sqlite_db.connect() as conn:
        assert not conn.execute(text("SELECT count(*) FROM oauth_tokens WHERE refresh_token IS NOT NULL")).scalar()


def test_airflows_fernet_key_seals_when_the_hub_has_none(sim: XSimulator, sqlite_db: Engine,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    airflow_key = Fernet.generate_key().decode()
    monkeypatch.delenv("CONTINUUM_SECRET_KEY", raising=False)
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", airflow_key)
    assert read(make(sim, sqlite_db, sim.issue_refresh_token()))
    with sqlite_db.connect() as conn:
        sealed = conn.execute(text("SELECT refresh_token FROM oauth_tokens")).scalar_one()
    assert Fernet(airflow_key.encode()).decrypt(sealed.encode()).decode() == answered_refresh_tokens(sim)[-1]


def concurrently(connectors: list[XConnector]) -> list[list[str]]:
    """Both reads started at the same moment, each in its own thread; what each read (or raises what failed)."""
    start = threading.Barrier(len(connectors))
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = [r.external_id for r in read(connectors[n])]
        except BaseException as exc:  # reported below, with the other run's outcome
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(connectors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return [results[n] for n in range(len(connectors))]


def test_two_concurrent_runs_on_postgresql_spend_the_refresh_token_once(sim: XSimulator, key: str) -> None:
    with throwaway_database("continuum_xtok", "the concurrent token refresh test needs PostgreSQL") as name:
        engines = [make_engine(pg_database_url(name)) for _ in range(2)]  # as two workers: one store each
        try:
            migrate(engines[0])
            seed_token = sim.issue_refresh_token()
            # Slow refreshes: without the row lock both runs would be inside the token call at once.
            sim.inject("latency", times=4, path_contains=TOKEN_PATH, latency_s=0.5)
            first = concurrently([make(sim, db, seed_token) for db in engines])  # the row does not exist yet
            assert first[0] and first[0] == first[1]
            spent = token_calls(sim)
            assert len(spent) == 1 and spent[0]["refresh_token"] == [seed_token]  # exactly one call spent it
            # Two hours later: the row exists, its token expired; again one run refreshes, the other waits.
            sim.expire_access_tokens()
            with engines[0].begin() as conn:
                conn.execute(update(oauth_tokens).values(expires_at=utcnow() - timedelta(minutes=1)))
            rotated = answered_refresh_tokens(sim)[-1]
            second = concurrently([make(sim, db, seed_token) for db in engines])
            assert second[0] and second[0] == second[1]
            spent = token_calls(sim)
            assert len(spent) == 2 and spent[1]["refresh_token"] == [rotated]
            assert sim.effect_counts()["token_refreshes"] == 2
        finally:
            for db in engines:
                db.dispose()


def test_continuum_sync_exits_3_on_a_refused_refresh_token_without_showing_it(
        loop: Loop, key: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    x = loop.sims["x"]
    assert isinstance(x, XSimulator)
    spent = x.issue_refresh_token()
    x.revoke()  # the company account revoked the app
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    conn = json.loads(loop.env["AIRFLOW_CONN_CONTINUUM_X"])
    monkeypatch.setenv("AIRFLOW_CONN_CONTINUUM_X", json.dumps(
        {"conn_type": "x", "host": conn["host"], "login": SIM_ACCOUNT,
         "extra": {"refresh_token": spent, "client_id": SIM_CLIENT_ID}}))
    result = cli("sync", "community")
    assert result.exit_code == EXIT_CONNECTION, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    assert lines[-1] == (f"error X refused the refresh token for @{SIM_ACCOUNT}: re-authorise the app and put the "
                         "new refresh token in the Connection continuum_x")
    assert spent not in result.output and key not in result.output


def test_a_throttled_refresh_is_retried_and_a_failed_one_spends_nothing(sim: XSimulator, sqlite_db: Engine,
                                                                         key: str) -> None:
    seed_token = sim.issue_refresh_token()
    sim.inject("503", times=1, path_contains=TOKEN_PATH)  # X did not act: the token is not spent
    with pytest.raises(ClientError) as caught:
        read(make(sim, sqlite_db, seed_token))
    assert caught.value.status == 503 and seed_token not in str(caught.value)
    assert len([x for x in sim.exchanges if x.path == TOKEN_PATH]) == 1  # a POST is never sent twice
    sim.inject("429", times=1, path_contains=TOKEN_PATH, retry_after="0")  # refused before acting: retried
    assert read(make(sim, sqlite_db, seed_token))
    assert token_calls(sim)[-1]["refresh_token"] == [seed_token]
    assert sim.effect_counts()["token_refreshes"] == 1
