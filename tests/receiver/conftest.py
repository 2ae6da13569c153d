"""A receiver for the shipped config's systems, on a fresh SQLite store, with the webhook secrets set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from continuum.config import load_config
from continuum.receiver import ReceiverSettings
from continuum.store.db import open_store
from tests.receiver.harness import Receiver, connection_env, running_receiver

MAX_BODY = 64 * 1024


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    env = connection_env()
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    db = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with running_receiver(load_config(), db, ReceiverSettings(max_body=MAX_BODY, secrets_ttl_s=0)) as running:
            yield running
    finally:
        db.dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
