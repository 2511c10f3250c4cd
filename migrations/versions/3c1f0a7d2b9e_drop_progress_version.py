"""drop users.progress_version (the personal lesson page cache is gone)

Revision ID: 3c1f0a7d2b9e
Revises: 9746ab540249
Create Date: 2026-11-29 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1f0a7d2b9e'
down_revision = '9746ab540249'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('progress_version')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_version', sa.Integer(), server_default=sa.text('0'), nullable=False))
