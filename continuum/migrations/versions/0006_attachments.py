"""attachments: customers' files, stored once per customer and content in a document store

Revision ID: 0006_attachments
Revises: 0005_tombstones
Create Date: 2026-12-05 10:00:00

``attachments`` lists the files each interaction carried (name, size, type, SHA-256); its ``content_b64`` holds
the bytes only until the file's store effect is planned (then the effect's outbox payload has them, until it is
done).  ``attachment_copies`` is the one stored copy per (document store, customer, SHA-256).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_attachments'
down_revision = '0005_tombstones'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('interaction_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=500), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=200), nullable=True),
        sa.Column('content_b64', sa.Text(), nullable=True),
        sa.Column('source_url', sa.String(length=2048), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('ticket_record', sa.Integer(), nullable=True),
        sa.Column('ticket_system', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
        sa.UniqueConstraint('interaction_id', 'sha256', name=op.f('uq_attachments_interaction_id_sha256')),
    )
    op.create_index(op.f('ix_attachments_interaction_id'), 'attachments', ['interaction_id'])
    op.create_index('ix_attachments_state', 'attachments', ['state'])
    op.create_table(
        'attachment_copies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('system', sa.String(length=64), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('external_id', sa.String(length=256), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=True),
        sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_copies')),
        sa.UniqueConstraint('system', 'customer_id', 'sha256',
                            name=op.f('uq_attachment_copies_system_customer_id_sha256')),
    )


def downgrade() -> None:
    op.drop_table('attachment_copies')
    op.drop_index('ix_attachments_state', table_name='attachments')
    op.drop_index(op.f('ix_attachments_interaction_id'), table_name='attachments')
    op.drop_table('attachments')
