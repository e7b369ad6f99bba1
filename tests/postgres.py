"""A throwaway PostgreSQL server for the tests: found or installed, started, torn down.

The storage, flow and end-to-end tests run on SQLite and again on PostgreSQL. This module
finds the server programs (``initdb``, ``pg_ctl``), installing Debian's ``postgresql``
package when they are missing and we are root, starts a cluster in a temporary directory
that listens only on 127.0.0.1 on a free port with durability switched off, and creates and
drops the databases the tests use. Postgres refuses to run as root, so as root the cluster
belongs to the ``postgres`` system user that the Debian package creates.

Nothing here imports pytest: ``tests/conftest.py`` decides whether a missing server is a
failure (in CI) or a skip (on a developer's machine).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.loopback import free_port

SUPERUSER = "postgres"
# The system user the Debian package creates; the cluster runs as it when we are root.
SYSTEM_USER = "postgres"
DEBIAN_PROGRAMS = Path("/usr/lib/postgresql")
INSTALL_LOCK = Path(tempfile.gettempdir()) / "postcoach-postgres-install.lock"
DIRECTORY_PREFIX = "postcoach-pg-"
OWNER_FILE = "owner.pid"
INSTALL_TIMEOUT = 900.0
APT_COMMANDS = (
    shlex.split("apt-get update -q"),
    # The lock timeout waits out, say, unattended-upgrades on a freshly booted machine.
    shlex.split(
        "apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 postgresql"
    ),
)
START_ATTEMPTS = 3
# Speed over durability: the cluster lives for one test session. Autovacuum off: nothing
# lives long enough to need it, and a worker visiting the template makes CREATE DATABASE
# wait. The zone is deliberately not UTC, so code that leans on the server's zone shows up.
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "autovacuum": "off",
    "timezone": "'Europe/Rome'",
    "log_timezone": "'UTC'",
}

P = ParamSpec("P")
T = TypeVar("T")


class PostgresUnavailableError(Exception):
    """The server programs are missing and cannot be installed here; the message says why."""


def find_programs() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: from PATH, else Debian's newest."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    if DEBIAN_PROGRAMS.is_dir():
        versions = [p for p in DEBIAN_PROGRAMS.iterdir() if re.fullmatch(r"\d+(\.\d+)?", p.name)]
        versions.sort(key=lambda p: tuple(int(n) for n in p.name.split(".")), reverse=True)
        candidates += [version / "bin" for version in versions]
    for directory in candidates:
        if all((directory / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file (several test processes may install at once)."""
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _tail(output: str, lines: int = 15) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])


def install_programs() -> Path:
    """Install Debian's ``postgresql`` package with apt-get; return the programs' directory."""
    if os.geteuid() != 0:
        raise PostgresUnavailableError(
            "the PostgreSQL server is not installed and only root may install it: "
            "run `apt-get install postgresql` (or put initdb and pg_ctl on PATH)"
        )
    if shutil.which("apt-get") is None:
        raise PostgresUnavailableError(
            "the PostgreSQL server is not installed and there is no apt-get to install it"
        )
    with _exclusive(INSTALL_LOCK):
        found = find_programs()
        if found is not None:  # another test process installed it while we waited
            return found
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in APT_COMMANDS:
            try:
                result = subprocess.run(
                    command,
                    env=environment,
                    capture_output=True,
                    text=True,
                    timeout=INSTALL_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired as error:
                raise PostgresUnavailableError(
                    f"`{' '.join(command)}` took more than {INSTALL_TIMEOUT:.0f} s"
                ) from error
            if result.returncode != 0:
                raise PostgresUnavailableError(
                    f"`{' '.join(command)}` failed with exit code {result.returncode}:\n"
                    + _tail(result.stdout + result.stderr)
                )
    found = find_programs()
    if found is None:
        raise PostgresUnavailableError(
            f"installed postgresql but found no initdb and pg_ctl under {DEBIAN_PROGRAMS}"
        )
    return found


def ensure_programs() -> Path:
    """The server programs' directory, installing them first if they are missing."""
    return find_programs() or install_programs()


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: ours, or the ``postgres`` system user if we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise PostgresUnavailableError(
            f"running as root and there is no {SYSTEM_USER!r} user to run the server as "
            "(Debian's postgresql package creates it)"
        ) from None


def in_fresh_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call a function on a new thread, where asyncio.run works even inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


@dataclass
class PostgresCluster:
    """A running throwaway cluster: its port, and databases made from templates."""

    programs: Path
    directory: Path
    account: pwd.struct_passwd | None
    port: int = 0

    @property
    def data(self) -> Path:
        """The data directory."""
        return self.directory / "data"

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.directory / "server.log"

    def url(self, database: str) -> str:
        """The asyncpg URL of a database on this cluster, as the bot takes it."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one of the server programs as the account that owns the cluster."""
        ids: dict[str, Any] = {}
        if self.account is not None:
            ids = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        return subprocess.run(
            [str(self.programs / args[0]), *args[1:]],
            cwd=self.directory,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **ids,
        )

    def _give_to_account(self, path: Path) -> None:
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)

    def init(self) -> None:
        """Create the data directory and write the server settings into it."""
        self._give_to_account(self.directory)
        sockets = self.directory / "sockets"
        sockets.mkdir()
        self._give_to_account(sockets)
        # C.UTF-8 as on a Debian server; plain C where the system has no such locale.
        for locale in ("--locale=C.UTF-8", "--no-locale"):
            result = self._run(
                "initdb",
                f"--pgdata={self.data}",
                f"--username={SUPERUSER}",
                "--auth=trust",
                "--encoding=UTF8",
                locale,
                "--no-sync",
                "--no-instructions",
            )
            if result.returncode == 0:
                break
        else:
            raise RuntimeError(f"initdb failed:\n{_tail(result.stdout + result.stderr)}")
        settings = {**SERVER_SETTINGS, "unix_socket_directories": f"'{sockets}'"}
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# postcoach tests\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        """Start the server on a free port (another one if that port was taken meanwhile)."""
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            result = self._run(
                "pg_ctl",
                "start",
                f"--pgdata={self.data}",
                f"--log={self.log}",
                "--wait",
                "--timeout=60",
                f"--options=-p {self.port}",
            )
            if result.returncode == 0:
                return
        server_log = self.log.read_text(errors="replace") if self.log.exists() else ""
        raise RuntimeError(
            f"PostgreSQL did not start:\n{_tail(result.stdout + result.stderr)}\n"
            f"{_tail(server_log)}"
        )

    def stop(self) -> None:
        """Stop the server at once (nothing in it needs to survive)."""
        self._run("pg_ctl", "stop", f"--pgdata={self.data}", "--mode=immediate", "--wait")

    def execute(self, *statements: str) -> None:
        """Run statements outside a transaction, as the superuser, in the postgres database."""

        async def run() -> None:
            engine = create_async_engine(
                self.url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
            )
            try:
                async with engine.connect() as connection:
                    for statement in statements:
                        await connection.execute(text(statement))
            finally:
                await engine.dispose()

        in_fresh_thread(asyncio.run, run())

    def create_database(self, name: str | None = None, template: str = "template0") -> str:
        """A new database copied from a template (empty by default); returns its name."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, cutting off whoever is still connected to it."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def database(self, template: str = "template0") -> Iterator[str]:
        """The URL of a new database for the duration of the block; dropped afterwards."""
        name = self.create_database(template=template)
        try:
            yield self.url(name)
        finally:
            self.drop_database(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, alive
        return True
    return True


def _discard(cluster: PostgresCluster) -> None:
    if (cluster.data / "postmaster.pid").exists():
        cluster.stop()
    shutil.rmtree(cluster.directory, ignore_errors=True)


def reap_abandoned_clusters(programs: Path) -> None:
    """Stop and remove the clusters of test sessions that were killed before cleaning up."""
    account = _server_account()
    for directory in Path(tempfile.gettempdir()).glob(f"{DIRECTORY_PREFIX}*"):
        try:
            owner = int((directory / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being set up
        if not _alive(owner):
            _discard(PostgresCluster(programs, directory, account))


@contextmanager
def running_cluster(programs: Path) -> Iterator[PostgresCluster]:
    """A cluster started in a temporary directory; stopped and removed when the block ends.

    The directory names the process that owns it, so that a later session can reap the
    cluster if this one is killed (SIGKILL, or SIGTERM, skips the clean-up below).
    """
    account = _server_account()
    reap_abandoned_clusters(programs)
    directory = Path(tempfile.mkdtemp(prefix=DIRECTORY_PREFIX))
    cluster = PostgresCluster(programs, directory, account)
    (directory / OWNER_FILE).write_text(str(os.getpid()))
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        _discard(cluster)
