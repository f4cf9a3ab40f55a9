"""direct messages: conversations, members, messages, reactions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 23:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _user_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ['users.id'], name=op.f(f'fk_{table}_{column}_users'), ondelete='CASCADE'
    )


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('is_group', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('direct_key', sa.String(length=41), nullable=True),
    sa.Column('last_message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _user_fk('created_by', 'conversations'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sa.UniqueConstraint('direct_key', name=op.f('uq_conversations_direct_key'))
    )
    op.create_table('conversation_members',
    sa.Column('conversation_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('muted', sa.Boolean(), nullable=False),
    sa.Column('last_read_message_id', sa.BigInteger(), nullable=True),
    sa.Column('unread_count', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.BigInteger(), nullable=False),
    sa.Column('joined_after_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("state IN ('request', 'active', 'left')", name=op.f('ck_conversation_members_state')),
    sa.CheckConstraint('unread_count >= 0', name=op.f('ck_conversation_members_unread')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_members_conversation_id_conversations'), ondelete='CASCADE'),
    _user_fk('user_id', 'conversation_members'),
    sa.PrimaryKeyConstraint('conversation_id', 'user_id', name=op.f('pk_conversation_members'))
    )
    op.create_index('ix_conversation_members_user_id_activity_id', 'conversation_members', ['user_id', 'activity_id'], unique=False)
    op.create_table('messages',
    sa.Column('conversation_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('sender_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('post_id', sa.BigInteger(), nullable=True),
    sa.Column('story_id', sa.BigInteger(), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('original_key', sa.String(length=200), nullable=True),
    sa.Column('base_key', sa.String(length=200), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('blurhash', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('text', 'image', 'heart', 'story_reply', 'post_share')", name=op.f('ck_messages_kind')),
    sa.CheckConstraint("status IN ('processing', 'published', 'failed')", name=op.f('ck_messages_status')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_messages_conversation_id_conversations'), ondelete='CASCADE'),
    _user_fk('sender_id', 'messages'),
    sa.PrimaryKeyConstraint('conversation_id', 'id', name=op.f('pk_messages')),
    sa.UniqueConstraint('conversation_id', 'sender_id', 'client_id', name=op.f('uq_messages_conversation_id_sender_id_client_id')),
    sa.UniqueConstraint('id', name=op.f('uq_messages_id'))
    )
    op.create_index('ix_messages_base_key', 'messages', ['base_key'], unique=False)
    op.create_table('message_reactions',
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('conversation_id', sa.BigInteger(), nullable=False),
    sa.Column('emoji', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_reactions_message_id_messages'), ondelete='CASCADE'),
    _user_fk('user_id', 'message_reactions'),
    sa.PrimaryKeyConstraint('message_id', 'user_id', name=op.f('pk_message_reactions'))
    )


def downgrade() -> None:
    op.drop_table('message_reactions')
    op.drop_index('ix_messages_base_key', table_name='messages')
    op.drop_table('messages')
    op.drop_index('ix_conversation_members_user_id_activity_id', table_name='conversation_members')
    op.drop_table('conversation_members')
    op.drop_table('conversations')
