"""The connector kit: everything a connector author builds on.

A connector is a small folder that composes these pieces:

* :mod:`~continuum.kit.config`: a typed config with ``from_connection``;
* :mod:`~continuum.kit.errors`: one client error type with ``is_auth_error``;
* :mod:`~continuum.kit.pagination`: paginators that detect a repeating page or token;
* :mod:`~continuum.kit.cursors`: typed, frozen stream cursors (the engine stores them);
* :mod:`~continuum.kit.dispatch`: action -> handler, one result per effect (``held`` for policy holds);
* :mod:`~continuum.kit.text`: answers fitted to a length limit (numbered parts, or shortened with a link);
* :mod:`~continuum.kit.ratelimit`: a platform's rate-limit headers, and the clean stop when a window is spent;
* :mod:`~continuum.kit.plugin`: the one object a system registers under the
  ``continuum.connectors`` entry point; :mod:`~continuum.kit.registry` finds them.

Nothing here imports a simulator, werkzeug or a vendor library.
"""

from __future__ import annotations

from continuum.connector import (
    JSON,
    Capabilities,
    ConnectionInfo,
    Connector,
    Effect,
    EffectResult,
    Page,
    SourceRecord,
)
from continuum.kit.config import ConnectorConfig
from continuum.kit.cursors import Stream, StreamCursor
from continuum.kit.dispatch import EffectDispatcher, failed, held, succeeded
from continuum.kit.errors import ClientError, PermanentError
from continuum.kit.pagination import (
    BeforeIdPaginator,
    CursorPaginator,
    Fetched,
    LinkHeaderPaginator,
    NextTokenPaginator,
    OffsetPaginator,
    PageLoopError,
    walk,
)
from continuum.kit.plugin import ConnectorPlugin
from continuum.kit.ratelimit import RateLimitExhausted, RateLimitHeaders
from continuum.kit.text import shorten_with_link, split_for_limit

__all__ = [
    "JSON",
    "BeforeIdPaginator",
    "Capabilities",
    "ClientError",
    "ConnectionInfo",
    "Connector",
    "ConnectorConfig",
    "ConnectorPlugin",
    "CursorPaginator",
    "Effect",
    "EffectDispatcher",
    "EffectResult",
    "Fetched",
    "LinkHeaderPaginator",
    "NextTokenPaginator",
    "OffsetPaginator",
    "Page",
    "PageLoopError",
    "PermanentError",
    "RateLimitExhausted",
    "RateLimitHeaders",
    "SourceRecord",
    "Stream",
    "StreamCursor",
    "failed",
    "held",
    "shorten_with_link",
    "split_for_limit",
    "succeeded",
    "walk",
]
