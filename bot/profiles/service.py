"""The user's profile and the dialogue that fills it: onboarding, then /settings.

One question at a time; the current step lives in the database (users.dialogue),
so a restart in the middle of onboarding loses nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

from bot.coach import PLATFORMS, Checklist, TopicExpansion
from bot.localtime.defaults import DEFAULT_ZONE
from bot.localtime.schedule import parse_local_time
from bot.localtime.zones import resolve_zone, zone_from_location
from bot.settings import LANGUAGES
from storage.models import Profile, User, utcnow
from storage.uow import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
Mode = Literal["onboarding", "settings"]
MODES: tuple[Mode, ...] = ("onboarding", "settings")

STEPS: tuple[str, ...] = (
    "language",
    "role",
    "topics",
    "audience",
    "platforms",
    "main_platform",
    "goal",
    "timezone",
    "nudge_days",
    "nudge_time",
)
# Steps answered with buttons that toggle several choices, closed by "done".
MULTI_STEPS = frozenset({"audience", "platforms", "nudge_days"})
AUDIENCES: tuple[str, ...] = (
    "clients",
    "colleagues",
    "recruiters",
    "companies",
    "public_admin",
    "other",
)
WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
GOAL_CHOICES: tuple[int, ...] = (1, 2, 3, 5)
TIME_CHOICES: tuple[str, ...] = ("08:30", "09:00", "12:30", "18:00")
MAX_GOAL = 21
MAX_ROLE_CHARS = 200
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 40
DEFAULT_GOAL = 2
MAX_ZONE_TEXT = 40  # characters of a typed place quoted back


class InvalidAnswerError(Exception):
    """The answer does not fit the question; `reason` is a text id suffix, `value` what
    the user typed (quoted back where the text names it)."""

    def __init__(self, reason: str, value: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value


@dataclass(frozen=True)
class ProfileView:
    """Everything /profile shows."""

    language: str | None
    role: str | None
    topics: tuple[str, ...]
    audience: tuple[str, ...]
    platforms: tuple[str, ...]
    main_platform: str | None
    weekly_goal: int | None
    timezone: str | None
    nudge_days: tuple[int, ...]
    nudge_time: str | None
    onboarded: bool

    @property
    def zone(self) -> str:
        """The time zone to compute with (Rome until the user says otherwise)."""
        return self.timezone or DEFAULT_ZONE

    @property
    def goal(self) -> int:
        """The weekly goal to compute with."""
        return self.weekly_goal or DEFAULT_GOAL


@dataclass(frozen=True)
class Reminders:
    """What /profile says about the reminders beside the profile: quiet hours and a pause."""

    quiet_start: str
    quiet_end: str
    paused: bool
    paused_until: datetime | None


@dataclass(frozen=True)
class Step:
    """Where the user is in a profile dialogue."""

    mode: Mode
    name: str


def _view(user: User, profile: Profile | None) -> ProfileView:
    if profile is None:
        return ProfileView(user.language, None, (), (), (), None, None, None, (), None, False)
    return ProfileView(
        language=user.language,
        role=profile.role,
        topics=tuple(profile.topics),
        audience=tuple(profile.audience),
        platforms=tuple(profile.platforms),
        main_platform=profile.main_platform,
        weekly_goal=profile.weekly_goal,
        timezone=profile.timezone,
        nudge_days=tuple(profile.nudge_days),
        nudge_time=profile.nudge_time,
        onboarded=profile.onboarded_at is not None,
    )


# A draft sent in the middle of the questions: long, and at least two sentences.
DRAFT_MIN_CHARS = 160
_SENTENCE_END = re.compile(r"[.!?…](?:\s|$)")


def is_draft_not_answer(step: str, text: str) -> bool:
    """True when a text typed at a profile question is clearly a post draft, not an answer.

    Long (over DRAFT_MIN_CHARS) and several sentences; a role is still an answer while it
    fits (a two-sentence description of one's job is a fine role).
    """
    if len(text) < DRAFT_MIN_CHARS or len(_SENTENCE_END.findall(text.strip())) < 2:
        return False
    return not (step == "role" and len(" ".join(text.split())) <= MAX_ROLE_CHARS)


def parse_role(text: str) -> str:
    """A role or profession, one line, bounded."""
    role = " ".join(text.split())
    if not role:
        raise InvalidAnswerError("empty")
    if len(role) > MAX_ROLE_CHARS:
        raise InvalidAnswerError("role_too_long")
    return role


def parse_topics(text: str) -> list[str]:
    """Topics as free keywords separated by commas, semicolons or new lines."""
    topics: list[str] = []
    for part in re.split(r"[,;\n]+", text):
        topic = " ".join(part.split()).strip(" .#")
        if topic and topic.lower() not in (t.lower() for t in topics):
            topics.append(topic)
    if not topics:
        raise InvalidAnswerError("empty")
    if len(topics) > MAX_TOPICS or any(len(t) > MAX_TOPIC_CHARS for t in topics):
        raise InvalidAnswerError("topics_too_many")
    return topics


def parse_goal(text: str) -> int:
    """Posts a week: a whole number from 1 to MAX_GOAL."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*", text)
    if match is None:
        raise InvalidAnswerError("goal_not_number")
    goal = int(match.group(1))
    if not 1 <= goal <= MAX_GOAL:
        raise InvalidAnswerError("goal_out_of_range", match.group(1))
    return goal


def parse_time(text: str) -> str:
    """A local time of day as HH:MM."""
    parsed = parse_local_time(text[:20])
    if parsed is None:
        raise InvalidAnswerError("time_invalid", " ".join(text.split())[:20])
    return f"{parsed.hour:02d}:{parsed.minute:02d}"


def parse_zone(text: str) -> str:
    """An IANA time zone from a zone name or a city."""
    zone = resolve_zone(text)
    if zone is None:
        raise InvalidAnswerError("zone_unknown", " ".join(text.split())[:MAX_ZONE_TEXT])
    return zone


class ProfileService:
    """Reads and changes profiles; drives the onboarding and settings dialogue."""

    def __init__(self, uow: UnitOfWorkFactory, checklist: Checklist | None = None) -> None:
        self._uow = uow
        self._checklist = checklist

    def understood_topics(
        self, topics: Sequence[str], language: str
    ) -> tuple[TopicExpansion, ...]:
        """How the checklist will recognise each topic in a draft (by the thesaurus)."""
        if self._checklist is None:
            return ()
        return self._checklist.expand_topics(topics, language)

    async def _load(self, uow: UnitOfWork, user_id: int) -> tuple[User, Profile]:
        user = await uow.users.get(user_id)
        if user is None:
            raise LookupError(f"unknown user {user_id}")
        profile = await uow.profiles.get(user_id)
        if profile is None:
            profile = Profile(
                user_id=user_id,
                topics=[],
                audience=[],
                platforms=[],
                nudge_days=[],
                updated_at=utcnow(),
            )
            uow.profiles.add(profile)
        return user, profile

    async def view(self, user_id: int) -> ProfileView:
        """The user's profile (empty if they never filled it)."""
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise LookupError(f"unknown user {user_id}")
            return _view(user, await uow.profiles.get(user_id))

    async def reminders(self, user_id: int) -> Reminders | None:
        """The quiet hours and the pause of the user's reminders; None without reminders."""
        async with self._uow() as uow:
            schedule = await uow.nudges.get_schedule(user_id, "nudge")
            if schedule is None:
                return None
            return Reminders(
                schedule.quiet_start, schedule.quiet_end, schedule.paused, schedule.paused_until
            )

    async def step(self, user_id: int) -> Step | None:
        """The profile question the user is answering, if any."""
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        return _step_of(user)

    async def begin(self, user_id: int, mode: Mode, step: str = STEPS[0]) -> Step:
        """Start onboarding (from the first step) or edit one field from /settings."""
        if step not in STEPS:
            raise ValueError(step)
        async with self._uow() as uow:
            user, _ = await self._load(uow, user_id)
            user.dialogue = f"profile.{mode}"
            user.dialogue_data = {"step": step}
            await uow.commit()
        return Step(mode, step)

    async def answer_text(self, user_id: int, text: str) -> tuple[ProfileView, Step | None]:
        """Apply a typed answer to the current step (InvalidAnswerError if it does not fit)."""
        step = await self.step(user_id)
        zone = None
        if step is not None and step.name == "timezone":
            # The first city lookup loads an index for a second or two: not on the event loop.
            zone = await asyncio.to_thread(resolve_zone, text)
            if zone is None:
                raise InvalidAnswerError("zone_unknown", " ".join(text.split())[:MAX_ZONE_TEXT])
        return await self._answer(user_id, text=zone or text)

    async def answer_choice(
        self, user_id: int, step: str, value: str
    ) -> tuple[ProfileView, Step | None]:
        """Apply a button answer (only to the step being asked)."""
        return await self._answer(user_id, step=step, choice=value)

    async def answer_location(
        self, user_id: int, latitude: float, longitude: float
    ) -> tuple[ProfileView, Step | None]:
        """Apply a shared location to the time zone step."""
        zone = await asyncio.to_thread(zone_from_location, latitude, longitude)
        if zone is None:
            raise InvalidAnswerError("location_unknown")
        return await self._answer(user_id, step="timezone", text=zone)

    async def toggle(self, user_id: int, step: str, value: str) -> ProfileView | None:
        """Toggle one choice of a multi-choice step; None if that step is not being asked."""
        async with self._uow() as uow:
            user, profile = await self._load(uow, user_id)
            current = _step_of(user)
            if current is None or current.name != step or step not in MULTI_STEPS:
                return None
            if step == "audience" and value in AUDIENCES:
                profile.audience = _toggled(profile.audience, value, AUDIENCES)
            elif step == "platforms" and value in PLATFORMS:
                profile.platforms = _toggled(profile.platforms, value, PLATFORMS)
            elif step == "nudge_days" and value.isdigit() and int(value) in WEEKDAYS:
                profile.nudge_days = _toggled(profile.nudge_days, int(value), WEEKDAYS)
            else:
                return None
            profile.updated_at = utcnow()
            await uow.commit()
            return _view(user, profile)

    async def finish_step(self, user_id: int, step: str) -> tuple[ProfileView, Step | None] | None:
        """Close a multi-choice step ("done"); None if that step is not being asked."""
        async with self._uow() as uow:
            user, profile = await self._load(uow, user_id)
            current = _step_of(user)
            if current is None or current.name != step:
                return None
            following = _advance(user, profile, current)
            await uow.commit()
            return _view(user, profile), following

    async def skip(self, user_id: int) -> tuple[ProfileView, Step | None] | None:
        """Leave the current question unanswered and move on; None if there is none."""
        async with self._uow() as uow:
            user, profile = await self._load(uow, user_id)
            current = _step_of(user)
            if current is None:
                return None
            following = _advance(user, profile, current)
            await uow.commit()
            return _view(user, profile), following

    async def _answer(
        self,
        user_id: int,
        *,
        step: str | None = None,
        text: str | None = None,
        choice: str | None = None,
    ) -> tuple[ProfileView, Step | None]:
        async with self._uow() as uow:
            user, profile = await self._load(uow, user_id)
            current = _step_of(user)
            if current is None or (step is not None and current.name != step):
                raise InvalidAnswerError("stale")
            _apply(user, profile, current.name, text=text, choice=choice)
            profile.updated_at = utcnow()
            following = _advance(user, profile, current)
            await uow.commit()
            return _view(user, profile), following


def _step_of(user: User | None) -> Step | None:
    if user is None or not user.dialogue or not user.dialogue.startswith("profile."):
        return None
    mode = user.dialogue.removeprefix("profile.")
    name = (user.dialogue_data or {}).get("step")
    if mode not in MODES or name not in STEPS:
        return None
    return Step(mode, str(name))


def _toggled(values: list[T], value: T, order: tuple[T, ...]) -> list[T]:
    chosen = set(values) ^ {value}
    return [v for v in order if v in chosen]


def _apply(
    user: User,
    profile: Profile,
    step: str,
    *,
    text: str | None,
    choice: str | None,
) -> None:
    if step in MULTI_STEPS:
        # Typed answers to a button question: ask again with the buttons.
        raise InvalidAnswerError("use_buttons")
    if step == "language":
        value = choice or (text or "").strip().lower()[:8]
        if value not in LANGUAGES:
            raise InvalidAnswerError("use_buttons")
        user.language = value
    elif step == "role":
        profile.role = parse_role(text or "")
    elif step == "topics":
        profile.topics = parse_topics(text or "")
    elif step == "main_platform":
        value = choice or (text or "").strip().lower()[:16]
        if value not in PLATFORMS:
            raise InvalidAnswerError("use_buttons")
        profile.main_platform = value
        if value not in profile.platforms:
            profile.platforms = [p for p in PLATFORMS if p in {*profile.platforms, value}]
    elif step == "goal":
        profile.weekly_goal = parse_goal(choice or text or "")
    elif step == "timezone":
        # Buttons carry IANA names; typed places were resolved off the event loop.
        profile.timezone = parse_zone(choice or text or "")
    elif step == "nudge_time":
        profile.nudge_time = parse_time(choice or text or "")


def _advance(user: User, profile: Profile, current: Step) -> Step | None:
    """Move past the current step: the next onboarding question, or the end."""
    following: str | None = None
    if current.mode == "onboarding":
        index = STEPS.index(current.name) + 1
        while index < len(STEPS):
            candidate = STEPS[index]
            if candidate == "main_platform" and len(profile.platforms) <= 1:
                # Nothing to choose between: the only platform (if any) is the main one.
                profile.main_platform = profile.platforms[0] if profile.platforms else None
                index += 1
                continue
            following = candidate
            break
    if following is None:
        user.dialogue = None
        user.dialogue_data = None
        if current.mode == "onboarding" and profile.onboarded_at is None:
            profile.onboarded_at = utcnow()
        return None
    user.dialogue_data = {"step": following}
    return Step(current.mode, following)
