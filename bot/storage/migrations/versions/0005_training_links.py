"""training in other features: soreness checks linked to runs, weekly summary and club board
opt-ins

Revision ID: 0005
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_training_links",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("load_jumped", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["triage_reports.id"],
            name=op.f("fk_triage_training_links_report_id_triage_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_triage_training_links_run_id_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_triage_training_links")),
    )
    op.create_table(
        "weekly_summary_optins",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("opted_in_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_for", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_weekly_summary_optins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_weekly_summary_optins")),
    )
    op.create_table(
        "club_board_members",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_club_board_members_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_club_board_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "user_id", name=op.f("pk_club_board_members")),
    )


def downgrade() -> None:
    op.drop_table("club_board_members")
    op.drop_table("weekly_summary_optins")
    op.drop_table("triage_training_links")
