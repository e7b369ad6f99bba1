"""The groups' repositories on a real database: what a claim, a challenge and a member keep.

Each test runs on SQLite and on PostgreSQL (see tests/conftest.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_session_factory
from storage.models import User
from storage.repositories.groups import GroupRecord
from storage.uow import UnitOfWork

NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
CHAT = -100500


def _group(**changes: object) -> GroupRecord:
    group = GroupRecord(
        chat_id=CHAT,
        type="supergroup",
        title="Ingegneri",
        language="it",
        is_active=True,
        review_mode="short",
        timezone="Europe/Rome",
        challenge_enabled=True,
        challenge_day=0,
        challenge_time="09:00",
        challenge_theme=None,
        tip_enabled=False,
        tip_turn=0,
        next_challenge_at=NOW - timedelta(minutes=1),
        next_tip_at=None,
    )
    return replace(group, **changes)  # type: ignore[arg-type]


async def _with_group(engine: AsyncEngine, group: GroupRecord) -> UnitOfWork:
    uow = UnitOfWork(create_session_factory(engine))
    async with uow:
        await uow.groups.add(group, added_at=NOW)
        await uow.commit()
    return uow


async def test_a_claimed_group_advanced_is_kept(engine: AsyncEngine) -> None:
    uow = await _with_group(engine, _group())
    async with uow:
        [claimed] = await uow.groups.claim_due_challenges(NOW, limit=10)
        await uow.groups.update(replace(claimed, next_challenge_at=NOW + timedelta(days=7)))
        await uow.commit()
    async with uow:
        assert await uow.groups.claim_due_challenges(NOW, limit=10) == []
        assert await uow.groups.get(CHAT) == replace(
            claimed, next_challenge_at=NOW + timedelta(days=7)
        )


async def test_a_challenge_recorded_twice_for_one_instant_is_recorded_once(
    engine: AsyncEngine,
) -> None:
    uow = await _with_group(engine, _group())
    async with uow:
        first = await uow.challenges.add_once(CHAT, NOW, "behind_the_scenes", None)
        again = await uow.challenges.add_once(CHAT, NOW, "show_result", "sicurezza")
        await uow.commit()
    assert first is not None
    assert again is None
    async with uow:
        latest = await uow.challenges.get_latest(CHAT)
    assert latest is not None
    assert (latest.id, latest.idea, latest.theme) == (first, "behind_the_scenes", None)


async def test_a_challenge_is_found_by_its_due_instant_and_the_one_before_it(
    engine: AsyncEngine,
) -> None:
    uow = await _with_group(engine, _group())
    last_week = NOW - timedelta(days=7)
    async with uow:
        before = await uow.challenges.add_once(CHAT, last_week, "show_result", None)
        this = await uow.challenges.add_once(CHAT, NOW, "behind_the_scenes", "sicurezza")
        await uow.commit()
    async with uow:
        found = await uow.challenges.get_by_due(CHAT, NOW)
        previous = await uow.challenges.get_latest(CHAT, before=NOW)
        assert await uow.challenges.get_by_due(CHAT, NOW + timedelta(days=7)) is None
        assert await uow.challenges.get_latest(CHAT, before=last_week) is None
    assert found is not None
    assert (found.id, found.idea, found.theme) == (this, "behind_the_scenes", "sicurezza")
    assert previous is not None
    assert (previous.id, previous.due_at) == (before, last_week)


async def test_a_challenge_answers_its_message_only_within_the_window(
    engine: AsyncEngine,
) -> None:
    uow = await _with_group(engine, _group())
    async with uow:
        challenge_id = await uow.challenges.add_once(CHAT, NOW, "behind_the_scenes", None)
        assert challenge_id is not None
        await uow.challenges.mark_posted(challenge_id, message_id=77, posted_at=NOW)
        await uow.commit()
    async with uow:
        assert await uow.challenges.get_id_by_message(CHAT, 77) == challenge_id
        assert await uow.challenges.get_id_by_message(CHAT, 77, posted_since=NOW) == challenge_id
        later = NOW + timedelta(seconds=1)
        assert await uow.challenges.get_id_by_message(CHAT, 77, posted_since=later) is None
        assert await uow.challenges.get_latest_posted_id(CHAT, later) is None


async def test_a_member_renamed_keeps_their_leaderboard_choice(engine: AsyncEngine) -> None:
    uow = await _with_group(engine, _group())
    async with uow:
        uow.users.add(User(id=1, first_name="Anna"))
        uow.users.add(User(id=2, first_name="Luca"))
        await uow.session.flush()
        await uow.group_members.save(CHAT, 1, "Anna", opted_out=True)
        await uow.group_members.save(CHAT, 1, "Anna Rossi")
        await uow.group_members.save(CHAT, 2, "Luca")
        await uow.commit()
    async with uow:
        members = await uow.group_activity.list_members(CHAT)
    assert sorted((m.user_id, m.display_name, m.opted_out) for m in members) == [
        (1, "Anna Rossi", True),
        (2, "Luca", False),
    ]
