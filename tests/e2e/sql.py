"""Reading and nudging the bot's database from an e2e test, whatever the back-end.

The tests move time forward by setting a due instant in the past, the way a
clock that jumped would leave it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from storage.database import create_engine


def run_sql(
    url: str, statement: str, params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Execute one statement on the database at `url`; return the rows it yields."""

    async def run() -> list[tuple[Any, ...]]:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params or {})
                return [tuple(row) for row in result.all()] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


# An instant long past, bound as a datetime so each back-end stores it its own way.
LONG_AGO = datetime(2000, 1, 3, 8, 0, tzinfo=UTC)
