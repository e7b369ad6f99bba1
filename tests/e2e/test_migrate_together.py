"""Several instances starting at once on a new database: each `postcoach migrate` waits for
the one that got there first, then finds nothing left to do."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storage.database import create_engine
from storage.migrate import current_revision, head_revision
from tests.e2e.conftest import POSTCOACH
from tests.postgres import PostgresCluster

INSTANCES = 3
# Without the lock, PostgreSQL failed every round (two CREATE TABLE of alembic_version).
ROUNDS = 3


@contextmanager
def _fresh_database(backend: str, request: pytest.FixtureRequest, path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{path / 'data' / 'postcoach.sqlite3'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    with cluster.database() as url:
        yield url


def _migrate_at_once(url: str, workdir: Path) -> list[tuple[int, str]]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "DATABASE_URL": url,
    }
    processes = [
        subprocess.Popen(
            [POSTCOACH, "migrate"],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(INSTANCES)
    ]
    outcomes = []
    for process in processes:
        output, _ = process.communicate(timeout=120)
        outcomes.append((process.returncode, output))
    return outcomes


def test_instances_migrating_together_all_succeed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    for round_number in range(ROUNDS):
        workdir = tmp_path / f"round{round_number}"
        workdir.mkdir()
        with _fresh_database(backend, request, workdir) as url:
            outcomes = _migrate_at_once(url, workdir)
            for code, output in outcomes:
                assert code == 0, output
                assert "Traceback" not in output, output

            async def revision() -> str | None:
                engine = create_engine(url)
                try:
                    return await current_revision(engine)
                finally:
                    await engine.dispose()

            assert asyncio.run(revision()) == head_revision()
