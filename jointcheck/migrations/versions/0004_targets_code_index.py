"""targets.code unique by an index instead of a constraint, so a bulk load can build it at the end

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite rebuilds the table for this (batch mode); env.py turns foreign keys off around it.
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_constraint("uq_targets_code", type_="unique")
        batch_op.create_index("uq_targets_code", ["code"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_index("uq_targets_code")
        batch_op.create_unique_constraint("uq_targets_code", ["code"])
