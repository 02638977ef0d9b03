"""training log: runs and training settings

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("effort", sa.String(length=16), nullable=True),
        sa.Column("elevation_gain_m", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_runs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("user_id", "file_hash", name=op.f("uq_runs_user_id")),
    )
    op.create_index("ix_runs_user_started", "runs", ["user_id", "started_at"])
    op.create_table(
        "training_prefs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("units", sa.String(length=2), nullable=False),
        sa.Column("week_warned_for", sa.Date(), nullable=True),
        sa.Column("ratio_warned_for", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_training_prefs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_training_prefs")),
    )


def downgrade() -> None:
    op.drop_table("training_prefs")
    op.drop_index("ix_runs_user_started", table_name="runs")
    op.drop_table("runs")
