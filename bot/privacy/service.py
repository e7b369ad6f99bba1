"""The user's data rights: an export of everything stored about them, and its erasure.

Which rows are "about the user" is decided once, from the table metadata, by
`storage.queries.user_scope`: the user's `users` row; every row with a `user_id` column (or
any column referencing `users.id`) holding their id; and every row whose non-SET NULL
foreign key points at one of those (what ON DELETE CASCADE would remove, e.g.
`review_items`). A table added to `storage.models` later is therefore exported and erased
without touching this module.

The export nests the core tables (drafts with their reviews and item statuses, posts with
their results) and lists every other table in scope under `tables`, by table name; a row
that cannot be nested under its parent goes there too, so each row appears exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, cast

from storage.models import Base, Draft, DraftReview, Post, PostResult, Profile, ReviewItem, User
from storage.queries.user_data import MetaData, user_scope
from storage.uow import UnitOfWorkFactory

EXPORT_FORMAT = "postcoach.export"
EXPORT_VERSION = 1

Row = dict[str, Any]


def _jsonable(value: Any) -> Any:
    """A value json.dumps accepts: ISO 8601 for times, text for decimals and bytes."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    return value


def _nest(
    parents: list[Row], children: Iterable[Row], child_key: str, field: str, *, many: bool
) -> list[Row]:
    """Put each child under its parent's `field`; return the children with no parent here."""
    by_id = {parent["id"]: parent for parent in parents}
    grouped: dict[Any, list[Row]] = defaultdict(list)
    orphans: list[Row] = []
    for child in children:
        if child[child_key] in by_id:
            grouped[child[child_key]].append(child)
        else:
            orphans.append(child)
    for parent_id, parent in by_id.items():
        found = grouped.get(parent_id, [])
        parent[field] = found if many else (found[0] if found else None)
    return orphans


class PrivacyService:
    """Exports and erases everything stored about a user."""

    def __init__(self, uow: UnitOfWorkFactory, metadata: MetaData = Base.metadata) -> None:
        self._uow = uow
        # The tables to walk; tests pass a copy with extra tables to check the generic rule.
        self._metadata = metadata

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the user, JSON-serialisable (`user` is None if unknown)."""
        async with self._uow() as uow:
            # One session, one read transaction: the export is a consistent snapshot.
            rows = {
                scoped.table.name: await uow.user_data.rows(scoped)
                for scoped in user_scope(user_id, self._metadata).tables
            }
        users = rows.pop(User.__tablename__, [])
        profiles = rows.pop(Profile.__tablename__, [])
        drafts = rows.pop(Draft.__tablename__, [])
        reviews = rows.pop(DraftReview.__tablename__, [])
        posts = rows.pop(Post.__tablename__, [])
        leftovers: dict[str, list[Row]] = {
            ReviewItem.__tablename__: _nest(
                reviews, rows.pop(ReviewItem.__tablename__, []), "review_id", "items", many=True
            ),
            DraftReview.__tablename__: _nest(drafts, reviews, "draft_id", "reviews", many=True),
            PostResult.__tablename__: _nest(
                posts, rows.pop(PostResult.__tablename__, []), "post_id", "result", many=False
            ),
        }
        for table, orphans in leftovers.items():
            if orphans:
                rows[table] = orphans
        export = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "user_id": user_id,
            "user": users[0] if users else None,
            "profile": profiles[0] if profiles else None,
            "drafts": drafts,
            "posts": posts,
            "tables": rows,
        }
        return cast(dict[str, Any], _jsonable(export))

    async def delete(self, user_id: int) -> int:
        """Erase every row about the user in one transaction, from the files too; how many
        rows went."""
        scope = user_scope(user_id, self._metadata)
        async with self._uow() as uow:
            removed = await uow.users.erase(scope)
            await uow.commit()
            await uow.scrub_log()
        return removed
