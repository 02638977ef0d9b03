"""strava: connections, OAuth states, synced activities, pending jobs, the rate limit

Revision ID: 0006
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "strava_connections",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("athlete_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("access_token", sa.LargeBinary(), nullable=False),
        sa.Column("refresh_token", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("all_sports", sa.Boolean(), nullable=False),
        sa.Column("checkins", sa.Boolean(), nullable=False),
        sa.Column("checked_in_on", sa.Date(), nullable=True),
        sa.Column("connected_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_strava_connections_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_strava_connections_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_strava_connections")),
        sa.UniqueConstraint("athlete_id", name=op.f("uq_strava_connections_athlete_id")),
    )
    op.create_table(
        "strava_auth_states",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("private_runs", sa.Boolean(), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_strava_auth_states_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_strava_auth_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_strava_auth_states")),
    )
    op.create_index(
        op.f("ix_strava_auth_states_user_id"), "strava_auth_states", ["user_id"], unique=False
    )
    op.create_table(
        "strava_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("sport", sa.String(length=32), nullable=False),
        sa.Column("synced_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_strava_activities_run_id_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_strava_activities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strava_activities")),
        sa.UniqueConstraint("activity_id", name=op.f("uq_strava_activities_activity_id")),
    )
    op.create_index(
        op.f("ix_strava_activities_user_id"), "strava_activities", ["user_id"], unique=False
    )
    op.create_table(
        "strava_jobs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("athlete_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("activity_id", sa.BigInteger(), nullable=True),
        sa.Column("token", sa.LargeBinary(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", UTCDateTime(timezone=True), nullable=False),
        sa.Column("leased_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strava_jobs")),
    )
    op.create_index("ix_strava_jobs_due", "strava_jobs", ["not_before"], unique=False)
    op.create_index(op.f("ix_strava_jobs_athlete_id"), "strava_jobs", ["athlete_id"], unique=False)
    op.create_table(
        "strava_rate_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("short_limit", sa.Integer(), nullable=False),
        sa.Column("short_used", sa.Integer(), nullable=False),
        sa.Column("short_window", UTCDateTime(timezone=True), nullable=False),
        sa.Column("long_limit", sa.Integer(), nullable=False),
        sa.Column("long_used", sa.Integer(), nullable=False),
        sa.Column("long_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strava_rate_limit")),
    )


def downgrade() -> None:
    op.drop_table("strava_rate_limit")
    op.drop_index(op.f("ix_strava_jobs_athlete_id"), table_name="strava_jobs")
    op.drop_index("ix_strava_jobs_due", table_name="strava_jobs")
    op.drop_table("strava_jobs")
    op.drop_index(op.f("ix_strava_activities_user_id"), table_name="strava_activities")
    op.drop_table("strava_activities")
    op.drop_index(op.f("ix_strava_auth_states_user_id"), table_name="strava_auth_states")
    op.drop_table("strava_auth_states")
    op.drop_table("strava_connections")
