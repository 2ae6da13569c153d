"""crm_fields.hub_changed_at: when the hub's own value of a synced CRM field last changed; customers.owner

Revision ID: 0012_crm_changes
Revises: 0011_tokens
Create Date: 2026-12-03 12:00:00

A `wins: later` field that changed on both sides since the last sync takes the later change: the CRM
record's modification time against this, the time the hub's value changed (not when the stage saw it).
The customer's owner is the CRM contact's (Salesforce OwnerId, HubSpot hubspot_owner_id), read by the sync.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_crm_changes'
down_revision = '0011_tokens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('crm_fields') as batch:
        batch.add_column(sa.Column('hub_changed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('owner', sa.String(length=256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('owner')
    with op.batch_alter_table('crm_fields') as batch:
        batch.drop_column('hub_changed_at')
