"""first_contacts: each customer's first inbound interaction, so first contact is a lookup, not a history scan

Revision ID: 0013_first_contacts
Revises: 0012_crm_changes
Create Date: 2026-12-03 12:45:00

Filled from the interactions already stored; the read stage keeps it from then on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_first_contacts'
down_revision = '0012_crm_changes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'first_contacts',
        sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('interaction_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_first_contacts')),
    )
    op.execute("INSERT INTO first_contacts (customer_id, interaction_id) "
               "SELECT customer_id, MIN(id) FROM interactions "
               "WHERE customer_id IS NOT NULL AND direction = 'inbound' GROUP BY customer_id")


def downgrade() -> None:
    op.drop_table('first_contacts')
