"""The canonical store's tables (SQLAlchemy Core).

Uniqueness that the invariants rely on is declared here, so that the
database enforces it even when two runs race: one interaction per source
object, one identity per account, one link per external object, one outbox
row per idempotency key.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Stable constraint names keep Alembic migrations portable across SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TS = DateTime(timezone=True)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("display_name", String(300), nullable=False, default=""),
    Column("primary_email", String(320)),
    Column("tier", String(40), nullable=False, default="standard"),
    Column("merged_into", Integer, ForeignKey("customers.id")),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    # Who looks after them in the CRM: the contact's owner id there (Salesforce OwnerId, HubSpot's owner).
    Column("owner", String(256)),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("system", String(64), nullable=False),
    Column("account_id", String(256), nullable=False),
    Column("handle", String(256)),
    Column("email", String(320), index=True),
    Column("email_verified", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("system", "account_id"),
)

feature_requests = Table(
    "feature_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(500), nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("status", String(32), nullable=False, default="open"),
    Column("votes", Integer, nullable=False, default=0),
    Column("match_text", Text, nullable=False, default="", server_default=""),
    Column("voices_hash", String(64)),
    Column("shipped_at", TS),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_system", String(64), nullable=False),
    Column("source_id", String(256), nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), index=True),
    Column("thread_id", String(256), index=True),
    Column("parent_id", String(256)),
    Column("direction", String(16), nullable=False, default="inbound"),
    Column("kind", String(32), nullable=False, default="unknown"),
    Column("title", String(500), nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("language", String(16)),
    Column("url", String(2048)),
    Column("channel", String(128)),
    Column("created_at", TS),
    Column("updated_at", TS),
    Column("status", String(16), nullable=False, default="new"),
    Column("team", String(64)),
    Column("priority", String(16)),
    Column("sla_policy", String(64)),
    Column("sla_due", TS),
    Column("answered_at", TS),
    Column("route", String(64)),
    Column("feature_request_id", Integer, ForeignKey("feature_requests.id"), index=True),
    Column("in_reply_to", Integer, ForeignKey("interactions.id")),
    Column("is_thread_start", Boolean, nullable=False, default=False),
    Column("content_hash", String(64), nullable=False),
    Column("override", JSON),
    Column("first_seen_at", TS, nullable=False),
    Column("last_seen_at", TS, nullable=False),
    UniqueConstraint("source_system", "source_id"),
    Index("ix_interactions_status", "status"),
)

links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_type", String(32), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("system", String(64), nullable=False),
    Column("object_type", String(64), nullable=False),
    Column("external_id", String(256), nullable=False),
    Column("url", String(2048)),
    Column("external_version", String(128)),
    Column("content_hash", String(64)),
    Column("synced_at", TS, nullable=False),
    UniqueConstraint("system", "object_type", "external_id"),
    Index("ix_links_record", "record_type", "record_id", "system"),
)

cursors = Table(
    "cursors",
    metadata,
    Column("pipeline", String(128), primary_key=True),
    Column("system", String(64), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("partition", String(128), primary_key=True, default=""),
    Column("value", JSON, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# Two-way CRM sync: each field as the last sync left it, per contact: the CRM's value and the hub's
# (continuum.engine.crm), so a value the hub wrote, read back unchanged, is not a change (no echo).
crm_fields = Table(
    "crm_fields",
    metadata,
    Column("pipeline", String(128), primary_key=True),
    Column("system", String(64), primary_key=True),
    Column("contact_id", String(256), primary_key=True),
    Column("field", String(128), primary_key=True),
    Column("crm_value", JSON),
    Column("hub_value", JSON),
    Column("updated_at", TS, nullable=False),
    # When the hub's value last changed (its own record of the change): a `wins: later` conflict compares it
    # with the CRM record's modification time.
    Column("hub_changed_at", TS),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("pipeline", String(128), nullable=False),
    Column("system", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("object_type", String(64), nullable=False),
    Column("record_type", String(32), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("target_id", String(256)),
    Column("payload", JSON, nullable=False),
    Column("context", JSON, nullable=False),
    # pending -> sending -> done | failed (retry later) | dead (given up, visible)
    #   | expired (retried for longer than the retry period: final, visible)
    #   | held (the platform's policy forbids it now; offered to the connector again each run)
    Column("state", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("external_id", String(256)),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    # When the effect first failed (reset by replay); older than the retry period -> expired.
    Column("retry_since", TS),
    Index("ix_outbox_state_system", "state", "system"),
    Index("ix_outbox_record_order", "system", "record_type", "record_id"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pipeline", String(128), nullable=False),
    Column("system", String(64), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("stage", String(32), nullable=False),  # read | map | apply
    Column("record_key", String(256), nullable=False),
    Column("field", String(256)),
    Column("error", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("state", String(16), nullable=False, default="open"),  # open | resolved | expired
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("retry_since", TS),  # when retrying started (reset by replay); see outbox.retry_since
    UniqueConstraint("system", "stage", "record_key"),
)

# A record its author deleted: never created again by a later read of the same id (no customer text here).
tombstones = Table(
    "tombstones",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("system", String(64), nullable=False),
    Column("source_id", String(256), nullable=False),
    Column("interaction_id", Integer),  # None: deleted before the hub ever saw it
    Column("deleted_at", TS, nullable=False),
    UniqueConstraint("system", "source_id"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", TS, nullable=False),
    Column("pipeline", String(128)),
    Column("system", String(64)),
    Column("record_type", String(32), nullable=False),
    Column("record_id", Integer),
    Column("action", String(32), nullable=False),
    Column("changes", JSON, nullable=False),
)

# A file a customer attached to an interaction: its name, size, type and content hash.  The bytes are kept
# (``content_b64``) only until the file's store effect is planned; from then on they live in that effect's
# outbox payload, until it is done.
attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("interaction_id", Integer, nullable=False, index=True),
    Column("customer_id", Integer),
    Column("sha256", String(64), nullable=False),
    Column("name", String(500), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content_type", String(200)),
    Column("content_b64", Text),
    Column("source_url", String(2048)),
    # new (not planned yet) -> planned (its store effect planned, or a copy existed) -> linked (the ticket's
    # comment listing the files is planned)
    Column("state", String(16), nullable=False, default="new"),
    Column("ticket_record", Integer),  # the interaction whose ticket links to the file
    Column("ticket_system", String(64)),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("interaction_id", "sha256"),
    Index("ix_attachments_state", "state"),
)

# One stored copy per customer and content: the same file twice is stored once.
attachment_copies = Table(
    "attachment_copies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("system", String(64), nullable=False),
    Column("customer_id", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("external_id", String(256), nullable=False),
    Column("url", String(2048)),
    Column("stored_at", TS, nullable=False),
    UniqueConstraint("system", "customer_id", "sha256"),
)

# Signed webhook deliveries, committed before the receiver answers 2xx (``continuum serve``); one row per
# (system, delivery id), so a replayed delivery is refused by the database even across receivers.
inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("system", String(64), nullable=False),
    Column("delivery_id", String(256), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("subjects", JSON, nullable=False),
    # The delivery as received, until it is processed (then cleared: it may hold personal data).
    Column("body", Text),
    # pending -> processed | skipped (a delivery that changes no record, or no pipeline reads the system)
    Column("state", String(16), nullable=False, default="pending"),
    Column("received_at", TS, nullable=False),
    # When the event DAG's watcher last announced it to Airflow (None: not yet).
    Column("announced_at", TS),
    Column("processed_at", TS),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    UniqueConstraint("system", "delivery_id"),
    Index("ix_inbox_state_id", "state", "id"),
)


# HTTP calls per pipeline, system and day (each stage's run adds its own): what the report's "calls per
# system" reads.  Not audit events: a re-run that changes nothing still calls, and adds no audit event.
call_counts = Table(
    "call_counts",
    metadata,
    Column("pipeline", String(128), primary_key=True),
    Column("system", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("calls", Integer, nullable=False, default=0),
    Column("retries", Integer, nullable=False, default=0),
    Column("throttled", Integer, nullable=False, default=0),
    Column("updated_at", TS, nullable=False),
)


# OAuth tokens the hub keeps for a system's account because the platform rotates them (spends the refresh
# token on every use): each secret sealed with Fernet (continuum.kit.secretbox), never in clear text.
# ``seed_fingerprint`` is a keyed hash of the refresh token the Connection held when this row was seeded, so a
# new one put in the Connection (after re-authorising the app) is taken once and a stale one is ignored.
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("account", String(256), primary_key=True),
    Column("access_token", Text, nullable=True),  # sealed
    Column("expires_at", TS, nullable=True),
    Column("refresh_token", Text, nullable=True),  # sealed
    Column("seed_fingerprint", String(64), nullable=True),
    Column("refreshed_at", TS, nullable=True),
    Column("updated_at", TS, nullable=False),
)


# Each customer's first inbound interaction, kept as interactions arrive, so the ``first_contact`` rule fact
# is one lookup instead of a scan of the customer's whole history.  No foreign keys: a row whose interaction
# was deleted, or moved to another customer, is simply not trusted (continuum.store.first_contacts).
first_contacts = Table(
    "first_contacts",
    metadata,
    Column("customer_id", Integer, primary_key=True, autoincrement=False),
    Column("interaction_id", Integer, nullable=False),
)
