"""inbox: signed webhook deliveries, committed before the receiver answers

Revision ID: 0007_inbox
Revises: 0006_attachments
Create Date: 2026-12-02 07:00:00

One row per (system, delivery id): the unique key is what refuses a replayed delivery, whichever
receiver it reaches.  ``continuum inbox process`` (the event DAG's task) runs the pipelines that read
the systems with pending rows and marks them processed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_inbox'
down_revision = '0006_attachments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'inbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('system', sa.String(length=64), nullable=False),
        sa.Column('delivery_id', sa.String(length=256), nullable=False),
        sa.Column('event_type', sa.String(length=128), nullable=False),
        sa.Column('subjects', sa.JSON(), nullable=False),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
        sa.UniqueConstraint('system', 'delivery_id', name=op.f('uq_inbox_system_delivery_id')),
    )
    op.create_index('ix_inbox_state_id', 'inbox', ['state', 'id'])


def downgrade() -> None:
    op.drop_index('ix_inbox_state_id', table_name='inbox')
    op.drop_table('inbox')
