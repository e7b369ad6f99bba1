"""Accounts: who is talking to the bot and in which language to answer them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta

from bot.reviews.service import DraftDefaults
from bot.settings import Language
from bot.texts.catalog import Texts
from storage.models import User, utcnow
from storage.repositories import SeenUser
from storage.uow import UnitOfWorkFactory

# Writing last_seen on every update costs a write per message; a coarse clock is enough.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)
# A /start payload as Telegram allows it in a deep link.
ORIGIN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Person:
    """What Telegram tells us about a user, without depending on telegram types."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class Account:
    """A known user as the handlers need them."""

    id: int
    first_name: str
    language: Language
    chosen_language: Language | None
    is_new: bool
    is_active: bool
    # The multi-step dialogue the user is in, if any (see storage.models.User.dialogue).
    dialogue: str | None = None
    # From the profile, what a review of their draft needs (none without a profile).
    draft_defaults: DraftDefaults = field(default_factory=DraftDefaults)


def _bounded(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else value


class AccountService:
    """Creates and updates users; decides their reply language."""

    def __init__(self, uow: UnitOfWorkFactory, texts: Texts) -> None:
        self._uow = uow
        self._texts = texts

    def _account(
        self,
        user: User | SeenUser,
        *,
        is_new: bool,
        draft_defaults: DraftDefaults | None = None,
    ) -> Account:
        chosen = self._texts.language_of(user.language) if user.language else None
        return Account(
            id=user.id,
            first_name=user.first_name,
            language=chosen or self._texts.language_of(user.telegram_language),
            chosen_language=chosen,
            is_new=is_new,
            is_active=user.is_active,
            dialogue=user.dialogue,
            draft_defaults=draft_defaults or DraftDefaults(),
        )

    async def touch(self, person: Person) -> Account:
        """Record that the person is here (creating them if new) and return their account."""
        now = utcnow()
        first_name = _bounded(person.first_name, 128) or ""
        last_name = _bounded(person.last_name, 128)
        username = _bounded(person.username, 64)
        language_code = _bounded(person.language_code, 16)
        async with self._uow() as uow:
            seen = await uow.users.get_seen(person.id)
            if seen is None:
                user = User(
                    id=person.id,
                    first_name=first_name,
                    last_name=last_name,
                    username=username,
                    telegram_language=language_code,
                    created_at=now,
                    last_seen_at=now,
                    is_active=True,
                )
                uow.users.add(user)
                await uow.commit()
                return self._account(user, is_new=True)
            changed = (
                seen.first_name != first_name
                or seen.last_name != last_name
                or seen.username != username
                or seen.telegram_language != language_code
                or now - seen.last_seen_at >= LAST_SEEN_RESOLUTION
            )
            if changed:
                await uow.users.record_seen(
                    person.id,
                    first_name=first_name,
                    last_name=last_name,
                    username=username,
                    telegram_language=language_code,
                    last_seen_at=now,
                )
                await uow.commit()
                seen = replace(seen, first_name=first_name, telegram_language=language_code)
            defaults = DraftDefaults.of(seen.main_platform, seen.topics)
            return self._account(seen, is_new=False, draft_defaults=defaults)

    async def ensure(self, person: Person) -> None:
        """Make sure a person we were not written to by exists (the author of a draft a
        colleague asked a group review of): a row to own the draft, nothing else. They are
        never written to first; `touch` records them when they do write."""
        async with self._uow() as uow:
            if await uow.users.get_seen(person.id) is not None:
                return
            now = utcnow()
            uow.users.add(
                User(
                    id=person.id,
                    first_name=_bounded(person.first_name, 128) or "",
                    last_name=_bounded(person.last_name, 128),
                    username=_bounded(person.username, 64),
                    telegram_language=_bounded(person.language_code, 16),
                    created_at=now,
                    last_seen_at=now,
                    is_active=True,
                )
            )
            await uow.commit()

    async def set_language(self, user_id: int, language: Language) -> Account | None:
        """Remember the language the user chose; None if the user is unknown."""
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                return None
            user.language = language
            await uow.commit()
            return self._account(user, is_new=False)

    async def note_origin(self, user_id: int, payload: str) -> bool:
        """Remember where the user came from (a /start payload), once: the first one stays.

        Only Telegram's deep-link alphabet is kept (letters, digits, _ and -, up to 64);
        anything else is ignored. True when it was stored.
        """
        if ORIGIN.fullmatch(payload) is None:
            return False
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None or user.came_from is not None:
                return False
            user.came_from = payload
            await uow.commit()
            return True

    async def end_dialogue(self, user_id: int, only: str | None = None) -> bool:
        """Close the question the user was answering (only that dialogue, if named).

        True when a dialogue was closed.
        """
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None or user.dialogue is None or only not in (None, user.dialogue):
                return False
            user.dialogue = None
            user.dialogue_data = None
            await uow.commit()
            return True
