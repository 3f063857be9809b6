"""result_entries: every finding, note and return of a result, kept; official_days: the State
Council's holiday notice as imported by the operator; users.telegram_username for the console's --as

Revision ID: 0009
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "result_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=2), nullable=False),
        sa.Column("follow_up", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_user_id"], ["users.id"], name=op.f("fk_result_entries_author_user_id_users")),
        sa.ForeignKeyConstraint(["result_id"], ["results.id"], name=op.f("fk_result_entries_result_id_results")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_entries")),
    )
    with op.batch_alter_table("result_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_entries_result_id"), ["result_id"], unique=False)
    # What was recorded before this revision becomes each result's first entry, so no history
    # starts empty; the earlier notes were overwritten and are not recoverable.
    op.execute(
        "INSERT INTO result_entries (result_id, kind, category, follow_up, text, author_user_id, created_at) "
        "SELECT id, 'finding', category, follow_up, note, submitted_by_user_id, COALESCE(submitted_at, CURRENT_TIMESTAMP) FROM results"
    )
    op.create_table(
        "official_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_official_days")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_username", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("telegram_username")
    op.drop_table("official_days")
    with op.batch_alter_table("result_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_result_entries_result_id"))
    op.drop_table("result_entries")
