"""call_counts: HTTP calls per pipeline, system and day, for ``continuum report`` and beside ``continuum erase``

Revision ID: 0009_erasure
Revises: 0007_inbox
Create Date: 2026-12-02 07:00:00

Each stage's run adds the HTTP calls it made (and the retries and 429 answers among them) to its system's
row for the day.  The counts are kept apart from the audit trail, which records changes: a re-run that
changes nothing still calls the systems, and must add no audit event.  The report's "calls per system" reads
this table.  (The revision id is the one the erasure work was given; erasure itself needs no new table: it
reuses the tombstones of revision 0005.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_erasure'
down_revision = '0007_inbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'call_counts',
        sa.Column('pipeline', sa.String(length=128), nullable=False),
        sa.Column('system', sa.String(length=64), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('retries', sa.Integer(), nullable=False),
        sa.Column('throttled', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('pipeline', 'system', 'day', name=op.f('pk_call_counts')),
    )


def downgrade() -> None:
    op.drop_table('call_counts')
