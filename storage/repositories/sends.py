"""The ledger every scheduled send goes through: recorded once under its unique key with a
lease, renewed while it is being sent, confirmed sent or failed. Never commits.

The statements here serve both ledgers: `nudge_sends` (nudges and Monday reviews, with their
schedules) and `scheduled_sends` (group challenges, channel tips, results questions). The
policy (lease, attempts, what a crash costs) is bot/claims.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from storage.models import NudgeSend, ScheduledSend

if TYPE_CHECKING:
    from storage.uow import UnitOfWork

LeasedSend = NudgeSend | ScheduledSend


@dataclass(frozen=True)
class NewScheduledSend:
    """One scheduled post to record under (kind, subject, due instant)."""

    kind: str
    subject_id: int
    chat_id: int
    due_at: datetime
    user_id: int | None = None
    variant: int | None = None


class LeaseStatements:
    """Renewing, releasing and confirming claims of one ledger table."""

    def __init__(self, uow: UnitOfWork, model: type[LeasedSend]) -> None:
        self._session = uow.session
        self._model = model

    async def renew(self, send_ids: Sequence[int], at: datetime) -> None:
        """Move the lease of sends still claimed to start at `at`."""
        model = self._model
        await self._session.execute(
            update(model)
            .where(model.id.in_(send_ids), model.status == "claimed")
            .values(claimed_at=at)
        )

    async def release(self, send_ids: Sequence[int]) -> None:
        """Sends still claimed that certainly did not reach Telegram: this attempt does not
        count, and the tick after their lease takes them again."""
        model = self._model
        await self._session.execute(
            update(model)
            .where(model.id.in_(send_ids), model.status == "claimed")
            .values(attempts=model.attempts - 1)
        )

    async def mark_failed(self, send_ids: Sequence[int]) -> None:
        """Sends still claimed failed for good."""
        model = self._model
        await self._session.execute(
            update(model)
            .where(model.id.in_(send_ids), model.status == "claimed")
            .values(status="failed")
        )


class ScheduledSendRepository(LeaseStatements):
    """The ledger of group challenges, channel tips and results questions."""

    def __init__(self, uow: UnitOfWork) -> None:
        super().__init__(uow, ScheduledSend)
        self._uow = uow

    async def add_once(self, send: NewScheduledSend, claimed_at: datetime) -> int | None:
        """Record a send claimed at `claimed_at`; its id, or None when another claim
        recorded it already."""
        statement = self._uow.insert_once(
            ScheduledSend,
            {
                "kind": send.kind,
                "subject_id": send.subject_id,
                "chat_id": send.chat_id,
                "user_id": send.user_id,
                "due_at": send.due_at,
                "variant": send.variant,
                "status": "claimed",
                "attempts": 1,
                "claimed_at": claimed_at,
            },
            ("kind", "subject_id", "due_at"),
        )
        row = (await self._session.execute(statement.returning(ScheduledSend.id))).first()
        return None if row is None else int(row[0])

    async def list_abandoned(
        self, kind: str, claimed_before: datetime, limit: int
    ) -> list[ScheduledSend]:
        """Up to `limit` sends of this kind still claimed since before `claimed_before`."""
        statement = (
            select(ScheduledSend)
            .where(
                ScheduledSend.kind == kind,
                ScheduledSend.status == "claimed",
                ScheduledSend.claimed_at < claimed_before,
            )
            .order_by(ScheduledSend.claimed_at)
            .limit(limit)
        )
        if self._uow.skip_locked:
            statement = statement.with_for_update(skip_locked=True)
        return list((await self._session.execute(statement)).scalars())

    async def mark_sent(self, send_ids: Sequence[int], at: datetime) -> None:
        """Sends still claimed went out at `at`."""
        await self._session.execute(
            update(ScheduledSend)
            .where(ScheduledSend.id.in_(send_ids), ScheduledSend.status == "claimed")
            .values(status="sent", sent_at=at)
        )
