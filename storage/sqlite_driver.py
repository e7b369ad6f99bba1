"""SQLite for SQLAlchemy's async engine, run on the event loop's own thread.

SQLAlchemy reaches SQLite through aiosqlite, which runs every sqlite3 call on a thread of
its own, and its adapter makes four calls per statement (open a cursor, execute, fetch the
rows, close it). Each call is handed to the thread and its answer waits for the event
loop to come back to it, behind everything else the loop has to do. The statements
themselves take microseconds on a local file (WAL, synchronous=NORMAL: a commit writes
to the log without waiting for the disk), but under load the trips did not: at 50 busy
chats the one connection (storage/database.py) was checked out two thirds of the time,
and the bot's thread sat idle a fifth of the time waiting for it (benchmarks/throughput).

Here every statement runs at once on the calling thread: a plain sqlite3 call that
SQLAlchemy's aiosqlite dialect awaits without suspending. Only a commit goes to a worker
thread (see `InlineConnection.commit`): one trip per transaction instead of four per
statement. Everything SQLAlchemy
does (SQL, types, pooling, errors) is its aiosqlite dialect's: this module only stands in
for `aiosqlite.Connection`, and is passed as the engine's DBAPI module (`module=`).

What this trades: while a statement runs, the event loop waits for it, as it waits for
any other work. Statements here are small (a user's rows, a claim of at most one batch),
and they read and write the page cache; a process that needs more than one SQLite
connection's worth is what PostgreSQL is for.

What it must not trade is a wait for a lock. Another connection to the file (a second
process, `sqlite3` in a shell, a backup) may hold the write lock for seconds, and SQLite's
busy handler sleeps on the calling thread until it frees: inline, that froze the whole
bot (/healthz, /metrics and every reply waited 6.7 s behind one held lock). So the
connection's own busy timeout is 0: a statement that finds the file locked fails at once
with SQLITE_BUSY, and is tried again after an asynchronous pause (SQLite's own steps: 1,
2, 5, ... 100 ms) until `patience` runs out, while the loop does everything else. The
fast path is unchanged: one try, no lock, no pause.

`stream()` gets a cursor of its own (`InlineServerSideCursor`): its statement runs like any
other, and its rows are read from SQLite as they are asked for, a batch per fetch, on the
calling thread. Reading them takes no lock (a WAL reader's snapshot is taken when the
statement starts), so no fetch has to wait for one.

The classes here fill private hooks of SQLAlchemy's adapter (`_make_new_cursor`,
`_execute_async`, `_cursor_cls`, ...), which a release of SQLAlchemy may rename or stop
calling; tests/unit/test_sqlite_driver.py names any that changed on the SQLAlchemy
installed. `SQLITE_INLINE_DRIVER=false` (storage.database.create_engine's `inline`) runs
the stock adapter instead, on aiosqlite's thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)

T = TypeVar("T")
# How long a statement waits for another connection's lock before "database is locked".
PATIENCE_SECONDS = 10.0
# The pauses between tries, in seconds: SQLite's busy handler's, then its last one again.
BACKOFF = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.1)


def is_busy(error: sqlite3.OperationalError) -> bool:
    """Whether the statement failed only because another connection holds a lock.

    SQLITE_BUSY_SNAPSHOT is not: the transaction read a state another writer has since
    replaced, and trying again cannot help (SQLite's busy handler does not retry it either).
    """
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:  # an error raised by the sqlite3 module itself, not by SQLite
        return False
    return code & 0xFF == sqlite3.SQLITE_BUSY and code != sqlite3.SQLITE_BUSY_SNAPSHOT


class _Ran:
    """What SQLAlchemy reads of a cursor after its statement ran and its rows were fetched."""

    __slots__ = ("description", "lastrowid", "rowcount")
    arraysize = 1

    def __init__(
        self,
        description: Sequence[Any] | None = None,
        rowcount: int = -1,
        lastrowid: int | None = None,
    ) -> None:
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def close(self) -> None:
        """Nothing to close: the sqlite3 cursor is closed once its rows are fetched."""


class InlineCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, each statement one sqlite3 call made at once."""

    __slots__ = ()
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Ran()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        try:
            return self._run(operation, parameters, many=False)
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
        connection: InlineConnection = self._connection  # type: ignore[assignment]
        return await connection.when_unlocked(lambda: self._run(operation, parameters, many=False))

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        # The rows are a list (SQLAlchemy's), so a second try sees them all again.
        try:
            return self._run(operation, seq_of_parameters, many=True)
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
        connection: InlineConnection = self._connection  # type: ignore[assignment]
        return await connection.when_unlocked(
            lambda: self._run(operation, seq_of_parameters, many=True)
        )

    def _run(self, operation: str, parameters: Any, *, many: bool) -> _Ran:
        connection: InlineConnection = self._connection  # type: ignore[assignment]
        cursor = connection._conn.cursor()
        try:
            if many:
                cursor.executemany(operation, parameters)
            elif parameters is None:
                cursor.execute(operation)
            else:
                cursor.execute(operation, parameters)
            ran = _Ran(cursor.description, cursor.rowcount, cursor.lastrowid)
            if ran.description is not None:
                self._rows = deque(cursor.fetchall())
        finally:
            cursor.close()
        self._cursor = ran  # type: ignore[assignment]
        return ran


class InlineServerSideCursor(AsyncAdapt_aiosqlite_ss_cursor):
    """SQLAlchemy's aiosqlite server-side cursor (`stream()`), its rows fetched as asked."""

    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        # The sqlite3 cursor is opened by the statement, where an error is SQLAlchemy's.
        return _Ran()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        try:
            return self._open(operation, parameters, many=False)
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
        connection: InlineConnection = self._connection  # type: ignore[assignment]
        return await connection.when_unlocked(
            lambda: self._open(operation, parameters, many=False)
        )

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return self._open(operation, seq_of_parameters, many=True)
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
        connection: InlineConnection = self._connection  # type: ignore[assignment]
        return await connection.when_unlocked(
            lambda: self._open(operation, seq_of_parameters, many=True)
        )

    def _open(self, operation: str, parameters: Any, *, many: bool) -> sqlite3.Cursor:
        connection: InlineConnection = self._connection  # type: ignore[assignment]
        cursor = connection._conn.cursor()
        try:
            if many:
                cursor.executemany(operation, parameters)
            elif parameters is None:
                cursor.execute(operation)
            else:
                cursor.execute(operation, parameters)
        except BaseException:
            cursor.close()
            raise
        self._cursor = cursor  # type: ignore[assignment]
        return cursor

    @property
    def _statement(self) -> sqlite3.Cursor:
        # What `_open` put there: the statement's own sqlite3 cursor, not an awaitable one.
        return self._cursor  # type: ignore[return-value]

    def fetchone(self) -> Any:
        """The next row, or None."""
        return self._statement.fetchone()

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` more rows (the cursor's arraysize by default)."""
        cursor = self._statement
        return cursor.fetchmany(cursor.arraysize if size is None else size)

    def fetchall(self) -> list[Any]:
        """Every row left."""
        return self._statement.fetchall()

    def close(self) -> None:
        """Close the sqlite3 cursor, which ends its statement; closing twice is harmless."""
        if self._cursor is not None:
            self._statement.close()
            self._cursor = None  # type: ignore[assignment]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._statement)


class InlineAdaptedConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter with the inline cursors."""

    __slots__ = ()
    _cursor_cls = InlineCursor
    _ss_cursor_cls = InlineServerSideCursor

    def rollback(self) -> None:
        connection = self._connection._connection  # None once closed
        if connection is not None and not connection.in_transaction:
            # A session that only read (no transaction is open for a SELECT), given
            # back to the pool: nothing to undo.
            return
        super().rollback()


class _RunNow:
    """Stands for aiosqlite's queue to its thread: SQLAlchemy sets the isolation level
    by putting a (future, function) pair on it."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineConnection:
    """The part of `aiosqlite.Connection` SQLAlchemy's adapter uses, on the calling thread."""

    def __init__(self, connection: sqlite3.Connection, patience: float = PATIENCE_SECONDS) -> None:
        self._connection: sqlite3.Connection | None = connection
        self._tx = _RunNow()
        self.patience = patience

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            # The message aiosqlite gives; SQLAlchemy turns it into OperationalError.
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        """The sqlite3 connection's isolation level."""
        return self._conn.isolation_level

    async def when_unlocked(self, attempt: Callable[[], T]) -> T:
        """Try `attempt` again after pauses until no lock is in its way or patience runs out.

        A statement that found the file locked changed nothing (SQLite takes the lock
        before it writes), so it can simply run again.
        """
        deadline = time.monotonic() + self.patience
        pauses = iter(BACKOFF)
        while True:
            await asyncio.sleep(next(pauses, BACKOFF[-1]))
            try:
                return attempt()
            except sqlite3.OperationalError as error:
                if not is_busy(error) or time.monotonic() >= deadline:
                    raise

    async def commit(self) -> None:
        """Commit the open transaction, on a worker thread.

        A commit writes the log, and every thousand pages or so it also checkpoints it
        into the database file. Run inline, commits let the rate limiter's paced sends
        leave in bursts, which Telegram answers with 429 (benchmarks/nudge_dispatch at
        30 msg/s: a 0.65-0.69 share with 8-10 429s, against 0.91-0.96 with 0-1 here).
        The disk alone does not explain it (an fsync took 0.3 ms on the machine
        measured); the trip also gives the loop a pause at the end of each transaction.
        The connection is only ever used by one task at a time, so handing it to
        another thread is safe.
        """
        connection = self._conn
        if not connection.in_transaction:
            return
        try:
            await asyncio.to_thread(connection.commit)
        except sqlite3.OperationalError as error:
            # A commit can meet a reader still on the log it wants to reset; it stays open.
            if not is_busy(error):
                raise
            await self.when_unlocked(connection.commit)

    async def rollback(self) -> None:
        """Roll back the open transaction."""
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        """Register an SQL function (sqlite3's create_function)."""
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect uses: aiosqlite's, connecting inline."""

    def __init__(self, patience: float = PATIENCE_SECONDS) -> None:
        super().__init__(aiosqlite, sqlite3)
        self.patience = patience

    def connect(self, *args: Any, **kwargs: Any) -> InlineAdaptedConnection:
        kwargs.pop("async_creator_fn", None)
        # Only the event loop's thread uses it; the pool may close it from another.
        kwargs["check_same_thread"] = False
        # SQLite's busy handler would sleep on the loop's thread: never wait in there
        # (`InlineConnection.when_unlocked` waits instead). A URL's ?timeout= is the patience.
        patience = float(kwargs.pop("timeout", self.patience))
        kwargs["timeout"] = 0
        connection = InlineConnection(sqlite3.connect(*args, **kwargs), patience)
        return InlineAdaptedConnection(self, connection)  # type: ignore[arg-type]
