"""Draft history on a real database: pages, what each line shows, and who may reopen what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.history.service import HistoryService, headline
from storage.database import create_session_factory
from storage.models import Draft, DraftReview, Post, User
from storage.uow import unit_of_work_factory

ANNA = 1
LUCA = 2
T0 = datetime(2026, 3, 18, 11, 0, tzinfo=UTC)


def service(engine: AsyncEngine) -> HistoryService:
    return HistoryService(unit_of_work_factory(create_session_factory(engine)))


def draft(user_id: int, minutes: int, text: str = "Un post", version: int = 1) -> Draft:
    return Draft(
        user_id=user_id,
        chat_id=user_id,
        version=version,
        text=text,
        language="it",
        created_at=T0 + timedelta(minutes=minutes),
    )


def review(row: Draft, score: int, platform: str = "linkedin") -> DraftReview:
    return DraftReview(
        draft=row,
        user_id=row.user_id,
        platform=platform,
        language="it",
        score=score,
        created_at=row.created_at,
    )


async def store(engine: AsyncEngine, *drafts: Draft) -> list[int]:
    """Store the drafts (and the reviews attached to them); their ids, in order."""
    async with create_session_factory(engine)() as session:
        session.add_all([User(id=ANNA, first_name="Anna"), User(id=LUCA, first_name="Luca")])
        await session.flush()
        session.add_all(drafts)
        await session.commit()
    return [row.id for row in drafts]


async def test_page_lists_drafts_newest_first(engine: AsyncEngine) -> None:
    ids = await store(engine, draft(ANNA, 0), draft(ANNA, 10), draft(ANNA, 5))

    page = await service(engine).page(ANNA, 0)

    assert [entry.draft_id for entry in page.entries] == [ids[1], ids[2], ids[0]]


async def test_entry_shows_the_first_line_cut_near_sixty_characters(
    engine: AsyncEngine,
) -> None:
    await store(
        engine, draft(ANNA, 0, "Come ho ridotto del 30% i tempi di consegna " * 3 + "\nPoi")
    )

    (entry,) = (await service(engine).page(ANNA, 0)).entries

    assert len(entry.headline) <= 60
    assert entry.headline.startswith("Come ho ridotto del 30% i tempi di consegna")
    assert entry.headline.endswith("…")


async def test_entry_keeps_a_short_first_line_whole(engine: AsyncEngine) -> None:
    await store(engine, draft(ANNA, 0, "Titolo breve\ne il resto del post"))

    (entry,) = (await service(engine).page(ANNA, 0)).entries

    assert entry.headline == "Titolo breve"


async def test_entry_carries_version_and_creation_time(engine: AsyncEngine) -> None:
    await store(engine, draft(ANNA, 7, version=3))

    (entry,) = (await service(engine).page(ANNA, 0)).entries

    assert (entry.version, entry.created_at) == (3, T0 + timedelta(minutes=7))


async def test_entry_shows_the_latest_review(engine: AsyncEngine) -> None:
    row = draft(ANNA, 0)
    review(row, 55, "linkedin")
    latest = review(row, 70, "x")
    await store(engine, row)

    (entry,) = (await service(engine).page(ANNA, 0)).entries

    assert (entry.review_id, entry.score, entry.platform) == (latest.id, 70, "x")


async def test_draft_without_a_review_has_no_score(engine: AsyncEngine) -> None:
    await store(engine, draft(ANNA, 0))

    (entry,) = (await service(engine).page(ANNA, 0)).entries

    assert (entry.review_id, entry.score, entry.platform) == (None, None, None)


async def test_entry_says_whether_a_post_came_from_the_draft(engine: AsyncEngine) -> None:
    posted, kept = await store(engine, draft(ANNA, 0), draft(ANNA, 1))
    async with create_session_factory(engine)() as session:
        session.add(Post(user_id=ANNA, draft_id=posted, platform="linkedin", posted_at=T0))
        await session.commit()

    entries = (await service(engine).page(ANNA, 0)).entries

    assert {entry.draft_id: entry.posted for entry in entries} == {posted: True, kept: False}


async def test_pages_split_the_history_by_size(engine: AsyncEngine) -> None:
    ids = await store(engine, *(draft(ANNA, minutes) for minutes in range(7)))

    page = await service(engine).page(ANNA, 1, size=5)

    assert (page.page, page.pages, page.total, page.size) == (1, 2, 7, 5)
    assert [entry.draft_id for entry in page.entries] == [ids[1], ids[0]]
    assert page.has_previous
    assert not page.has_next


async def test_page_past_the_end_shows_the_last_page(engine: AsyncEngine) -> None:
    await store(engine, *(draft(ANNA, minutes) for minutes in range(7)))

    page = await service(engine).page(ANNA, 9, size=5)

    assert (page.page, len(page.entries)) == (1, 2)


async def test_negative_page_shows_the_first_page(engine: AsyncEngine) -> None:
    await store(engine, *(draft(ANNA, minutes) for minutes in range(3)))

    page = await service(engine).page(ANNA, -4, size=2)

    assert (page.page, len(page.entries), page.has_next) == (0, 2, True)


async def test_page_size_is_bounded_between_one_and_twenty(engine: AsyncEngine) -> None:
    await store(engine, *(draft(ANNA, minutes) for minutes in range(25)))

    assert len((await service(engine).page(ANNA, 0, size=0)).entries) == 1
    assert len((await service(engine).page(ANNA, 0, size=100)).entries) == 20


async def test_empty_history_is_one_empty_page(engine: AsyncEngine) -> None:
    page = await service(engine).page(ANNA, 0)

    assert (page.entries, page.page, page.pages, page.total) == ((), 0, 1, 0)


async def test_history_leaves_out_other_users_drafts(engine: AsyncEngine) -> None:
    mine, _theirs = await store(engine, draft(ANNA, 0), draft(LUCA, 1))

    page = await service(engine).page(ANNA, 0)

    assert ([entry.draft_id for entry in page.entries], page.total) == ([mine], 1)


async def test_open_draft_gives_its_latest_review(engine: AsyncEngine) -> None:
    row = draft(ANNA, 0)
    review(row, 55)
    latest = review(row, 70)
    (draft_id,) = await store(engine, row)

    assert await service(engine).open_draft(ANNA, draft_id) == latest.id


async def test_open_draft_of_another_user_gives_nothing(engine: AsyncEngine) -> None:
    row = draft(LUCA, 0)
    review(row, 55)
    (draft_id,) = await store(engine, row)

    assert await service(engine).open_draft(ANNA, draft_id) is None


async def test_open_draft_without_a_review_gives_nothing(engine: AsyncEngine) -> None:
    (draft_id,) = await store(engine, draft(ANNA, 0))

    assert await service(engine).open_draft(ANNA, draft_id) is None


async def test_open_unknown_draft_gives_nothing(engine: AsyncEngine) -> None:
    assert await service(engine).open_draft(ANNA, 999) is None


def test_headline_skips_leading_blank_lines() -> None:
    assert headline("\n  \nPrima riga\nseconda") == "Prima riga"
