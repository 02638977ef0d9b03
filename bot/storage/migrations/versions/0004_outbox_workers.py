"""outbox workers: claims name their worker, heartbeats, the shared send pace, resends

Revision ID: 0004
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("maybe_twice", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("maybe_twice", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "outbox_workers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_workers")),
    )
    op.create_table(
        "send_pace",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        sa.Column("prev_tat", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("platform", "key", name=op.f("pk_send_pace")),
    )


def downgrade() -> None:
    op.drop_table("send_pace")
    op.drop_table("outbox_workers")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("maybe_twice")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("maybe_twice")
        batch_op.drop_column("claimed_by")
