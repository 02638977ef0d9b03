"""durable inbound and replies: inbound_updates, and the open question of a dialog

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_updates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("update_key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=True),
        sa.Column("claimed_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_updates")),
        sa.UniqueConstraint("platform", "update_key", name=op.f("uq_inbound_updates_platform")),
    )
    op.create_index("ix_inbound_updates_open", "inbound_updates", ["status", "claimed_until"])
    with op.batch_alter_table("dialog_states") as batch:
        batch.add_column(sa.Column("question", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dialog_states") as batch:
        batch.drop_column("question")
    op.drop_index("ix_inbound_updates_open", table_name="inbound_updates")
    op.drop_table("inbound_updates")
