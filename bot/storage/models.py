"""The database schema. The database is the one source of truth: any process may die at any
moment and another picks up from these rows.

Every change here needs the matching Alembic migration in migrations/versions/;
tests/test_migrations.py fails when the two drift apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class User(Base):
    """A person on one platform. Everything about them hangs off this row (ON DELETE CASCADE),
    so forgetting a person is one delete."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(16))
    # Set when the platform says we may not write to them (blocked the bot, left).
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Chat(Base):
    """A private chat or a group chat (a club candidate) the bot is in."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "platform_chat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_chat_id: Mapped[str] = mapped_column(String(64))
    is_private: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str] = mapped_column(String(256), default="")
    # False once the platform tells us the bot was removed from the group.
    bot_is_member: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The person a private chat is with (NULL for groups): forgetting them removes the chat and
    # what hangs off it, and finds messages addressed to it (a DM's id is not always theirs).
    private_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class DialogState(Base):
    """One person's active dialog in one chat (and thread). Two people in a group never share
    a row; a restart resumes from here."""

    __tablename__ = "dialog_states"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    kind: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The replies that asked the open question (Reply.to_dict each): a press of an earlier
    # question's button sends them again, so a person whose last reply was lost is not stuck.
    question: Mapped[list[Any] | None] = mapped_column(JSON)


class Consent(Base):
    """What a person agreed to us storing (e.g. topic "health" for triage answers)."""

    __tablename__ = "consents"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class TriageReport(Base):
    """The result of one soreness check, stored only with the person's "health" consent.

    Coded answers only (option values, never typed text); after the retention period the
    answers are cleared and the date, area and outcome remain."""

    __tablename__ = "triage_reports"
    __table_args__ = (Index("ix_triage_reports_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(40))  # which rule decided, for the reason
    area: Mapped[str | None] = mapped_column(String(40))
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SessionLog(Base):
    """One guided core session that ended: finished (`completed`), or stopped and abandoned
    part-way with some moves done. Streaks count completed sessions; minutes count all work."""

    __tablename__ = "session_logs"
    __table_args__ = (Index("ix_session_logs_user_finished", "user_id", "finished_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime] = mapped_column()
    template: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(16))
    moves_done: Mapped[int] = mapped_column(Integer)
    moves_skipped: Mapped[int] = mapped_column(Integer)
    work_seconds: Mapped[int] = mapped_column(Integer)
    # Holds and reps as a percentage of the cards' doses: progression reads the last one.
    dose_pct: Mapped[int] = mapped_column(Integer, default=100)
    completed: Mapped[bool] = mapped_column(Boolean)


class Outbox(Base):
    """Every proactive message, written in the same transaction as the decision to send it.

    A sender claims due rows, delivers them and marks them sent; `dedupe_key` makes the
    decision itself idempotent (one reminder per rule and occurrence, one post per club).
    Statuses: pending → sent | failed | unreachable | expired (see scheduler/sender.py)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        # The sender's claim: pending rows whose time has come, oldest first.
        Index("ix_outbox_due", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128))
    platform: Mapped[str] = mapped_column(String(16), index=True)
    platform_chat_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str] = mapped_column(String(64), default="")
    # Private chats and groups have different platform rate limits.
    is_private: Mapped[bool] = mapped_column(Boolean, default=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reply: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    # Past this moment the message is stale (a reminder after a long outage) and is dropped.
    expires_at: Mapped[datetime | None] = mapped_column()
    claimed_until: Mapped[datetime | None] = mapped_column()
    # Which claim owns the row; a worker whose lease was taken over cannot send or overwrite.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    # The worker holding the claim (outbox_workers.id): once its heartbeat is stale, a live
    # worker takes the row over without waiting for the lease.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    # Sent again after an attempt whose outcome was never recorded (a crash mid-send): without
    # an idempotency key (Telegram) the recipient may have it twice. Reported to the coach.
    maybe_twice: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class ReminderRule(Base):
    """A weekly core-session reminder: days and a wall-clock time in the person's time zone.

    `next_due_at` (UTC) is the next occurrence the sweep will act on; NULL while paused."""

    __tablename__ = "reminder_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    days: Mapped[int] = mapped_column(Integer)  # bit 0 = Monday … bit 6 = Sunday
    minute_of_day: Mapped[int] = mapped_column(Integer)  # local wall-clock time, 0..1439
    timezone: Mapped[str] = mapped_column(String(64))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CheckIn(Base):
    """A follow-up question after a soreness triage ("better, same or worse?").

    Statuses: scheduled → queued (written to the outbox) → answered | missed; cancelled."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("user_id", "episode_ref", "round"),
        Index("ix_checkins_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    episode_ref: Mapped[str] = mapped_column(String(32))  # the triage report it follows up
    round: Mapped[int] = mapped_column(Integer, default=1)  # 2 = the follow-up after "same"
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    answer: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column()


# --- clubs (issue 7): a club is a group chat (chats.is_private False) the bot is in ---------


class ClubMember(Base):
    """Someone the bot has seen in a club, and the role a coach granted them there.

    Chat admins are coaches by the platform's word (Actor.is_chat_admin, checked at each
    command); `role = "coach"` is the role granted with /coach add. The rows also let
    `/coach add NAME` find people by the name the bot saw them with in this chat."""

    __tablename__ = "club_members"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoachAccount(Base):
    """One coach as a person: their identities on several platforms and their linked clubs,
    so one broadcast reaches every club they run."""

    __tablename__ = "coach_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoachIdentity(Base):
    """A platform identity (users row) belonging to a coach account; at most one account each."""

    __tablename__ = "coach_identities"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("coach_accounts.id", ondelete="CASCADE"), index=True
    )
    # Where private reports reach this person, learnt when they write to the bot privately.
    dm_chat_id: Mapped[str | None] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoachLinkCode(Base):
    """A short one-time code: typed in a club by its coach, it links the club (and that
    coach's identity on the club's platform) to the account that made the code."""

    __tablename__ = "coach_link_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("coach_accounts.id", ondelete="CASCADE"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class CoachClub(Base):
    """A club linked to a coach account: the account's broadcasts go there."""

    __tablename__ = "coach_clubs"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("coach_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class Challenge(Base):
    """One occurrence of a club challenge; a weekly series is a chain of rows sharing
    `series_id`. Title, details and target are copied from the library at creation, so a
    content change never alters a running challenge.

    Statuses: scheduled → active (post queued) → ended (summary queued); paused (the bot was
    removed; `paused_from` says what to return to); cancelled; missed (an outage outlasted it).
    """

    __tablename__ = "challenges"
    __table_args__ = (
        Index("ix_challenges_starting", "status", "starts_at"),
        Index("ix_challenges_ending", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    template_id: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    details: Mapped[str] = mapped_column(String(1200))
    target_days: Mapped[int] = mapped_column(Integer)
    days: Mapped[int] = mapped_column(Integer)  # duration in local calendar days
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    repeat_weekly: Mapped[bool] = mapped_column(Boolean, default=False)
    series_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    paused_from: Mapped[str | None] = mapped_column(String(16))
    posted_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChallengeParticipant(Base):
    __tablename__ = "challenge_participants"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChallengeDone(Base):
    """A "Done today": one per person per local day of the challenge (the primary key)."""

    __tablename__ = "challenge_dones"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    done_at: Mapped[datetime] = mapped_column(default=utcnow)


class Broadcast(Base):
    """A coach's message to every club linked to their account. Deliveries are outbox rows
    keyed `club:broadcast:<id>:<chat id>`; the counts are copied here when the report goes.

    Statuses: sending → reported."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("coach_accounts.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(2000))
    card_id: Mapped[str | None] = mapped_column(String(40))
    template_id: Mapped[str | None] = mapped_column(String(40))
    # Where the delivery report goes (the coach's private chat), if known.
    report_chat_id: Mapped[str | None] = mapped_column(String(64))
    clubs: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # the bot had left: not tried
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    unreachable: Mapped[int] = mapped_column(Integer, default=0)
    maybe_twice: Mapped[int] = mapped_column(Integer, default=0)  # of delivered, see Outbox
    status: Mapped[str] = mapped_column(String(16), default="sending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_at: Mapped[datetime | None] = mapped_column()


# --- the training log: runs typed or uploaded, and each person's training settings --------


class Run(Base):
    """One run: typed ("ran 10k in 52 min") or read from a GPX/FIT file (`file_hash` is the
    file's SHA-256, so the same file is logged once). Distances in metres, times in seconds."""

    __tablename__ = "runs"
    __table_args__ = (
        # /week and the load figures read one person's runs in a time window.
        Index("ix_runs_user_started", "user_id", "started_at"),
        UniqueConstraint("user_id", "file_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column()
    distance_m: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[int | None] = mapped_column(Integer)  # moving time for files
    effort: Mapped[str | None] = mapped_column(String(16))
    elevation_gain_m: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(8))  # typed | gpx | fit
    file_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingPrefs(Base):
    """A person's unit for distances, and which load warnings the coach already gave (the
    Monday of the week each was given for), so each is said once."""

    __tablename__ = "training_prefs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    units: Mapped[str] = mapped_column(String(2), default="km")
    week_warned_for: Mapped[date | None] = mapped_column(Date)
    ratio_warned_for: Mapped[date | None] = mapped_column(Date)


# --- the training log in other features: soreness linked to runs, weekly summaries, club boards


class TriageTrainingLink(Base):
    """What the training log said when a soreness check was stored: the run it followed (a
    run of that day or the day before) and whether the load had jumped. Stored with the report
    (so only with the "health" consent) and removed with its detail at retention."""

    __tablename__ = "triage_training_links"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("triage_reports.id", ondelete="CASCADE"), primary_key=True
    )
    # A deleted run leaves the check in place, without the link.
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    load_jumped: Mapped[bool] = mapped_column(Boolean, default=False)


class WeeklySummaryOptIn(Base):
    """A person who asked for the weekly summary (/summary on); no row means none is sent.
    `sent_for` is the Monday of the last week summed up, so the sweep skips them cheaply until
    the next Sunday (the outbox's dedupe key is what guarantees once a week)."""

    __tablename__ = "weekly_summary_optins"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    opted_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_for: Mapped[date | None] = mapped_column(Date)


class ClubBoardMember(Base):
    """A member who chose to show their week's distance on one club's board (per club)."""

    __tablename__ = "club_board_members"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Strava (issue 18): connections, the OAuth state, synced activities, pending work ------


class StravaConnection(Base):
    """A person's Strava grant. Tokens are Fernet ciphertext (the key is in the environment,
    never here); `athlete_id` ties webhook events to the person."""

    __tablename__ = "strava_connections"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    athlete_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    # Where the connect confirmation and after-run check-ins go (their private chat).
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(128))
    access_token: Mapped[bytes] = mapped_column(LargeBinary)
    refresh_token: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column()
    # Log rides, swims and walks too (off: runs only), and ask after runs.
    all_sports: Mapped[bool] = mapped_column(Boolean, default=False)
    checkins: Mapped[bool] = mapped_column(Boolean, default=True)
    # The person's local day of the last after-run check-in: at most one a day.
    checked_in_on: Mapped[date | None] = mapped_column(Date)
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)


class StravaAuthState(Base):
    """A single-use OAuth `state`: who asked for the link, from which chat, until when."""

    __tablename__ = "strava_auth_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    private_runs: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime] = mapped_column()


class StravaActivity(Base):
    """A Strava activity seen for a person, and the run it was logged as (NULL: not a run
    they log), so each activity is logged once and updates and deletes find their run."""

    __tablename__ = "strava_activities"
    __table_args__ = (UniqueConstraint("activity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    sport: Mapped[str] = mapped_column(String(32))
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class StravaJob(Base):
    """Durable Strava work: a webhook event to apply or a backfill page to read. Written when
    the event arrives, deleted when applied; a worker leases a row (`leased_until`), so a crash
    loses nothing and a re-run finds the activity already synced.

    Kinds: create, update, delete (activity_id set); deauthorized (Strava says the person
    removed our access); revoke (they typed /strava disconnect); backfill (the last 4 weeks)."""

    __tablename__ = "strava_jobs"
    __table_args__ = (Index("ix_strava_jobs_due", "not_before"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    athlete_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    activity_id: Mapped[int | None] = mapped_column(BigInteger)
    # revoke: the access token to deauthorise with (Fernet ciphertext), kept until done.
    token: Mapped[bytes | None] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    leased_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StravaRateLimit(Base):
    """Strava's rate limits as its headers last reported them, shared by every worker: the
    one row is locked while a request is counted (one limiter for all processes)."""

    __tablename__ = "strava_rate_limit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    short_limit: Mapped[int] = mapped_column(Integer, default=100)
    short_used: Mapped[int] = mapped_column(Integer, default=0)
    # The start of the 15-minute window (UTC quarter hour) `short_used` counts in.
    short_window: Mapped[datetime] = mapped_column()
    long_limit: Mapped[int] = mapped_column(Integer, default=1000)
    long_used: Mapped[int] = mapped_column(Integer, default=0)
    long_day: Mapped[date] = mapped_column(Date)


# --- durable inbound and replies (issue 16): a platform update from arrival to delivery ---


class InboundUpdate(Base):
    """One update from a platform that redelivers (Telegram), stored before it is confirmed
    to the platform, so a process that dies with it in hand loses nothing.

    Statuses: received (stored, no turn yet) → answered (the turn committed with `replies`,
    in its transaction) → done (delivered; the text is cleared, the key stays a day so a
    redelivery is recognised). `claimed_until` is the lease of the worker handling it:
    another worker takes a row whose lease ran out."""

    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("platform", "update_key"),
        # Recovery: rows not done whose lease ran out, oldest first.
        Index("ix_inbound_updates_open", "status", "claimed_until"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="received")
    replies: Mapped[list[Any] | None] = mapped_column(JSON)
    claimed_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- outbox workers and the bot-wide send pace (scheduler/workers.py, scheduler/shared_pace.py)


class OutboxWorker(Base):
    """A running sender. It beats every few seconds; the claims of one whose beat is stale
    (a dead process) are taken over by a live one."""

    __tablename__ = "outbox_workers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    heartbeat_at: Mapped[datetime] = mapped_column()


class SendPace(Base):
    """The platform's rate limits, shared by every worker (GCRA): the theoretical arrival
    time of the next message, for the whole bot (key "bot") and for each chat."""

    __tablename__ = "send_pace"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # "bot" or "chat:<id>"
    tat: Mapped[float] = mapped_column(Double)  # Unix time, seconds
    # The bot row's tat before its last reservation, so a batch's slots follow it exactly.
    prev_tat: Mapped[float | None] = mapped_column(Double)
