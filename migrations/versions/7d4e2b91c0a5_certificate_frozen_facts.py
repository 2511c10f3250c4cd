"""certificate frozen facts: status list index, exam result, criteria, evidence; counters table

Revision ID: 7d4e2b91c0a5
Revises: 5e8a1c4b7d20
Create Date: 2026-12-01 09:00:00.000000

Certificates issued before keep NULL in the new columns: they render and verify as before (no
credentialStatus, no results, no evidence).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d4e2b91c0a5'
down_revision = '5e8a1c4b7d20'
branch_labels = None
depends_on = None

STATUS_SET = "revoked_at IS NOT NULL OR withdrawn_at IS NOT NULL"  # revoked or withdrawn: its bit is set


def upgrade():
    op.create_table(
        'counters',
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_counters')),
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_index', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('criteria_narrative', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('exam_name', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('exam_pass_mark', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('exam_score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('evidence', sa.JSON(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_certificates_status_index'), ['status_index'])
        batch_op.create_index('ix_certificates_status_set', ['status_index'], unique=False,
                              sqlite_where=sa.text(STATUS_SET), postgresql_where=sa.text(STATUS_SET))


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_status_set', sqlite_where=sa.text(STATUS_SET),
                            postgresql_where=sa.text(STATUS_SET))
        batch_op.drop_constraint(batch_op.f('uq_certificates_status_index'), type_='unique')
        batch_op.drop_column('evidence')
        batch_op.drop_column('exam_score')
        batch_op.drop_column('exam_pass_mark')
        batch_op.drop_column('exam_name')
        batch_op.drop_column('criteria_narrative')
        batch_op.drop_column('status_index')
    op.drop_table('counters')
