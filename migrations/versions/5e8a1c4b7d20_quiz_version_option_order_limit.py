"""quiz attempts: the quiz version by meaning, the option order shown, the attempt limit in force

Revision ID: 5e8a1c4b7d20
Revises: 3c1f0a7d2b9e
Create Date: 2026-11-29 15:10:00.000000

Existing attempts keep NULL in all three: they match their quiz by content_hash as before, were shown the
author's order (shuffling was off by default until now), and count against whatever limit is in force.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e8a1c4b7d20'
down_revision = '3c1f0a7d2b9e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiz_version', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('option_orders', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('attempt_limit', sa.Integer(), nullable=True))
        batch_op.create_index('ix_quiz_attempts_version', ['course_slug', 'lesson_slug', 'quiz_version'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_attempts_version')
        batch_op.drop_column('attempt_limit')
        batch_op.drop_column('option_orders')
        batch_op.drop_column('quiz_version')
