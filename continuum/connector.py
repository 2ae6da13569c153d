"""The small contract every connector implements, and the values it exchanges.

Connectors are stateless with respect to sync progress: the engine owns
cursors and links, hands a connector the cursor, and persists what comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

JSON = dict[str, Any]


@dataclass(frozen=True)
class Attachment:
    """A file a customer attached to a record (a screenshot, a log), as the connector read it.

    ``sha256`` (hex, of the whole file) is what makes the same file sent twice one stored copy.  ``content_b64``
    carries the bytes when the connector kept them (connectors cap what they carry); ``url`` is where the
    document store may fetch them instead.  Neither: only the name, size and hash are known, and the document
    store's size limit decides.
    """

    name: str
    content_type: str | None
    size: int
    sha256: str
    content_b64: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SourceRecord:
    """One object read from a system, before mapping.

    ``object_type`` plus ``external_id`` identify it inside its system
    (e.g. ``post``/``123``); ``parent_id`` names the object it hangs under,
    when it is a child (a comment under an issue).
    """

    stream: str
    object_type: str
    external_id: str
    payload: JSON
    version: str | None = None
    parent_id: str | None = None
    # The idempotency key the hub stored on this object when it wrote it: the engine skips it even
    # when a crash came between the write and its link (no echo of the hub's own voice).
    own_key: str | None = None
    # The author deleted it on the platform: the engine marks the interaction deleted and purges its text.
    deleted: bool = False
    # Read, but one of its fields cannot be made sense of (a broken charset, say): ``(field, why)``.  The engine
    # keeps it as a dead letter naming the record and the field, and the rest of the page goes on.
    problem: tuple[str, str] | None = None
    # Files attached to it: stored once per customer in the pipeline's document store, linked from the ticket.
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Page:
    """A page of records plus the cursor that is safe to store once they are committed."""

    records: Sequence[SourceRecord]
    # A typed cursor (continuum.kit.cursors.StreamCursor) or its JSON; the engine stores the JSON.
    cursor: Any


@dataclass(frozen=True)
class Effect:
    """One planned change on an external system, as stored in the outbox.

    ``key`` is deterministic, so a re-run plans the very same effect; the
    connector stores it on the object it creates so that a retry after a crash
    finds that object instead of creating a second one.  ``maybe_applied`` is
    true when an earlier attempt may have reached the system.
    """

    key: str
    action: str  # create | update | comment | reply | transition
    object_type: str
    fields: JSON
    target_id: str | None = None  # the parent object for comment/reply/transition/update
    maybe_applied: bool = False
    context: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class EffectResult:
    key: str
    ok: bool
    external_id: str | None = None
    object_type: str | None = None
    version: str | None = None
    url: str | None = None
    error: str | None = None
    found_existing: bool = False  # true when a retry found the object made under the key
    # Not sent, on purpose, because the platform's policy forbids it now (Messenger's 24-hour window): the
    # engine keeps the effect held and flagged instead of retrying it or calling it failed.
    held: bool = False
    # A retry cannot change the outcome (the connector said so): a dead letter at once, not after every attempt.
    permanent: bool = False
    # When the target says it made the object (a reply's creation time): an answer's time comes from here,
    # so a store rebuilt by `continuum reconcile` records the same time as the store that sent it.
    made_at: datetime | None = None


@dataclass(frozen=True)
class Capabilities:
    streams: tuple[str, ...]
    effects: tuple[str, ...]
    bulk_sizes: Mapping[str, int] = field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    """What the engine needs from a system."""

    system: str
    capabilities: Capabilities
    # The account the connector acts as; what it authored is the company's voice.
    account: str | None

    def check(self) -> None:
        """Raise if the system cannot be reached with the given credentials."""

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        """Yield pages of records changed after ``cursor``, oldest first."""

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """Apply effects (batched where the API allows) and report each one."""

    def escape_text(self, text: str) -> str:
        """Make customer text inert in this system's markup."""


@dataclass(frozen=True)
class ConnectionInfo:
    """Credentials and address resolved from an Airflow Connection or the environment."""

    conn_id: str
    host: str
    login: str | None = None
    password: str | None = None
    extra: JSON = field(default_factory=dict)


ConnectorFactory = Callable[[ConnectionInfo, JSON], Connector]
