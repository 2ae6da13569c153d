"""oauth_tokens: a system account's current access token, its expiry and latest refresh token, sealed

Revision ID: 0011_tokens
Revises: 0010_crm
Create Date: 2026-12-03 12:00:00

Platforms that rotate refresh tokens on every use need a place the next run finds the new one; the values
are Fernet-sealed (CONTINUUM_SECRET_KEY or Airflow's [core] fernet_key), never stored in clear text.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_tokens'
down_revision = '0010_crm'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'oauth_tokens',
        sa.Column('system', sa.String(length=64), nullable=False),
        sa.Column('account', sa.String(length=256), nullable=False),
        sa.Column('access_token', sa.Text(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refresh_token', sa.Text(), nullable=True),
        sa.Column('seed_fingerprint', sa.String(length=64), nullable=True),
        sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('system', 'account', name=op.f('pk_oauth_tokens')),
    )


def downgrade() -> None:
    op.drop_table('oauth_tokens')
