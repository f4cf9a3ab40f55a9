"""stories: stories, views, close friends, highlights

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 02:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('close_friends',
    sa.Column('owner_id', sa.BigInteger(), nullable=False),
    sa.Column('friend_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['friend_id'], ['users.id'], name=op.f('fk_close_friends_friend_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_close_friends_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('owner_id', 'friend_id', name=op.f('pk_close_friends')),
    sa.UniqueConstraint('id', name=op.f('uq_close_friends_id'))
    )
    with op.batch_alter_table('close_friends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_close_friends_friend_id'), ['friend_id'], unique=False)

    op.create_table('stories',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('author_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('caption', sa.String(length=500), nullable=True),
    sa.Column('alt_text', sa.String(length=1000), nullable=True),
    sa.Column('original_key', sa.String(length=200), nullable=False),
    sa.Column('base_key', sa.String(length=200), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('blurhash', sa.String(length=100), nullable=True),
    sa.Column('view_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("audience IN ('followers', 'close_friends')", name=op.f('ck_stories_audience')),
    sa.CheckConstraint("status IN ('processing', 'published', 'failed')", name=op.f('ck_stories_status')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_stories_author_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stories')),
    sa.UniqueConstraint('base_key', name=op.f('uq_stories_base_key'))
    )
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.create_index('ix_stories_author_id_expires_at', ['author_id', 'expires_at'], unique=False)
        batch_op.create_index('ix_stories_expires_at', ['expires_at'], unique=False)

    op.create_table('highlights',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('owner_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=50), nullable=False),
    sa.Column('cover_story_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cover_story_id'], ['stories.id'], name=op.f('fk_highlights_cover_story_id_stories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_highlights_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_highlights'))
    )
    with op.batch_alter_table('highlights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_highlights_owner_id'), ['owner_id'], unique=False)

    op.create_table('story_views',
    sa.Column('story_id', sa.BigInteger(), nullable=False),
    sa.Column('viewer_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], name=op.f('fk_story_views_story_id_stories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['viewer_id'], ['users.id'], name=op.f('fk_story_views_viewer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('story_id', 'viewer_id', name=op.f('pk_story_views')),
    sa.UniqueConstraint('id', name=op.f('uq_story_views_id'))
    )
    op.create_table('highlight_stories',
    sa.Column('highlight_id', sa.BigInteger(), nullable=False),
    sa.Column('story_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['highlight_id'], ['highlights.id'], name=op.f('fk_highlight_stories_highlight_id_highlights'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], name=op.f('fk_highlight_stories_story_id_stories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('highlight_id', 'story_id', name=op.f('pk_highlight_stories'))
    )
    with op.batch_alter_table('highlight_stories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_highlight_stories_story_id'), ['story_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('highlight_stories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_highlight_stories_story_id'))

    op.drop_table('highlight_stories')
    op.drop_table('story_views')
    with op.batch_alter_table('highlights', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_highlights_owner_id'))

    op.drop_table('highlights')
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_index('ix_stories_expires_at')
        batch_op.drop_index('ix_stories_author_id_expires_at')

    op.drop_table('stories')
    with op.batch_alter_table('close_friends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_close_friends_friend_id'))

    op.drop_table('close_friends')
