"""sla and feature requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 20:36:26.017694
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feature_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_text', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('voices_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_policy', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_column('answered_at')
        batch_op.drop_column('sla_policy')

    with op.batch_alter_table('feature_requests', schema=None) as batch_op:
        batch_op.drop_column('shipped_at')
        batch_op.drop_column('voices_hash')
        batch_op.drop_column('match_text')

