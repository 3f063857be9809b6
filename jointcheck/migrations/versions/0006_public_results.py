"""the public record of published results (一公开), notes marked public at review, inspection dates of
results entered from paper, attachments kept in the file store by SHA-256

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def _name_type() -> sa.types.TypeEngine:
    # Byte order on PostgreSQL too: a name-prefix search is a range scan of the index only when
    # the collation sorts every string that starts with the prefix right after the prefix.
    return sa.String(500).with_variant(sa.String(500, collation="C"), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_public", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("inspected_on", sa.Date(), nullable=True))
    with op.batch_alter_table("result_attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("size", sa.Integer(), nullable=True))
    op.create_table(
        "public_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("target_code", sa.String(length=64).with_variant(sa.String(64, collation="C"), "postgresql"), nullable=False),
        sa.Column("target_name", _name_type(), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("category", sa.String(length=2), nullable=False),
        sa.Column("follow_up", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=True),
        sa.Column("due_by", sa.Date(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("correction_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("csv_cells", sa.Text(), nullable=False),
        sa.Column("json_members", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["result_id"], ["results.id"], name=op.f("fk_public_results_result_id_results")),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_public_results_round_id_rounds")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_public_results_department_id_departments")),
        sa.ForeignKeyConstraint(["item_id"], ["check_items.id"], name=op.f("fk_public_results_item_id_check_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_results")),
    )
    with op.batch_alter_table("public_results", schema=None) as batch_op:
        batch_op.create_index("ix_public_results_code", ["target_code", "id"], unique=False)
        batch_op.create_index("ix_public_results_name", ["target_name", "id"], unique=False)
        batch_op.create_index("ix_public_results_round", ["round_id", "id"], unique=False)
        batch_op.create_index("ix_public_results_result", ["result_id"], unique=False)


def downgrade() -> None:
    op.drop_table("public_results")
    with op.batch_alter_table("result_attachments", schema=None) as batch_op:
        batch_op.drop_column("size")
        batch_op.drop_column("sha256")
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("inspected_on")
        batch_op.drop_column("note_public")
