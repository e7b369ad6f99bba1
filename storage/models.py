"""SQLAlchemy 2 ORM models: the tables that hold everything that matters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no time zone, so naive values read from it are UTC by contract.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC instant")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A person who talked to the bot, keyed by their Telegram user id."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The language the user chose with /language; None means "follow Telegram's".
    language: Mapped[str | None] = mapped_column(String(8))
    telegram_language: Mapped[str | None] = mapped_column(String(16))
    first_name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The multi-step dialogue the user is in (e.g. "review.revise"), kept here so a
    # restart, or another process, continues it; None when there is none.
    dialogue: Mapped[str | None] = mapped_column(String(64))
    dialogue_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Told to slow down (over DRAFTS_PER_MINUTE): drafts until then are not reviewed.
    slowed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first /start deep-link payload that was not a review link ("linkedin").
    came_from: Mapped[str | None] = mapped_column(String(64))


class Draft(Base):
    """One version of a text a user asked to review; revisions point at their parent."""

    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviews: Mapped[list[DraftReview]] = relationship(
        back_populates="draft", cascade="all, delete-orphan", passive_deletes=True
    )


class DraftReview(Base):
    """The checklist's verdict on a draft for one platform."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    top_fixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    draft: Mapped[Draft] = relationship(back_populates="reviews")
    items: Mapped[list[ReviewItem]] = relationship(
        back_populates="review",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ReviewItem.position",
    )


class ReviewItem(Base):
    """One checklist item's status in a review (kept as rows so stats can count them)."""

    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("review_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))

    review: Mapped[DraftReview] = relationship(back_populates="items")


class Post(Base):
    """A post the user says they published."""

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_user_posted", "user_id", "posted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("drafts.id", ondelete="SET NULL"), index=True
    )
    review_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviews.id", ondelete="SET NULL"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(Integer)
    link: Mapped[str | None] = mapped_column(String(2048))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When to ask how it went (48 h later, moved out of the user's quiet hours).
    results_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    results_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    result: Mapped[PostResult | None] = relationship(
        back_populates="post", cascade="all, delete-orphan", passive_deletes=True
    )


class PostResult(Base):
    """How a post went, as the user told us."""

    __tablename__ = "post_results"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    reactions: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    contacts: Mapped[int | None] = mapped_column(Integer)
    opportunity: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    post: Mapped[Post] = relationship(back_populates="result")


class Profile(Base):
    """Who the user is and what they want from us (filled in by onboarding and /settings)."""

    __tablename__ = "profiles"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str | None] = mapped_column(String(200))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    audience: Mapped[list[str]] = mapped_column(JSON, default=list)
    platforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    main_platform: Mapped[str | None] = mapped_column(String(16))
    weekly_goal: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str | None] = mapped_column(String(64))
    nudge_days: Mapped[list[int]] = mapped_column(JSON, default=list)
    nudge_time: Mapped[str | None] = mapped_column(String(5))
    onboarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NudgeSchedule(Base):
    """A user's repeating reminder (or their Monday review): the rule and what is due next.

    The database, not the scheduler, says what is due: `next_due_at` (and a
    one-off `snooze_due_at`) are claimed by the dispatch tick.
    """

    __tablename__ = "nudge_schedules"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    local_time: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    quiet_start: Mapped[str] = mapped_column(String(5), default="21:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    snooze_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_idea: Mapped[str | None] = mapped_column(String(32))


class NudgeSend(Base):
    """One occurrence of a schedule, recorded once under (schedule, due instant)."""

    __tablename__ = "nudge_sends"
    __table_args__ = (
        UniqueConstraint("schedule_id", "due_at"),
        Index("ix_nudge_sends_status_claimed", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("nudge_schedules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # claimed -> sent | late | failed; or missed | skipped without a message.
    status: Mapped[str] = mapped_column(String(12))
    idea: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Claims so far: 1 when recorded, 2 once taken over after a crash; never more.
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ScheduledSend(Base):
    """One scheduled post other than a nudge (a group's challenge, a channel's tip, a
    results question), recorded once under (kind, subject, due instant) and then claimed,
    sent and confirmed like a nudge (bot/claims.py)."""

    __tablename__ = "scheduled_sends"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id", "due_at"),
        Index("ix_scheduled_sends_status_claimed", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # What is sent about: the group's or channel's chat id, or the post asked about.
    subject_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # The user it is sent to, for a results question: erased with them.
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Which of the kind's texts (a tip's number), where the kind has several.
    variant: Mapped[int | None] = mapped_column(Integer)
    # claimed -> sent | failed; or missed when a crash left it claimed too long.
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Group(Base):
    """A Telegram group, supergroup or channel the bot was added to, and its settings."""

    __tablename__ = "groups"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(256), default="")
    language: Mapped[str] = mapped_column(String(8), default="it")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    review_mode: Mapped[str] = mapped_column(String(8), default="short")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Rome")
    challenge_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    challenge_day: Mapped[int] = mapped_column(Integer, default=0)
    challenge_time: Mapped[str] = mapped_column(String(5), default="09:00")
    challenge_theme: Mapped[str | None] = mapped_column(String(200))
    next_challenge_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    tip_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    next_tip_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    tip_turn: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Challenge(Base):
    """A weekly challenge posted in a group, once per due instant."""

    __tablename__ = "challenges"
    __table_args__ = (UniqueConstraint("chat_id", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("groups.chat_id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idea: Mapped[str] = mapped_column(String(32))
    theme: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Submission(Base):
    """A member's draft reviewed in a group (a challenge entry or a /review there)."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_chat_created", "chat_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("groups.chat_id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    challenge_id: Mapped[int | None] = mapped_column(
        ForeignKey("challenges.id", ondelete="SET NULL"), index=True
    )
    review_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviews.id", ondelete="SET NULL"), index=True
    )
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The member who replied /review to this author's message; None when the author asked.
    requested_by: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("users.id", ondelete="SET NULL", name="fk_submissions_requested_by_users"),
        index=True,
    )


class GroupMember(Base):
    """A member's standing in a group: the name shown and whether they left the leaderboard."""

    __tablename__ = "group_members"

    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("groups.chat_id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    display_name: Mapped[str] = mapped_column(String(128), default="")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)


class ProcessedUpdate(Base):
    """A Telegram update id taken in by a webhook, so a redelivered update is handled once.

    Rows older than a day are pruned: Telegram gives up redelivering long before.
    """

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Rewrite(Base):
    """A rewrite of a reviewed draft suggested by the language model, and how it went.

    Failed calls are kept too (no text, no score) for the record; only rewrites the user
    actually received count against their daily limit.
    """

    __tablename__ = "rewrites"
    __table_args__ = (Index("ix_rewrites_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    review_id: Mapped[int] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), index=True
    )
    # ok, or why there is no rewrite: timeout | server | malformed.
    status: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    # The checklist's score of the rewrite, and of the draft it rewrites (same platform).
    score: Mapped[int | None] = mapped_column(Integer)
    draft_score: Mapped[int] = mapped_column(Integer)
    # Figures, names and links in the rewrite that the draft does not have.
    new_facts: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
