"""browser authoring: content revisions, documents, lesson aliases

Revision ID: 7a4e2c9d1b63
Revises: 809963d77710
Create Date: 2026-11-29 12:38:55.406794

Three new tables and nothing else touched: every version of every content file saved in the browser (or
imported by `flask content sync`), one row per file with its head, published and draft versions, and the
old slugs of renamed lessons (their addresses redirect).
"""
from alembic import op
import sqlalchemy as sa

import coaching.models  # noqa: F401  (custom column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = '7a4e2c9d1b63'
down_revision = '809963d77710'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('content_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('course_slug', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=10), server_default='text', nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('published', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('deleted', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('message', sa.String(length=300), server_default='', nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('base_id', sa.Integer(), nullable=True),
    sa.Column('renamed_from', sa.String(length=200), nullable=True),
    sa.Column('git_commit', sa.String(length=64), nullable=True),
    sa.Column('created_at', coaching.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_content_revisions_author_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_revisions'))
    )
    with op.batch_alter_table('content_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_revisions_course_slug'), ['course_slug'], unique=False)
        batch_op.create_index('ix_content_revisions_path', ['path', 'id'], unique=False)
        batch_op.create_index('ix_content_revisions_published', ['published', 'id'], unique=False)

    op.create_table('lesson_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=100), nullable=False),
    sa.Column('old_slug', sa.String(length=100), nullable=False),
    sa.Column('new_slug', sa.String(length=100), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', coaching.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lesson_aliases_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_aliases')),
    sa.UniqueConstraint('course_slug', 'old_slug', name=op.f('uq_lesson_aliases_course_slug_old_slug'))
    )
    op.create_table('content_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('course_slug', sa.String(length=100), nullable=False),
    sa.Column('head_id', sa.Integer(), nullable=False),
    sa.Column('published_id', sa.Integer(), nullable=True),
    sa.Column('draft_id', sa.Integer(), nullable=True),
    sa.Column('deleted', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('updated_at', coaching.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['content_revisions.id'], name=op.f('fk_content_documents_draft_id_content_revisions')),
    sa.ForeignKeyConstraint(['head_id'], ['content_revisions.id'], name=op.f('fk_content_documents_head_id_content_revisions')),
    sa.ForeignKeyConstraint(['published_id'], ['content_revisions.id'], name=op.f('fk_content_documents_published_id_content_revisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_documents')),
    sa.UniqueConstraint('path', name=op.f('uq_content_documents_path'))
    )
    with op.batch_alter_table('content_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_documents_course_slug'), ['course_slug'], unique=False)



def downgrade():
    with op.batch_alter_table('content_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_documents_course_slug'))

    op.drop_table('content_documents')
    op.drop_table('lesson_aliases')
    with op.batch_alter_table('content_revisions', schema=None) as batch_op:
        batch_op.drop_index('ix_content_revisions_published')
        batch_op.drop_index('ix_content_revisions_path')
        batch_op.drop_index(batch_op.f('ix_content_revisions_course_slug'))

    op.drop_table('content_revisions')
