"""The store's sealing key: where it comes from, what happens without it, and how it is rotated."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from continuum.kit.secretbox import SecretBox, SecretKeyMissing
from continuum.ops.problems import EXIT_CONFIG, SettingError, describe, scrub


def test_a_sealed_secret_holds_no_trace_of_the_value_and_opens_again() -> None:
    box = SecretBox([Fernet.generate_key().decode()])
    sealed = box.seal("refresh-abc123")
    assert "refresh-abc123" not in sealed and box.open(sealed) == "refresh-abc123"
    assert box.seal("refresh-abc123") != sealed  # a fresh IV each time: equal tokens are not seen as equal


def test_fingerprints_tell_a_changed_value_and_depend_on_the_key() -> None:
    one, other = SecretBox([Fernet.generate_key().decode()]), SecretBox([Fernet.generate_key().decode()])
    assert one.fingerprint("seed-1") == one.fingerprint("seed-1") != one.fingerprint("seed-2")
    assert one.fingerprint("seed-1") != other.fingerprint("seed-1")  # no offline guessing without the key


def test_rotating_the_key_keeps_old_rows_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("CONTINUUM_SECRET_KEY", old)
    sealed = SecretBox.from_settings("tokens").seal("token-1")
    monkeypatch.setenv("CONTINUUM_SECRET_KEY", f"{new},{old}")
    rotated = SecretBox.from_settings("tokens")
    assert rotated.open(sealed) == "token-1"
    resealed = rotated.seal("token-1")
    assert Fernet(new.encode()).decrypt(resealed.encode()) == b"token-1"  # the first key seals
    monkeypatch.setenv("CONTINUUM_SECRET_KEY", new)
    with pytest.raises(SettingError, match="sealed with another key"):
        SecretBox.from_settings("tokens").open(sealed)


def test_no_key_and_a_bad_key_are_one_line_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUUM_SECRET_KEY", raising=False)
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "")
    with pytest.raises(SecretKeyMissing) as missing:
        SecretBox.from_settings("X's rotating OAuth tokens")
    problem = describe(missing.value)
    assert problem is not None and problem.code == EXIT_CONFIG
    assert problem.lines[0].startswith("CONTINUUM_SECRET_KEY is not set")
    monkeypatch.setenv("CONTINUUM_SECRET_KEY", "not-a-fernet-key-4711")
    with pytest.raises(SettingError) as bad:
        SecretBox.from_settings("tokens")
    assert "not a Fernet key" in str(bad.value) and "not-a-fernet-key-4711" not in str(bad.value)


def test_the_key_never_reaches_a_cli_line(monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("CONTINUUM_SECRET_KEY", key)
    assert key not in scrub(f"something echoed {key} by a library")
