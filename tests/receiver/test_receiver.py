"""The receiver over real HTTP, per pushing system: genuine deliveries are committed; forged, stale,
replayed and oversized ones are refused with the right status and a log line without the secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine

from continuum.config import load_config
from tests.receiver.conftest import MAX_BODY
from tests.receiver.harness import (
    SECRETS,
    WINDOWED,
    Receiver,
    body_for,
    connection_env,
    forged_secrets,
    running_receiver,
    signed,
)

SYSTEMS = sorted(SECRETS)


def _secret_values() -> list[str]:
    return [value for secrets in SECRETS.values() for value in secrets.values()]


class Logs:
    """What the receiver logged (Airflow's logging setup sends log lines to stdout or stderr)."""

    def __init__(self, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
        self.capfd, self.caplog, self.seen = capfd, caplog, ""

    @property
    def text(self) -> str:
        out, err = self.capfd.readouterr()
        self.seen += out + err
        return self.seen + self.caplog.text


@pytest.fixture
def logs(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Iterator[Logs]:
    caplog.set_level(logging.INFO, logger="continuum.receiver")
    found = Logs(capfd, caplog)
    yield found
    assert not [s for s in _secret_values() if s in found.text], "a webhook secret reached a log line"


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_signed_delivery_is_committed_before_the_answer(receiver: Receiver, system: str,
                                                          logs: Logs) -> None:
    body = body_for(system, uuid.uuid4().hex)
    answer = httpx.post(receiver.hook(system), content=body, headers=signed(system, body))
    assert answer.status_code == 200, answer.text
    (row,) = receiver.deliveries(system)  # committed by the time the 200 arrived
    assert row["state"] == "pending" and row["body"] == body.decode()
    assert row["subjects"] and row["event_type"] != "unknown"
    assert answer.json()["delivery"] == row["delivery_id"]
    assert f"webhook {system}: committed delivery" in logs.text


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_forged_delivery_is_refused(receiver: Receiver, system: str, logs: Logs) -> None:
    body = body_for(system, uuid.uuid4().hex)
    answer = httpx.post(receiver.hook(system), content=body, headers=signed(system, body,
                                                                            secrets=forged_secrets(system)))
    assert answer.status_code == 401
    unsigned = httpx.post(receiver.hook(system), content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    # Signed for another body: the signature covers the bytes.
    tampered = httpx.post(receiver.hook(system), content=body.replace(b"{", b"{ ", 1), headers=signed(system, body))
    assert tampered.status_code == 401
    assert receiver.deliveries() == []
    assert f"webhook {system}: refused (401)" in logs.text


@pytest.mark.parametrize("system", WINDOWED)
def test_a_stale_delivery_is_refused(receiver: Receiver, system: str, logs: Logs) -> None:
    body = body_for(system, uuid.uuid4().hex)
    old = datetime.now(UTC) - timedelta(minutes=11)
    assert httpx.post(receiver.hook(system), content=body, headers=signed(system, body, at=old)).status_code == 401
    ahead = datetime.now(UTC) + timedelta(minutes=11)
    assert httpx.post(receiver.hook(system), content=body, headers=signed(system, body, at=ahead)).status_code == 401
    assert receiver.deliveries() == []
    assert "window" in logs.text


def test_slack_takes_a_delivery_four_minutes_old_and_refuses_six(receiver: Receiver) -> None:
    body = body_for("slack", uuid.uuid4().hex)
    six = datetime.now(UTC) - timedelta(minutes=6)
    assert httpx.post(receiver.hook("slack"), content=body, headers=signed("slack", body, at=six)).status_code == 401
    four = datetime.now(UTC) - timedelta(minutes=4)
    assert httpx.post(receiver.hook("slack"), content=body, headers=signed("slack", body, at=four)).status_code == 200


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_replayed_delivery_is_refused(receiver: Receiver, system: str, logs: Logs) -> None:
    body, delivery = body_for(system, uuid.uuid4().hex), uuid.uuid4().hex
    headers = signed(system, body, delivery=delivery)
    assert httpx.post(receiver.hook(system), content=body, headers=headers).status_code == 200
    again = httpx.post(receiver.hook(system), content=body, headers=headers)
    assert again.status_code == 409
    # Signed afresh (a later timestamp, where the vendor signs one) but the same delivery: still a replay.
    later = signed(system, body, at=datetime.now(UTC) + timedelta(seconds=5), delivery=delivery)
    assert httpx.post(receiver.hook(system), content=body, headers=later).status_code == 409
    assert len(receiver.deliveries(system)) == 1
    assert "a replay" in logs.text


@pytest.mark.parametrize("system", SYSTEMS)
def test_an_oversized_delivery_is_refused(receiver: Receiver, system: str, logs: Logs) -> None:
    body = body_for(system, uuid.uuid4().hex, size=MAX_BODY)
    assert len(body) > MAX_BODY
    answer = httpx.post(receiver.hook(system), content=body, headers=signed(system, body))
    assert answer.status_code == 413
    assert receiver.deliveries() == []
    assert "over the limit" in logs.text


def test_an_oversized_chunked_delivery_is_refused_while_read(receiver: Receiver) -> None:
    body = body_for("github", uuid.uuid4().hex, size=MAX_BODY)

    def chunks() -> Iterator[bytes]:  # no Content-Length: only the reading can tell
        for start in range(0, len(body), 4096):
            yield body[start:start + 4096]

    answer = httpx.post(receiver.hook("github"), content=chunks(), headers=signed("github", body))
    assert answer.status_code == 413
    assert receiver.deliveries() == []


def test_a_body_just_under_the_limit_is_taken(receiver: Receiver) -> None:
    probe = body_for("github", "n")
    body = body_for("github", "n", size=MAX_BODY - len(probe) - len(', "padding": ""'))
    assert len(body) <= MAX_BODY
    assert httpx.post(receiver.hook("github"), content=body, headers=signed("github", body)).status_code == 200


def test_an_unknown_or_non_pushing_system_is_not_found(receiver: Receiver) -> None:
    body = b"{}"
    assert httpx.post(receiver.hook("nosuch"), content=body).status_code == 404
    assert httpx.post(receiver.hook("mastodon"), content=body).status_code == 404  # configured, cannot push
    assert httpx.get(f"{receiver.url}/healthz").json()["systems"] == SYSTEMS


def test_slack_url_verification_is_answered_and_not_kept(receiver: Receiver) -> None:
    body = json.dumps({"type": "url_verification", "token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2"}).encode()
    answer = httpx.post(receiver.hook("slack"), content=body, headers=signed("slack", body))
    assert answer.status_code == 200 and answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2"}
    forged = httpx.post(receiver.hook("slack"), content=body, headers=signed("slack", body,
                                                                             secrets=forged_secrets("slack")))
    assert forged.status_code == 401 and "challenge" not in forged.text
    assert receiver.deliveries() == []


def test_x_crc_challenge_is_signed_with_the_consumer_secret(receiver: Receiver) -> None:
    answer = httpx.get(receiver.hook("x"), params={"crc_token": "challenge-123"})
    expected = hmac.new(SECRETS["x"]["consumer_secret"].encode(), b"challenge-123", hashlib.sha256).digest()
    assert answer.status_code == 200
    assert answer.json() == {"response_token": "sha256=" + base64.b64encode(expected).decode()}
    assert httpx.get(receiver.hook("x")).status_code == 400
    assert receiver.deliveries() == []


def test_facebook_subscription_check_needs_the_verify_token(receiver: Receiver) -> None:
    good = {"hub.mode": "subscribe", "hub.verify_token": SECRETS["facebook"]["verify_token"],
            "hub.challenge": "1158201444"}
    answer = httpx.get(receiver.hook("facebook"), params=good)
    assert answer.status_code == 200 and answer.text == "1158201444"
    wrong = httpx.get(receiver.hook("facebook"), params={**good, "hub.verify_token": "guess"})
    assert wrong.status_code == 403 and "1158201444" not in wrong.text
    assert receiver.deliveries() == []


def test_box_accepts_either_signature_so_a_key_can_rotate(receiver: Receiver) -> None:
    for keep in ("BOX-SIGNATURE-PRIMARY", "BOX-SIGNATURE-SECONDARY"):
        body = body_for("box", uuid.uuid4().hex)
        headers = signed("box", body)
        other = "BOX-SIGNATURE-SECONDARY" if keep == "BOX-SIGNATURE-PRIMARY" else "BOX-SIGNATURE-PRIMARY"
        headers[other] = "bm90IGEgc2lnbmF0dXJl"
        assert httpx.post(receiver.hook("box"), content=body, headers=headers).status_code == 200
    assert len(receiver.deliveries("box")) == 2


def test_a_ping_is_kept_but_wakes_nothing(receiver: Receiver) -> None:
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    headers = {**signed("github", body), "X-GitHub-Event": "ping"}
    assert httpx.post(receiver.hook("github"), content=body, headers=headers).status_code == 200
    (row,) = receiver.deliveries("github")
    assert row["state"] == "skipped" and row["body"] is None


def test_two_receivers_on_one_store_commit_a_racing_delivery_once(any_db: Engine,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Stateless behind a load balancer: the same delivery reaching two receivers at once is kept once."""
    for key, value in connection_env().items():
        monkeypatch.setenv(key, value)
    hub = load_config()
    with running_receiver(hub, any_db) as first, running_receiver(hub, any_db) as second:
        for _ in range(20):
            body = body_for("github", uuid.uuid4().hex)
            headers = signed("github", body)
            with ThreadPoolExecutor(max_workers=2) as pool:
                answers = list(pool.map(lambda url, b=body, h=headers: httpx.post(url, content=b, headers=h),
                                        [first.hook("github"), second.hook("github")]))
            assert sorted(a.status_code for a in answers) == [200, 409]
        assert len(first.deliveries("github")) == 20


def test_a_store_that_cannot_commit_answers_503_and_logs_no_body(receiver: Receiver, logs: Logs) -> None:
    from sqlalchemy import text

    with receiver.db.begin() as conn:
        conn.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))  # the store fails under the receiver
    nonce = uuid.uuid4().hex
    body = body_for("github", nonce)
    answer = httpx.post(receiver.hook("github"), content=body, headers=signed("github", body))
    assert answer.status_code == 503  # not 2xx: the vendor delivers it again later
    assert "did not commit" in logs.text and nonce not in logs.text


def test_an_unknown_system_name_is_logged_escaped(receiver: Receiver, logs: Logs) -> None:
    assert httpx.post(receiver.hook("evil%0Aforged line"), content=b"{}").status_code == 404
    assert "\nforged line" not in logs.text and "evil\\nforged line" in logs.text


@pytest.mark.parametrize(("event", "kind", "subject", "state"), [
    ({"type": "message", "channel": "C1", "ts": "1.1", "text": "hi", "user": "U1"}, "message", "message:C1:1.1",
     "pending"),
    ({"type": "message", "subtype": "message_changed", "channel": "C1", "ts": "2.2",
      "message": {"ts": "1.1", "text": "hi, edited", "user": "U1"}}, "message.message_changed", "message:C1:1.1",
     "pending"),
    ({"type": "message", "subtype": "message_deleted", "channel": "C1", "ts": "3.3", "deleted_ts": "1.1"},
     "message.message_deleted", "message:C1:1.1", "pending"),
    ({"type": "message", "channel": "C1", "ts": "4.4", "text": "New ticket", "bot_id": "B1"}, "message",
     "message:C1:4.4", "skipped"),  # a bot's message, the hub's notices among them: kept, wakes nothing
])
def test_slack_events_name_the_message_and_a_bots_wake_nothing(receiver: Receiver, event: dict[str, str],
                                                                 kind: str, subject: str, state: str) -> None:
    body = json.dumps({"type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex}", "event": event}).encode()
    assert httpx.post(receiver.hook("slack"), content=body, headers=signed("slack", body)).status_code == 200
    (row,) = receiver.deliveries("slack")
    assert (row["event_type"], row["subjects"], row["state"]) == (kind, [subject], state)
