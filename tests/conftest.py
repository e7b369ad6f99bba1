"""Shared fixtures: a fresh database per test on each back-end, the loaded texts and the
fake language model.

A test that uses a database (``database_url``, ``engine``, the flows' ``bot``, the
end-to-end ``bots``) runs twice, with the ids ``[sqlite]`` and ``[postgresql]``. The
PostgreSQL runs share one throwaway cluster per test session (``tests/postgres.py``), and
each gets its own database. ``-m "not postgresql"`` runs the SQLite half only;
``@pytest.mark.backends("sqlite")`` keeps a test that is about one back-end on it.

Where the PostgreSQL server cannot be had (not installed, and not root to install it), its
runs fail in CI (``CI=true``) and are skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.texts.catalog import Texts, load_texts
from storage.database import create_engine
from storage.migrate import upgrade, upgrade_engine
from tests.fakellm import FakeLLMServer
from tests.postgres import (
    PostgresCluster,
    PostgresUnavailableError,
    ensure_programs,
    find_programs,
    in_fresh_thread,
    running_cluster,
)

BACKENDS = ("sqlite", "postgresql")
# Migrated once per session; each test's database is a copy of it.
TEMPLATE = "postcoach_template"
_PROGRAMS = pytest.StashKey[Path | PostgresUnavailableError]()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _backend_param(name: str) -> object:
    if name not in BACKENDS:
        raise ValueError(f"unknown database back-end {name!r}: expected one of {BACKENDS}")
    marks = [pytest.mark.postgresql] if name == "postgresql" else []
    return pytest.param(name, id=name, marks=marks)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test that uses a database once per back-end (or on those its marker names)."""
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    names = marker.args if marker else BACKENDS
    metafunc.parametrize("backend", [_backend_param(name) for name in names], indirect=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Find, or install, the PostgreSQL programs before the first test starts.

    Done here rather than in a fixture because apt-get may take longer than a test's
    timeout, and only when a PostgreSQL run was collected.
    """
    config = session.config
    if config.option.collectonly or not any(
        item.get_closest_marker("postgresql") for item in session.items
    ):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if find_programs() is None and reporter is not None:
        reporter.write_line("PostgreSQL server not found: installing it with apt-get…")
    try:
        config.stash[_PROGRAMS] = ensure_programs()
    except PostgresUnavailableError as error:
        config.stash[_PROGRAMS] = error


def _unavailable(error: PostgresUnavailableError) -> NoReturn:
    message = f"PostgreSQL is not available for the tests: {error}"
    if _in_ci():
        pytest.fail(f"{message}\nCI=true: the PostgreSQL runs are required here.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster for the session, holding the migrated template database."""
    with ExitStack() as stack:
        unavailable: PostgresUnavailableError | None = None
        try:
            programs = request.config.stash.get(_PROGRAMS, None) or ensure_programs()
            if isinstance(programs, PostgresUnavailableError):
                raise programs
            cluster = stack.enter_context(running_cluster(programs))
        except PostgresUnavailableError as error:
            unavailable = error
        if unavailable is not None:  # out of the except block: one clear message, no chain
            _unavailable(unavailable)
        cluster.create_database(TEMPLATE)
        in_fresh_thread(upgrade, cluster.url(TEMPLATE))
        yield cluster


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database back-end of this run of the test (parametrised by pytest_generate_tests)."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database for one test: an SQLite file, or a PostgreSQL copy of the template.

    The PostgreSQL one is already migrated; migrating it again (as ``engine`` does) is a no-op.
    """
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'postcoach.sqlite3'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    with cluster.database(template=TEMPLATE) as url:
        yield url


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A fresh database with no tables at all, for whatever migrates it (the stairway, a bot)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'postcoach.sqlite3'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    with cluster.database() as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fully migrated database."""
    engine = create_engine(database_url)
    await upgrade_engine(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def texts() -> Texts:
    """The shipped texts."""
    return load_texts("it")


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeLLMServer]:
    """One fake model server for the module."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def llm(llm_server: FakeLLMServer) -> FakeLLMServer:
    """The fake model, echoing drafts, with no calls recorded."""
    llm_server.reset()
    return llm_server
