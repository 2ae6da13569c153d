"""The base of every connector's typed config, and the one way to build it from a Connection.

A system's config subclasses :class:`ConnectorConfig`, declares its fields
(secrets as ``SecretStr``) and says which Connection field fills which config
field::

    class DiscourseConfig(ConnectorConfig):
        system: ClassVar[str] = "discourse"
        connection_fields: ClassVar[dict[str, str]] = {"login": "api_username", "password": "api_key"}
        api_username: str
        api_key: SecretStr

``from_connection`` then checks the URL once, rejects options it does not
know (a typo in the hub config is an error, not a silently ignored key),
takes only known keys from the Connection's ``extra`` (extras may hold keys
for other tools), and reports a missing credential by the Connection's id and
the field's label, never by its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, PrivateAttr, SecretStr, ValidationError, field_validator

from continuum.connector import ConnectionInfo


class ConfigError(ValueError):
    """A connection or options that cannot make a working config; the message says which and what to do."""


class ConnectorConfig(BaseModel):
    # hide_input_in_errors: a rejected token must never reach a log through the error text.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    system: ClassVar[str] = "connector"
    # Connection attribute (host, login, password) -> config field.
    connection_fields: ClassVar[dict[str, str]] = {"host": "url"}
    # Labels for error messages: which connection field a person should fill in.
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the system's URL)", "login": "login",
                                               "password": "password"}
    # A bare host in a Connection ("acme.atlassian.net") gets this scheme; None makes it an error.
    default_scheme: ClassVar[str | None] = None
    # The URL used when the Connection has no host (Slack's is always slack.com).
    default_url: ClassVar[str | None] = None
    # Fields only the Connection's ``extra`` may fill, never a sync option: credentials (a refresh token, a
    # client secret) belong in a Connection or a secrets backend, not in the hub config file.
    extra_fields: ClassVar[frozenset[str]] = frozenset()

    url: str
    _connection_id: str = PrivateAttr(default="")

    @field_validator("url", mode="before")
    @classmethod
    def _check_url(cls, value: Any) -> str:
        text = str(value or "").strip().rstrip("/")
        if not text:
            raise ValueError("the URL is empty")
        if "://" not in text and cls.default_scheme:
            text = f"{cls.default_scheme}://{text}"
        if not text.startswith(("http://", "https://")):
            raise ValueError("the URL must start with http:// or https://")
        return text

    @classmethod
    def option_names(cls) -> set[str]:
        return set(cls.model_fields) - set(cls.connection_fields.values()) - cls.extra_fields

    @classmethod
    def from_connection(cls, conn: ConnectionInfo, options: Mapping[str, Any] | None = None) -> Self:
        stray = sorted(set(options or {}) - cls.option_names())
        if stray:
            raise ConfigError(f"{cls.system}: unknown option(s) {', '.join(stray)} for connection {conn.conn_id!r} "
                              f"(known: {', '.join(sorted(cls.option_names())) or 'none'})")
        known = cls.option_names() | cls.extra_fields
        values: dict[str, Any] = {k: v for k, v in (conn.extra or {}).items() if k in known}
        values.update(options or {})
        for attribute, name in cls.connection_fields.items():
            given = getattr(conn, attribute, None)
            if attribute == "host" and not given:
                given = cls.default_url
            if given in (None, ""):
                if cls.model_fields[name].is_required():
                    label = cls.field_labels.get(attribute, attribute)
                    raise ConfigError(f"{cls.system}: connection {conn.conn_id!r} has no {label}; "
                                      f"set it on the Airflow Connection or in AIRFLOW_CONN_{conn.conn_id.upper()}")
                continue
            values[name] = SecretStr(given) if _is_secret(cls, name) else given
        try:
            config = cls(**values)
        except ValidationError as exc:
            raise ConfigError(f"{cls.system}: connection {conn.conn_id!r}: {readable(exc)}") from None
        # Which Connection it came from, for messages that tell a person where to put a new credential.
        config._connection_id = conn.conn_id
        return config

    @property
    def connection_id(self) -> str:
        return self._connection_id


def _is_secret(cls: type[BaseModel], name: str) -> bool:
    annotation = cls.model_fields[name].annotation
    return annotation is SecretStr or (getattr(annotation, "__args__", None) is not None
                                       and SecretStr in annotation.__args__)  # type: ignore[union-attr]


def readable(exc: ValidationError) -> str:
    """A pydantic error as one line a person can act on: ``field: problem; field: problem``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "config"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
