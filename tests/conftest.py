"""Fixtures: real troupe servers on SQLite and PostgreSQL, and clients for them."""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.postgres import PostgresCluster, create_database
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess
from troupe.services.tools import sync_builtin_tools
from troupe.store import Database
from troupe.tools.core import core_registry

BACKENDS = ["sqlite", "postgres"]

# The files that take minutes, longest first (their own work: a real local model, fuzzing,
# servers of their own; measured 7 December). `make test` gives each worker whole files
# (--dist loadfile) in the order collected (--no-loadscope-reorder); xdist's own order, most
# tests first, left these few-test files to the end, where one of them kept a worker busy
# for minutes while the other had nothing left. Taken first, they overlap with the rest.
LONGEST_FIRST = [
    "tests/cookbook/test_demo_words.py",
    "tests/drills/test_fuzz.py",
    "tests/server/test_summaries_embedded.py",
    "tests/cli/test_cli.py",
    "tests/server/test_persistence.py",
    "tests/server/test_readme_examples.py",
    "tests/cookbook/test_embedded_model.py",
    "tests/cookbook/test_workflow.py",
    "tests/tools/test_sandbox_drills.py",
    "tests/drills/test_overload.py",
]


@pytest.hookimpl(trylast=True)  # after pytest's own grouping by fixture, which it keeps
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first, then the others by their number of tests (xdist's measure)."""
    files = [item.nodeid.split("::", 1)[0] for item in items]
    tests_in = {f: files.count(f) for f in set(files)}
    rank = {f: i for i, f in enumerate(LONGEST_FIRST)}
    order = sorted(
        range(len(items)),
        key=lambda i: (rank.get(files[i], len(rank)), -tests_in[files[i]], files[i]),
    )
    items[:] = [items[i] for i in order]


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    if url := os.environ.get("TROUPE_TEST_POSTGRES_URL"):
        yield url
        return
    cluster = PostgresCluster().start()
    try:
        yield cluster.admin_url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def database_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """`make(backend)` -> a URL of a new, empty database of that kind."""

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'troupe.db'}"
        return create_database(request.getfixturevalue("postgres_admin_url"))

    return make


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, database_factory: Any) -> AsyncIterator[Database]:
    """A migrated store of each kind, with the built-in tools, used in-process."""
    database = Database(database_factory(request.param))
    await database.migrate()
    await sync_builtin_tools(database, core_registry())
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def shared_servers() -> Iterator[dict[str, ServerProcess]]:
    """The servers `server` hands out, one per backend, kept for the whole session.

    `server` is parametrized, and pytest tears a parametrized fixture down whenever the next
    test asks for the other parameter: with `--dist loadfile` a worker runs a file's SQLite
    tests, then its PostgreSQL ones, then the next file's, so both servers were started again
    at every file (a third of the suite's time). Held here, each starts once per worker."""
    servers: dict[str, ServerProcess] = {}
    try:
        yield servers
    finally:
        for proc in servers.values():
            proc.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest,
    shared_servers: dict[str, ServerProcess],
    database_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> ServerProcess:
    """A server shared by the tests of one backend; tests make their own uniquely named objects."""
    backend: str = request.param
    if backend not in shared_servers:
        home = tmp_path_factory.mktemp("home")
        shared_servers[backend] = ServerProcess(database_factory(backend), home).start()
    return shared_servers[backend]


@pytest.fixture(params=BACKENDS)
def fresh_server(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path: Path
) -> Iterator[ServerProcess]:
    """A server of its own on a new database, for tests that restart or count everything."""
    proc = ServerProcess(database_factory(request.param), tmp_path)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def sqlite_server(database_factory: Any, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own on SQLite alone, for slow tests worth one run."""
    proc = ServerProcess(database_factory("sqlite"), tmp_path)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def client(server: ServerProcess) -> Any:
    """The current official SDK (letta-client 1.x)."""
    from letta_client import Letta

    return Letta(base_url=server.url)


@pytest.fixture
def legacy_client(server: ServerProcess) -> Any:
    """The 0.1.x SDK line that Letta's multi-agent cookbooks pin."""
    return legacy_sdk().Letta(base_url=server.url)
