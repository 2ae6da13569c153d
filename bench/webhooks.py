"""Figure: the webhook receiver under load: signed deliveries at a steady rate, on loopback.

``continuum serve`` runs in its own process on a fresh store (SQLite; PostgreSQL too when one answers);
this process sends signed deliveries of every pushing system, round robin, at ``--rate`` a second for
``--seconds``, from a pool of client threads, and a tenth of them twice (a vendor's retry).  Then it counts
the inbox: every delivery answered 200 must be committed exactly once (``lost`` and ``duplicated`` are 0),
and every second copy must be refused as a replay (409).  It also reports the answer latencies and the
rate actually reached (the client and the receiver share this machine's cores).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.common import emit, pg_available, store
from continuum.kit.registry import plugin
from continuum.store.db import make_engine
from continuum.store.tables import inbox

# Benchmark-only secrets, in the Connections' extra as a deployment would hold them.
SECRETS: dict[str, dict[str, str]] = {
    "github": {"webhook_secret": "bench-gh"}, "discourse": {"webhook_secret": "bench-dc"},
    "jira": {"webhook_secret": "bench-jira"}, "slack": {"signing_secret": "bench-slack"},
    "x": {"consumer_secret": "bench-x"}, "facebook": {"app_secret": "bench-fb", "verify_token": "bench-fb-t"},
    "box": {"primary_signature_key": "bench-box-1", "secondary_signature_key": "bench-box-2"},
}
EVENTS = {"github": "issues", "discourse": "post:post_created"}
REPLAY_EVERY = 10  # one delivery in ten is sent twice


def _body(system: str, n: int) -> bytes:
    nonce = f"{n}-{uuid.uuid4().hex}"
    payloads: dict[str, Any] = {
        "github": {"action": "opened", "issue": {"number": n, "title": nonce}},
        "discourse": {"post": {"id": n, "topic_id": 1, "raw": nonce}},
        "jira": {"webhookEvent": "jira:issue_updated", "issue": {"id": str(n)}, "n": nonce},
        "slack": {"type": "event_callback", "event_id": f"Ev{nonce}", "event": {"type": "message"}},
        "x": {"for_user_id": "1", "tweet_create_events": [{"id_str": str(n), "text": nonce}]},
        "facebook": {"object": "page", "entry": [{"id": "1", "changes": [
            {"field": "feed", "value": {"post_id": f"1_{n}", "message": nonce}}]}]},
        "box": {"trigger": "FILE.UPLOADED", "source": {"id": str(n), "type": "file"}, "id": nonce},
    }
    return json.dumps(payloads[system]).encode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_receiver(db_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CONTINUUM_DB_URL": db_url}
    for name, secrets in SECRETS.items():
        env[f"AIRFLOW_CONN_CONTINUUM_{name.upper()}"] = json.dumps(
            {"conn_type": name, "host": f"https://{name}.example", "login": "hub", "password": "x", "extra": secrets})
    server = subprocess.Popen([sys.executable, "-m", "continuum.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("continuum serve did not start")


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def run(db_url: str, store: str, rate: int, seconds: float, threads: int) -> None:
    port = _free_port()
    server = _start_receiver(db_url, port)
    systems = sorted(SECRETS)
    verifiers = {name: plugin(name).webhook_verifier() for name in systems}
    statuses: Counter[str] = Counter()
    replays: Counter[str] = Counter()
    latencies: list[float] = []
    accepted: list[tuple[str, str]] = []
    lock = threading.Lock()
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          limits=httpx.Limits(max_connections=threads, max_keepalive_connections=threads))

    def send(n: int) -> None:
        system = systems[n % len(systems)]
        body, delivery = _body(system, n), uuid.uuid4().hex
        verifier: Any = verifiers[system]
        headers = verifier.sign(body, SECRETS[system], datetime.now(UTC), delivery, EVENTS.get(system, ""))
        started = time.perf_counter()
        try:
            answer = client.post(f"/hooks/{system}", content=body, headers=headers)
        except httpx.HTTPError as exc:
            with lock:
                statuses[type(exc).__name__] += 1
            return
        took = time.perf_counter() - started
        again = client.post(f"/hooks/{system}", content=body, headers=headers) if n % REPLAY_EVERY == 0 else None
        with lock:
            statuses[str(answer.status_code)] += 1
            latencies.append(took)
            if answer.status_code == 200:
                accepted.append((system, answer.json()["delivery"]))
            if again is not None:
                replays[str(again.status_code)] += 1

    total = int(rate * seconds)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for n in range(total):
            due = started + n / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pool.submit(send, n)
    elapsed = time.perf_counter() - started
    client.close()
    server.terminate()
    server.wait(timeout=30)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(inbox.c.system, inbox.c.delivery_id)).all()
        committed = int(conn.execute(select(func.count()).select_from(inbox)).scalar_one())
    engine.dispose()
    kept = Counter((r.system, r.delivery_id) for r in rows)
    lost = sum(1 for key in accepted if key not in kept)
    emit("webhook_receiver_load", total, {
        "rate_target_per_s": rate, "seconds_target": seconds,
        "rate_reached_per_s": round(total / elapsed, 1), "sent": total,
        "accepted_200": statuses.get("200", 0), "other_answers": total - statuses.get("200", 0),
        "committed": committed, "lost": lost, "duplicated": sum(n - 1 for n in kept.values() if n > 1),
        "replays_sent": sum(replays.values()), "replays_refused_409": replays.get("409", 0),
        "answer_p50_ms": _percentile(latencies, 0.50), "answer_p95_ms": _percentile(latencies, 0.95),
        "answer_p99_ms": _percentile(latencies, 0.99),
    }, store=store, client_threads=threads, answers=dict(statuses))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=200, help="deliveries a second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--full", action="store_true", help="(the default sizes already are the full run)")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    kinds = ["sqlite"] if args.sqlite_only or pg_available() is not None else ["sqlite", "postgresql"]
    with tempfile.TemporaryDirectory(prefix="continuum-bench-hooks-") as folder:
        for kind in kinds:
            with store(kind, Path(folder)) as engine:
                url = engine.url.render_as_string(hide_password=False)
                run(url, kind, args.rate, args.seconds, args.threads)


if __name__ == "__main__":
    main()
