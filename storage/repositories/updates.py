"""The webhook's update ledger: the update ids already taken in, by every instance."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Table, delete

from storage.models import ProcessedUpdate

if TYPE_CHECKING:
    from storage.uow import UnitOfWork

UPDATES = cast(Table, ProcessedUpdate.__table__)


class UpdateRepository:
    """Update ids recorded once each, and forgotten after a while."""

    def __init__(self, uow: UnitOfWork) -> None:
        # The unit of work, not only its session: recording once needs its dialect's
        # insert_once, written once there.
        self._uow = uow
        self._session = uow.session

    async def add_new(self, update_ids: Iterable[int], received_at: datetime) -> set[int]:
        """Record the ids, skipping those already recorded; the ones recorded now."""
        values = [{"update_id": i, "received_at": received_at} for i in sorted(update_ids)]
        if not values:
            return set()
        statement = self._uow.insert_once(ProcessedUpdate, values, ("update_id",))
        result = await self._session.execute(statement.returning(ProcessedUpdate.update_id))
        return set(result.scalars())

    async def delete_before(self, cutoff: datetime) -> int:
        """Forget the ids received before `cutoff`; how many went."""
        result = await self._session.execute(delete(UPDATES).where(UPDATES.c.received_at < cutoff))
        return int(cast(CursorResult[Any], result).rowcount or 0)
