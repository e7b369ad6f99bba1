"""Update processing: updates from different chats run concurrently, one chat's in order.

Each chat's queue is bounded (`MAX_QUEUED_PER_CHAT`, the one being handled included): a
flood from one chat (a user pasting hundreds of messages, a script) would otherwise keep
its updates, and their replies at the chat's pace, in memory for as long as it lasts, and
a stop would wait for all of them. An update over the bound is dropped, and counted
(`postcoach_chat_queue_dropped_total{reason="full"}`). Once the application stops, the
updates still waiting for their chat's turn are dropped too (`reason="stopping"`): the
one being handled finishes its sends, the others were never started and would only hold
the exit up, a second a reply. Their number is one INFO line at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor

from bot.transport import metrics

logger = logging.getLogger(__name__)

# PTB's own semaphore is taken before our per-chat lock; keep it out of the way so
# a burst from one chat cannot take every slot while it waits for its turn.
_UNBOUNDED = 1_000_000
# Updates one chat may have waiting (the one being handled included). A person answering
# questions or sending drafts has a few; more is a flood whose drafts the per-user limit
# would turn away anyway.
MAX_QUEUED_PER_CHAT = 50


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


def _drop(coroutine: Awaitable[Any]) -> None:
    # Never started: close it so Python does not warn that it was never awaited.
    if isinstance(coroutine, Coroutine):
        coroutine.close()


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Keeps each chat's updates in arrival order while other chats proceed.

    A dialogue (or a burst of drafts in a group) must be answered in order,
    but one slow chat must not hold everyone else up.
    """

    def __init__(
        self, max_concurrent_updates: int, max_queued_per_chat: int = MAX_QUEUED_PER_CHAT
    ) -> None:
        super().__init__(_UNBOUNDED)
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._max_queued = max_queued_per_chat
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        # Chats dropping updates now: one log line per flood, not one per update.
        self._flooded: set[int] = set()
        self._application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._was_running = False
        self._dropped_stopping = 0

    def follow(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Drop the updates still queued once this application stops."""
        self._application = application

    def _stopping(self) -> bool:
        application = self._application
        if application is None:
            return False
        if application.running:
            self._was_running = True
            return False
        # Never started (updates fed in-process, as the tests do) is not stopping.
        return self._was_running

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's earlier updates, then for a free slot, then run."""
        key = _chat_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        queued = self._waiting.get(key, 0)
        if queued >= self._max_queued or self._stopping():
            _drop(coroutine)
            if queued < self._max_queued:
                self._dropped_while_stopping()
                return
            metrics.count_queue_drop("full")
            if key not in self._flooded:
                self._flooded.add(key)
                logger.info("chat %s has %d updates queued: dropping more", key, queued)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = queued + 1
        try:
            async with lock:
                if self._stopping():
                    _drop(coroutine)
                    self._dropped_while_stopping()
                    return
                async with self._slots:
                    await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                del self._locks[key]
                self._flooded.discard(key)

    def _dropped_while_stopping(self) -> None:
        self._dropped_stopping += 1
        metrics.count_queue_drop("stopping")

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Say how many updates the stop dropped: the operator's one line about them."""
        if self._dropped_stopping:
            logger.info(
                "stopping: dropped %d queued updates, never started",
                self._dropped_stopping,
            )
            self._dropped_stopping = 0
