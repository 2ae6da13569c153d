"""crm_fields: the last value both sides agreed on, per CRM contact and two-way field

Revision ID: 0010_crm
Revises: 0009_erasure
Create Date: 2026-12-02 16:00:00

A field the mapping syncs out or both ways keeps here the value last read from or written to the CRM; a value
the hub wrote, read back unchanged, equals it and is no change (no echo writes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_crm'
down_revision = '0009_erasure'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'crm_fields',
        sa.Column('pipeline', sa.String(length=128), nullable=False),
        sa.Column('system', sa.String(length=64), nullable=False),
        sa.Column('contact_id', sa.String(length=256), nullable=False),
        sa.Column('field', sa.String(length=128), nullable=False),
        sa.Column('value', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('pipeline', 'system', 'contact_id', 'field', name=op.f('pk_crm_fields')),
    )


def downgrade() -> None:
    op.drop_table('crm_fields')
