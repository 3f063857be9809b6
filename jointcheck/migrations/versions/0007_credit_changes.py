"""credit_changes: the credit loop's history of each target's risk class

Revision ID: 0007
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("from_class", sa.String(length=1), nullable=False),
        sa.Column("to_class", sa.String(length=1), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("categories", sa.String(length=64), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("policy_sha256", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_credit_changes_round_id_rounds")),
        sa.ForeignKeyConstraint(["target_id"], ["targets.id"], name=op.f("fk_credit_changes_target_id_targets")),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_credit_changes_task_id_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_changes")),
    )
    op.create_index("ix_credit_changes_target", "credit_changes", ["target_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_credit_changes_target", table_name="credit_changes")
    op.drop_table("credit_changes")
