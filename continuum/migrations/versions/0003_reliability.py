"""reliability: retry clocks for expiry, per-record effect ordering index

Revision ID: 0003_reliability
Revises: 0002
Create Date: 2026-11-23 09:00:00

``retry_since`` starts when an effect (or a dead letter) first fails and is
reset by ``continuum replay``; once it is older than the retry period the row
goes to the final, visible ``expired`` state.  The index serves the
"a later effect of a record waits behind its failed earlier one" check.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003_reliability'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_outbox_record_order', ['system', 'record_type', 'record_id'], unique=False)
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_since', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.drop_column('retry_since')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_record_order')
        batch_op.drop_column('retry_since')
