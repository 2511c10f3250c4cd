"""indexes for the manager reports at scale: name order, lessons done per person and per lesson, failed attempts,
recent reviews with their versions

Revision ID: 4b8e2f6a9c13
Revises: 7a4e2c9d1b63
Create Date: 2026-11-29 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b8e2f6a9c13'
down_revision = '7a4e2c9d1b63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_name', ['name', 'id'], unique=False)
        batch_op.create_index('ix_users_role_name', ['role', 'name', 'id'], unique=False)

    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.create_index('ix_lesson_progress_course_user', ['course_slug', 'user_id', 'lesson_slug'],
                              unique=False)
        batch_op.create_index('ix_lesson_progress_lesson', ['course_slug', 'lesson_slug'], unique=False)

    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_quiz_attempts_failed', ['course_slug', 'lesson_slug', 'passed'], unique=False,
                              sqlite_where=sa.text('passed = 0'), postgresql_where=sa.text('passed = false'))

    with op.batch_alter_table('submission_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_reviews_created_at')
        batch_op.create_index('ix_submission_reviews_recent', ['created_at', 'version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('submission_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_reviews_recent')
        batch_op.create_index('ix_submission_reviews_created_at', ['created_at'], unique=False)

    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_attempts_failed', sqlite_where=sa.text('passed = 0'),
                            postgresql_where=sa.text('passed = false'))

    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_lesson_progress_lesson')
        batch_op.drop_index('ix_lesson_progress_course_user')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_role_name')
        batch_op.drop_index('ix_users_name')
