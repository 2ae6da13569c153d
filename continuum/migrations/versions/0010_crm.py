"""crm_fields: each synced field of a CRM contact as the last sync left it (the CRM's value and the hub's)

Revision ID: 0010_crm
Revises: 0009_erasure
Create Date: 2026-12-02 16:00:00

Each side's change is judged against its own last value: a value the hub wrote, read back unchanged, is no
change (no echo writes), and a conflict the CRM won is not re-sent by the hub.
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
        sa.Column('crm_value', sa.JSON(), nullable=True),
        sa.Column('hub_value', sa.JSON(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('pipeline', 'system', 'contact_id', 'field', name=op.f('pk_crm_fields')),
    )


def downgrade() -> None:
    op.drop_table('crm_fields')
