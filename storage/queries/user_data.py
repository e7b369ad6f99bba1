"""A user's data: which rows are about them, in every table, and those rows as dictionaries.

`user_scope` decides, from the table metadata alone, which rows are "about a user"; privacy
export and erasure (UserRepository.erase) both use it, so a table added later by another
feature is covered the day its model lands in `storage.models`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, ForeignKey, MetaData, Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, User

# Foreign keys with these actions only detach a row from its parent: the row is not "about"
# the parent's owner, so erasure clears the reference instead of deleting the row.
_DETACHING_ACTIONS = frozenset({"SET NULL", "SET DEFAULT"})


@dataclass(frozen=True)
class ScopedTable:
    """A table and the condition that selects the rows about one user in it."""

    table: Table
    where: ColumnElement[bool]


@dataclass(frozen=True)
class ScopedReference:
    """A nullable foreign key whose value points at a row about the user."""

    table: Table
    column: Column[Any]
    where: ColumnElement[bool]


@dataclass(frozen=True)
class UserScope:
    """Every row about one user: tables parents first, and references to clear on erasure."""

    tables: tuple[ScopedTable, ...]
    references: tuple[ScopedReference, ...]


def _detaches(foreign_key: ForeignKey) -> bool:
    return (foreign_key.ondelete or "").upper() in _DETACHING_ACTIONS


def _refers_to_user(column: Column[Any], users: Table) -> bool:
    return column.name == "user_id" or any(
        foreign_key.column.table is users for foreign_key in column.foreign_keys
    )


def user_scope(user_id: int, metadata: MetaData = Base.metadata) -> UserScope:
    """The rows about a user, in every table of the metadata.

    The rule: a row is about the user when it is the user's `users` row, when one of its
    columns is named `user_id` or references `users.id` and holds the user's id, or when a
    foreign key that is not SET NULL/SET DEFAULT points at a row about the user (what
    ON DELETE CASCADE would remove, so `review_items` follow their review). A nullable
    SET NULL key pointing at such a row is a reference to clear, not a row to remove.
    """
    users = metadata.tables[User.__tablename__]
    wheres: dict[str, ColumnElement[bool]] = {}
    tables: list[ScopedTable] = []
    # Parents come first, so a parent's condition exists when its children need it.
    for table in metadata.sorted_tables:
        clauses: list[ColumnElement[bool]] = []
        if table is users:
            clauses.append(users.c.id == user_id)
        clauses.extend(
            column == user_id for column in table.columns if _refers_to_user(column, users)
        )
        for foreign_key in table.foreign_keys:
            parent = foreign_key.column.table
            parent_where = wheres.get(parent.name)
            # Keys to users are covered above; a self-reference would follow a chain of
            # rows that belong to whoever wrote them.
            if parent is users or parent is table or parent_where is None:
                continue
            if not _detaches(foreign_key):
                owned = select(foreign_key.column).where(parent_where).correlate(None)
                clauses.append(foreign_key.parent.in_(owned))
        if clauses:
            where = or_(*clauses)
            wheres[table.name] = where
            tables.append(ScopedTable(table, where))
    references = [
        ScopedReference(
            table,
            foreign_key.parent,
            # No correlation: the parent may be the very table being updated (drafts.parent_id).
            foreign_key.parent.in_(
                select(foreign_key.column)
                .where(wheres[foreign_key.column.table.name])
                .correlate(None)
            ),
        )
        for table in metadata.sorted_tables
        for foreign_key in table.foreign_keys
        if _detaches(foreign_key) and foreign_key.column.table.name in wheres
    ]
    return UserScope(tuple(tables), tuple(references))


class UserDataQueries:
    """The rows of a user scope, as plain column-name dictionaries."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def rows(self, scoped: ScopedTable) -> list[dict[str, Any]]:
        """Every row of the table about the user, in primary-key order."""
        statement = select(scoped.table).where(scoped.where)
        statement = statement.order_by(*scoped.table.primary_key.columns)
        result = await self._session.execute(statement)
        return [dict(row) for row in result.mappings()]
