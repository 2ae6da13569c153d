"""Secrets the hub keeps in its own store (rotating OAuth tokens), sealed with Fernet.

The key is ``CONTINUUM_SECRET_KEY`` or, when that is unset, Airflow's own ``[core] fernet_key`` (the key
Airflow encrypts its Connections with), so a deployment that already protects its Connections needs nothing
new.  Both may hold several comma-separated keys: the first seals, every one opens, which is how a key is
rotated (put the new key first, keep the old one until every row was rewritten).  With no key the hub
refuses to store a secret: a token in clear text in a database backup is exactly what this guards against.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from continuum.ops.problems import SettingError

KEY_SETTING = "CONTINUUM_SECRET_KEY"
MAKE_KEY = "python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\""


class SecretKeyMissing(SettingError):
    """No key to seal the store's secrets with (a configuration mistake: exit code 2)."""


def _airflow_key() -> str:
    try:
        from airflow.configuration import conf

        return str(conf.get("core", "fernet_key", fallback="") or "")
    except Exception:  # Airflow absent or its config unreadable: only our own setting counts then
        return ""


def _mask(value: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(value)


def _keys() -> list[str]:
    raw = os.environ.get(KEY_SETTING, "").strip() or _airflow_key().strip()
    return [k.strip() for k in raw.split(",") if k.strip()]


class SecretBox:
    """Seal and open short secrets; ``fingerprint`` tells whether a value changed without storing it."""

    def __init__(self, keys: list[str]) -> None:
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except ValueError:
            raise SettingError(f"{KEY_SETTING} (or Airflow's [core] fernet_key) is not a Fernet key: make one "
                               f"with `{MAKE_KEY}`") from None
        # A key of its own for fingerprints, derived from the sealing key: a fingerprint reveals nothing
        # about the value without the key, and never doubles as ciphertext.
        self._mac_key = hashlib.sha256(b"continuum-fingerprint:" + keys[0].encode()).digest()

    @classmethod
    def from_settings(cls, purpose: str) -> SecretBox:
        """The box for the configured key; without one, one line naming the setting and ``purpose``."""
        keys = _keys()
        if not keys:
            raise SecretKeyMissing(f"{KEY_SETTING} is not set (nor Airflow's [core] fernet_key): the hub will not "
                                   f"store {purpose} unencrypted; set {KEY_SETTING} to a Fernet key (`{MAKE_KEY}`)")
        for key in keys:  # a task log must not show the key any more than the tokens it seals
            _mask(key)
        return cls(keys)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SettingError(f"a secret in the store was sealed with another key than {KEY_SETTING} (or "
                               "Airflow's [core] fernet_key) holds now: put the old key after the new one, "
                               "comma-separated") from None

    def fingerprint(self, secret: str) -> str:
        return hmac.new(self._mac_key, secret.encode(), hashlib.sha256).hexdigest()
