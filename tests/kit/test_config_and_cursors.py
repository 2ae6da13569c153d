"""The config base (from_connection) and typed cursors."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import SecretStr, ValidationError

from continuum.connector import ConnectionInfo
from continuum.kit.config import ConfigError, ConnectorConfig
from continuum.kit.cursors import StreamCursor, cursor_json


class ForumConfig(ConnectorConfig):
    system: ClassVar[str] = "forum"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "login": "user", "password": "key"}
    default_scheme: ClassVar[str | None] = "https"
    user: str
    key: SecretStr
    page_size: int = 50


def conn(**overrides: object) -> ConnectionInfo:
    values: dict[str, object] = {"conn_id": "forum_main", "host": "forum.example.com/", "login": "bot",
                                 "password": "s3cr3t-value", "extra": {"page_size": 20, "other_tool": 1}}
    values.update(overrides)
    return ConnectionInfo(**values)  # type: ignore[arg-type]


def test_from_connection_normalises_the_url_keeps_secrets_secret_and_takes_known_extras() -> None:
    config = ForumConfig.from_connection(conn(), {})
    assert config.url == "https://forum.example.com"
    assert config.key.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(config) and "s3cr3t-value" not in str(config.model_dump())
    assert config.page_size == 20  # from the extra; other_tool ignored
    assert ForumConfig.from_connection(conn(), {"page_size": 5}).page_size == 5  # options win


def test_unknown_options_missing_credentials_and_bad_values_are_one_clear_line() -> None:
    with pytest.raises(ConfigError, match=r"forum: unknown option\(s\) pagesize for connection 'forum_main'"):
        ForumConfig.from_connection(conn(), {"pagesize": 5})
    with pytest.raises(ConfigError, match=r"connection 'forum_main' has no password; set it .*AIRFLOW_CONN_FORUM_MAIN"):
        ForumConfig.from_connection(conn(password=None))
    with pytest.raises(ConfigError, match="forum: connection 'forum_main': page_size: Input should be a valid integer"):
        ForumConfig.from_connection(conn(), {"page_size": "many"})
    with pytest.raises(ConfigError, match="url: Value error, the URL must start with http"):
        type("Strict", (ForumConfig,), {"default_scheme": None}).from_connection(conn())


class PostsCursor(StreamCursor):
    last_post_id: int = 0
    etag: str | None = None


def test_cursors_round_trip_and_a_malformed_one_names_its_type() -> None:
    cursor = PostsCursor(last_post_id=42)
    assert cursor.to_json() == {"last_post_id": 42}
    assert PostsCursor.from_json(cursor.to_json()) == cursor
    assert PostsCursor.from_json(None) == PostsCursor()
    assert cursor_json(cursor) == {"last_post_id": 42} and cursor_json({"a": 1}) == {"a": 1}
    with pytest.raises(ValueError, match=r"stored cursor for PostsCursor is not valid .last_post_id"):
        PostsCursor.from_json({"last_post_id": "not a number"})
    with pytest.raises(ValidationError, match="frozen"):
        cursor.last_post_id = 7  # type: ignore[misc]  # frozen: the engine owns it
