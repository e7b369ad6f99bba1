"""Export and erasure of a user's data on a real database, every table included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.privacy.service import PrivacyService
from storage.database import create_session_factory
from storage.models import (
    Base,
    Draft,
    DraftReview,
    Post,
    PostResult,
    Profile,
    ReviewItem,
    Rewrite,
    User,
    UTCDateTime,
)
from storage.uow import unit_of_work_factory

ANNA = 1
LUCA = 2
T0 = datetime(2026, 3, 18, 11, 0, tzinfo=UTC)
# What seed() stores for one user, table by table.
ROWS_PER_USER_BY_TABLE = {
    User.__tablename__: 1,
    Profile.__tablename__: 1,
    Draft.__tablename__: 2,
    DraftReview.__tablename__: 2,
    ReviewItem.__tablename__: 4,
    Post.__tablename__: 1,
    PostResult.__tablename__: 1,
}
ROWS_PER_USER = sum(ROWS_PER_USER_BY_TABLE.values())


def user_rows(user_id: int) -> list[Base]:
    """A user with a profile, a draft and its revision (both reviewed) and a post with results."""
    first = Draft(user_id=user_id, chat_id=user_id, text="Primo", language="it", created_at=T0)
    second = Draft(
        user_id=user_id,
        chat_id=user_id,
        version=2,
        text="Secondo",
        language="it",
        created_at=T0 + timedelta(hours=1),
    )
    reviews = [
        DraftReview(
            draft=draft,
            user_id=user_id,
            platform="linkedin",
            language="it",
            score=score,
            top_fixes=["hook"],
            created_at=draft.created_at,
            items=[
                ReviewItem(item_id="hook", position=0, status="fail"),
                ReviewItem(item_id="clarity", position=1, status="pass"),
            ],
        )
        for draft, score in ((first, 55), (second, 72))
    ]
    post = Post(
        user_id=user_id,
        platform="linkedin",
        score=72,
        posted_at=T0 + timedelta(hours=2),
        result=PostResult(user_id=user_id, reactions=12, comments=3, opportunity=True),
    )
    profile = Profile(user_id=user_id, role="ingegnere", topics=["BIM"], weekly_goal=2)
    return [profile, first, second, *reviews, post]


async def seed(engine: AsyncEngine, *user_ids: int) -> None:
    async with create_session_factory(engine)() as session:
        session.add_all(User(id=user_id, first_name=f"U{user_id}") for user_id in user_ids)
        # Posts and profiles have no relationship to users: flush the users first.
        await session.flush()
        for user_id in user_ids:
            rows = user_rows(user_id)
            session.add_all(rows)
            await session.flush()
            drafts = [row for row in rows if isinstance(row, Draft)]
            drafts[1].parent_id = drafts[0].id
            post = next(row for row in rows if isinstance(row, Post))
            post.draft_id = drafts[1].id
            post.review_id = drafts[1].reviews[0].id
        await session.commit()


def service(engine: AsyncEngine, metadata: MetaData = Base.metadata) -> PrivacyService:
    return PrivacyService(unit_of_work_factory(create_session_factory(engine)), metadata)


def user_references(table: Table) -> list[Column[object]]:
    """The columns of a table that hold a user id (by name or by foreign key)."""
    return [
        column
        for column in table.columns
        if column.name == "user_id"
        or (table.name == "users" and column.name == "id")
        or any(key.column.table.name == "users" for key in column.foreign_keys)
    ]


async def rows_referencing(engine: AsyncEngine, metadata: MetaData, user_id: int) -> int:
    """How many rows, in every table of the metadata, still name the user."""
    found = 0
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            columns = user_references(table)
            if columns:
                statement = select(func.count()).select_from(table)
                statement = statement.where(or_(*(column == user_id for column in columns)))
                found += (await connection.execute(statement)).scalar_one()
    return found


async def count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(table))).scalar_one()


def extended_metadata() -> tuple[MetaData, Table, Table]:
    """Our tables plus two a later feature might add: one keyed by author, one by entry."""
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    entries = Table(
        "challenge_entries",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("author_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE")),
        Column("submitted_at", UTCDateTime),
    )
    votes = Table(
        "challenge_votes",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("entry_id", ForeignKey("challenge_entries.id", ondelete="CASCADE")),
        Column("weight", Integer),
    )
    return metadata, entries, votes


async def add_challenge_rows(
    engine: AsyncEngine, metadata: MetaData, entries: Table, votes: Table
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all, tables=[entries, votes])
        await connection.execute(
            entries.insert(),
            [
                {"id": 1, "author_id": ANNA, "submitted_at": T0},
                {"id": 2, "author_id": LUCA, "submitted_at": T0},
            ],
        )
        await connection.execute(
            votes.insert(),
            [{"id": 1, "entry_id": 1, "weight": 3}, {"id": 2, "entry_id": 2, "weight": 1}],
        )


async def test_export_holds_the_user_profile_drafts_reviews_and_posts(
    engine: AsyncEngine,
) -> None:
    await seed(engine, ANNA)

    export = await service(engine).export(ANNA)

    assert export["user"]["id"] == ANNA
    assert export["profile"]["role"] == "ingegnere"
    assert [draft["version"] for draft in export["drafts"]] == [1, 2]
    assert export["drafts"][1]["parent_id"] == export["drafts"][0]["id"]
    reviews = export["drafts"][1]["reviews"]
    assert [(review["score"], review["top_fixes"]) for review in reviews] == [(72, ["hook"])]
    assert [(item["item_id"], item["status"]) for item in reviews[0]["items"]] == [
        ("hook", "fail"),
        ("clarity", "pass"),
    ]
    (post,) = export["posts"]
    assert (post["draft_id"], post["review_id"]) == (export["drafts"][1]["id"], reviews[0]["id"])
    assert post["result"]["reactions"] == 12
    assert post["result"]["opportunity"] is True
    # Tables without a nested place (nudges) are exported generically, here empty.
    assert all(rows == [] for rows in export["tables"].values())


async def test_export_is_json_with_iso_timestamps(engine: AsyncEngine) -> None:
    await seed(engine, ANNA)

    export = json.loads(json.dumps(await service(engine).export(ANNA)))

    assert export["drafts"][0]["created_at"] == "2026-03-18T11:00:00+00:00"
    assert datetime.fromisoformat(export["posts"][0]["result"]["answered_at"]).tzinfo is not None


async def test_export_leaves_out_other_users_rows(engine: AsyncEngine) -> None:
    await seed(engine, ANNA, LUCA)

    export = await service(engine).export(ANNA)

    owners = {draft["user_id"] for draft in export["drafts"]} | {
        post["user_id"] for post in export["posts"]
    }
    assert owners == {ANNA}


async def test_export_of_an_unknown_user_is_empty(engine: AsyncEngine) -> None:
    export = await service(engine).export(404)

    assert (export["user"], export["profile"], export["drafts"], export["posts"]) == (
        None,
        None,
        [],
        [],
    )


async def test_export_includes_tables_added_by_later_features(engine: AsyncEngine) -> None:
    metadata, entries, votes = extended_metadata()
    await seed(engine, ANNA, LUCA)
    await add_challenge_rows(engine, metadata, entries, votes)

    export = await service(engine, metadata).export(ANNA)

    tables = {name: rows for name, rows in export["tables"].items() if rows}
    assert tables == {
        "challenge_entries": [{"id": 1, "author_id": ANNA, "submitted_at": T0.isoformat()}],
        "challenge_votes": [{"id": 1, "entry_id": 1, "weight": 3}],
    }


async def test_delete_leaves_no_row_referencing_the_user(engine: AsyncEngine) -> None:
    await seed(engine, ANNA, LUCA)

    await service(engine).delete(ANNA)

    assert await rows_referencing(engine, Base.metadata, ANNA) == 0


async def test_delete_keeps_other_users_rows(engine: AsyncEngine) -> None:
    await seed(engine, ANNA, LUCA)

    await service(engine).delete(ANNA)

    for table in Base.metadata.sorted_tables:
        assert await count(engine, table) == ROWS_PER_USER_BY_TABLE.get(table.name, 0), table.name


async def test_delete_returns_how_many_rows_went(engine: AsyncEngine) -> None:
    await seed(engine, ANNA, LUCA)

    assert await service(engine).delete(ANNA) == ROWS_PER_USER


async def test_delete_of_an_unknown_user_removes_nothing(engine: AsyncEngine) -> None:
    await seed(engine, LUCA)

    assert await service(engine).delete(404) == 0
    assert await rows_referencing(engine, Base.metadata, LUCA) > 0


async def test_delete_clears_other_rows_pointing_at_the_users_drafts(
    engine: AsyncEngine,
) -> None:
    await seed(engine, ANNA, LUCA)
    async with create_session_factory(engine)() as session:
        anna_draft = await session.scalar(select(Draft.id).where(Draft.user_id == ANNA).limit(1))
        luca_post = await session.scalar(select(Post).where(Post.user_id == LUCA))
        assert luca_post is not None
        luca_post.draft_id = anna_draft
        await session.commit()

    await service(engine).delete(ANNA)

    async with create_session_factory(engine)() as session:
        assert await session.scalar(select(Post.draft_id).where(Post.user_id == LUCA)) is None


@pytest.mark.backends("sqlite")
async def test_delete_does_not_need_sqlite_foreign_keys(
    engine: AsyncEngine, database_url: str
) -> None:
    await seed(engine, ANNA, LUCA)
    await engine.dispose()
    plain = create_async_engine(database_url)  # no PRAGMA foreign_keys: no cascades
    try:
        async with plain.connect() as connection:
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 0

        await service(plain).delete(ANNA)

        for name in (ReviewItem.__tablename__, PostResult.__tablename__):
            remaining = await count(plain, Base.metadata.tables[name])
            assert remaining == ROWS_PER_USER_BY_TABLE[name], name
    finally:
        await plain.dispose()


async def test_delete_erases_rows_in_tables_added_by_later_features(
    engine: AsyncEngine,
) -> None:
    metadata, entries, votes = extended_metadata()
    await seed(engine, ANNA, LUCA)
    await add_challenge_rows(engine, metadata, entries, votes)

    removed = await service(engine, metadata).delete(ANNA)

    assert removed == ROWS_PER_USER + 2
    assert await rows_referencing(engine, metadata, ANNA) == 0
    assert (await count(engine, entries), await count(engine, votes)) == (1, 1)


async def add_rewrites(engine: AsyncEngine, *user_ids: int) -> None:
    """A received rewrite and a failed attempt for each user, on their latest review."""
    async with create_session_factory(engine)() as session:
        for user_id in user_ids:
            review_id = await session.scalar(
                select(DraftReview.id)
                .where(DraftReview.user_id == user_id)
                .order_by(DraftReview.id.desc())
                .limit(1)
            )
            assert review_id is not None
            session.add_all(
                [
                    Rewrite(
                        user_id=user_id,
                        review_id=review_id,
                        status="ok",
                        text=f"Riscrittura {user_id}",
                        score=80,
                        draft_score=72,
                        new_facts=["12.000"],
                        created_at=T0,
                    ),
                    Rewrite(
                        user_id=user_id,
                        review_id=review_id,
                        status="timeout",
                        draft_score=72,
                        created_at=T0,
                    ),
                ]
            )
        await session.commit()


async def test_export_and_delete_cover_rewrites(engine: AsyncEngine) -> None:
    await seed(engine, ANNA, LUCA)
    await add_rewrites(engine, ANNA, LUCA)
    rewrites = Base.metadata.tables[Rewrite.__tablename__]

    export = await service(engine).export(ANNA)

    rows = export["tables"][Rewrite.__tablename__]
    assert [(row["user_id"], row["status"], row["text"]) for row in rows] == [
        (ANNA, "ok", f"Riscrittura {ANNA}"),
        (ANNA, "timeout", None),
    ]
    assert rows[0]["new_facts"] == ["12.000"]
    assert await service(engine).delete(ANNA) == ROWS_PER_USER + 2
    assert await rows_referencing(engine, Base.metadata, ANNA) == 0
    assert await count(engine, rewrites) == 2
