"""department_aliases, joint_items, and check items as real lists have them (long names, a group, free-text objects)

Revision ID: 0008
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "department_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_department_aliases_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department_aliases")),
        sa.UniqueConstraint("alias", name=op.f("uq_department_aliases_alias")),
    )
    op.create_index("ix_department_aliases_department_id", "department_aliases", ["department_id"])
    op.create_table(
        "joint_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("object_kind", sa.Text(), nullable=False),
        sa.Column("initiator", sa.Text(), nullable=False),
        sa.Column("partners", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_items")),
        sa.UniqueConstraint("code", name=op.f("uq_joint_items_code")),
    )
    # Item names of up to 4,000 characters with line breaks; 检查对象 as free text; the 抽查类别 group.
    with op.batch_alter_table("check_items", schema=None) as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=500), type_=sa.Text(), existing_nullable=False)
        batch_op.alter_column("object_kind", existing_type=sa.String(length=32), type_=sa.Text(), existing_nullable=False)
        batch_op.add_column(sa.Column("item_group", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    op.drop_table("joint_items")
    with op.batch_alter_table("check_items", schema=None) as batch_op:
        batch_op.drop_column("item_group")
        batch_op.alter_column("object_kind", existing_type=sa.Text(), type_=sa.String(length=32), existing_nullable=False)
        batch_op.alter_column("name", existing_type=sa.Text(), type_=sa.String(length=500), existing_nullable=False)
    op.drop_index("ix_department_aliases_department_id", table_name="department_aliases")
    op.drop_table("department_aliases")
