"""tombstones: records their authors deleted, so that a later read never brings them back

Revision ID: 0005_tombstones
Revises: 0004_request_matching
Create Date: 2026-12-01 23:00:00

A record the platform reports deleted leaves a tombstone (system, source id): its interaction, if the hub had
one, is marked ``deleted`` and its text purged from the store; the tombstone keeps a later read of the same id
(a feed that re-serves it, a backfill from scratch) from creating it again.  It holds no customer text.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_tombstones'
down_revision = '0004_request_matching'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tombstones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('system', sa.String(length=64), nullable=False),
        sa.Column('source_id', sa.String(length=256), nullable=False),
        sa.Column('interaction_id', sa.Integer(), nullable=True),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tombstones')),
        sa.UniqueConstraint('system', 'source_id', name=op.f('uq_tombstones_system_source_id')),
    )


def downgrade() -> None:
    op.drop_table('tombstones')
