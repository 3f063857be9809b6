"""published audit heads, received updates, bounded free text, notices sent part by part, an append-only audit table on PostgreSQL

Revision ID: 0005
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0007"
branch_labels = None
depends_on = None

# The lengths of jointcheck/core/limits.py when this revision was written (a migration keeps its own).
NOTE, REASON = 2000, 2000
BOUNDED = (("results", "note", NOTE), ("results", "review_reason", REASON), ("team_members", "reason", REASON))

# A trigger binds every role, the table's owner and superusers included (REVOKE binds neither):
# audit events are only ever inserted. TRUNCATE is refused too; a superuser who must empty a test
# database sets session_replication_role = replica, which a stolen application login cannot.
APPEND_ONLY = """
CREATE FUNCTION jointcheck_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$
"""
APPEND_ONLY_TABLES = ("audit_events", "audit_heads")


def upgrade() -> None:
    op.create_table(
        "audit_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("occasion", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_heads")),
    )
    op.create_index(op.f("ix_audit_heads_seq"), "audit_heads", ["seq"], unique=False)
    op.create_table(
        "received_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_received_updates")),
    )
    op.create_index(op.f("ix_received_updates_received_at"), "received_updates", ["received_at"], unique=False)
    for table, column, length in BOUNDED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=length), existing_nullable=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parts_sent", sa.Integer(), server_default=sa.text("0"), nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION jointcheck_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION jointcheck_append_only()"
            )
            # Roles other than the owner (a reporting login, say) may read and add, never change.
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION jointcheck_append_only()")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("parts_sent")
    for table, column, _ in BOUNDED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(), type_=sa.Text(), existing_nullable=False)
    op.drop_index(op.f("ix_received_updates_received_at"), table_name="received_updates")
    op.drop_table("received_updates")
    op.drop_index(op.f("ix_audit_heads_seq"), table_name="audit_heads")
    op.drop_table("audit_heads")
