"""request matching: embedding cache, feature-request members, scopes, reviews

Revision ID: 0004_request_matching
Revises: 0003_reliability
Create Date: 2026-12-01 19:00:00

Feature requests are matched by sentence embeddings against every request
they gathered (``request_members``), within one scope (``request_profiles``);
vectors are cached per model and text hash (``embedding_cache``); suggested
matches and people's confirmations and rejections are kept
(``request_reviews``).  Feature requests from before this revision are
adopted on first use: their first request becomes their founding member.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004_request_matching'
down_revision = '0003_reliability'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'embedding_cache',
        sa.Column('model', sa.String(length=128), nullable=False),
        sa.Column('text_hash', sa.String(length=64), nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.PrimaryKeyConstraint('model', 'text_hash', name=op.f('pk_embedding_cache')),
    )
    op.create_table(
        'request_members',
        sa.Column('interaction_id', sa.Integer(), nullable=False),
        sa.Column('feature_request_id', sa.Integer(), nullable=False),
        sa.Column('text_hash', sa.String(length=64), nullable=False),
        sa.Column('joined', sa.String(length=16), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'],
                                name=op.f('fk_request_members_interaction_id_interactions')),
        sa.ForeignKeyConstraint(['feature_request_id'], ['feature_requests.id'],
                                name=op.f('fk_request_members_feature_request_id_feature_requests')),
        sa.PrimaryKeyConstraint('interaction_id', name=op.f('pk_request_members')),
    )
    op.create_index(op.f('ix_request_members_feature_request_id'), 'request_members', ['feature_request_id'])
    op.create_table(
        'request_profiles',
        sa.Column('feature_request_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=256), nullable=False),
        sa.Column('held', sa.Boolean(), nullable=False),
        sa.Column('merged_into', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['feature_request_id'], ['feature_requests.id'],
                                name=op.f('fk_request_profiles_feature_request_id_feature_requests')),
        sa.ForeignKeyConstraint(['merged_into'], ['feature_requests.id'],
                                name=op.f('fk_request_profiles_merged_into_feature_requests')),
        sa.PrimaryKeyConstraint('feature_request_id', name=op.f('pk_request_profiles')),
    )
    op.create_index(op.f('ix_request_profiles_scope'), 'request_profiles', ['scope'])
    op.create_table(
        'request_reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('feature_request_id', sa.Integer(), nullable=False),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('interaction_id', sa.Integer(), nullable=True),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('why', sa.String(length=500), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('origin', sa.String(length=16), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('decided_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['feature_request_id'], ['feature_requests.id'],
                                name=op.f('fk_request_reviews_feature_request_id_feature_requests')),
        sa.ForeignKeyConstraint(['candidate_id'], ['feature_requests.id'],
                                name=op.f('fk_request_reviews_candidate_id_feature_requests')),
        sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'],
                                name=op.f('fk_request_reviews_interaction_id_interactions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_request_reviews')),
        sa.UniqueConstraint('feature_request_id', 'candidate_id', 'interaction_id',
                            name='uq_request_reviews_pair'),
    )
    op.create_index(op.f('ix_request_reviews_feature_request_id'), 'request_reviews', ['feature_request_id'])


def downgrade() -> None:
    op.drop_table('request_reviews')
    op.drop_table('request_profiles')
    op.drop_table('request_members')
    op.drop_table('embedding_cache')
