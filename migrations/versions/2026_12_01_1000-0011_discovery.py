"""discovery: the text index, hashtags and their followers, trend counters, dismissed suggestions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from glint.infra import search

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tag() -> sa.types.TypeEngine[str]:
    return sa.String(100).with_variant(sa.String(100, collation='C'), 'postgresql')


def upgrade() -> None:
    op.create_table('hashtags',
    sa.Column('tag', _tag(), nullable=False),
    sa.Column('post_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('post_count >= 0', name=op.f('ck_hashtags_post_count')),
    sa.PrimaryKeyConstraint('tag', name=op.f('pk_hashtags'))
    )
    op.create_table('hashtag_posts',
    sa.Column('tag', _tag(), nullable=False),
    sa.Column('post_id', sa.BigInteger(), nullable=False),
    sa.Column('author_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tag', 'post_id', name=op.f('pk_hashtag_posts'))
    )
    op.create_index('ix_hashtag_posts_post_id', 'hashtag_posts', ['post_id'], unique=False)
    op.create_table('hashtag_follows',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('tag', _tag(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_hashtag_follows_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'tag', name=op.f('pk_hashtag_follows')),
    sa.UniqueConstraint('id', name=op.f('uq_hashtag_follows_id'))
    )
    op.create_index('ix_hashtag_follows_tag', 'hashtag_follows', ['tag'], unique=False)
    op.create_table('hashtag_posters',
    sa.Column('tag', _tag(), nullable=False),
    sa.Column('author_id', sa.BigInteger(), nullable=False),
    sa.Column('last_hour', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tag', 'author_id', name=op.f('pk_hashtag_posters'))
    )
    op.create_index('ix_hashtag_posters_last_hour', 'hashtag_posters', ['last_hour'], unique=False)
    op.create_table('hashtag_days',
    sa.Column('tag', _tag(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('posters', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tag', 'day', name=op.f('pk_hashtag_days'))
    )
    op.create_index('ix_hashtag_days_day', 'hashtag_days', ['day'], unique=False)
    op.create_table('dismissed_suggestions',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('dismissed_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dismissed_id'], ['users.id'], name=op.f('fk_dismissed_suggestions_dismissed_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dismissed_suggestions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'dismissed_id', name=op.f('pk_dismissed_suggestions'))
    )
    # The text index is not a model: FTS5 tables embedded, plain tables with GIN at scale.
    ddl = search.PG_DDL if op.get_bind().dialect.name == 'postgresql' else search.SQLITE_DDL
    for statement in ddl:
        op.execute(statement)


def downgrade() -> None:
    drop = search.PG_DROP if op.get_bind().dialect.name == 'postgresql' else search.SQLITE_DROP
    for statement in drop:
        op.execute(statement)
    op.drop_table('dismissed_suggestions')
    op.drop_index('ix_hashtag_days_day', table_name='hashtag_days')
    op.drop_table('hashtag_days')
    op.drop_index('ix_hashtag_posters_last_hour', table_name='hashtag_posters')
    op.drop_table('hashtag_posters')
    op.drop_index('ix_hashtag_follows_tag', table_name='hashtag_follows')
    op.drop_table('hashtag_follows')
    op.drop_index('ix_hashtag_posts_post_id', table_name='hashtag_posts')
    op.drop_table('hashtag_posts')
    op.drop_table('hashtags')
