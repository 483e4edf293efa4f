"""Shared test fixtures. Real data lives in ../shared/data beside the checkout; tests that need it skip
with a clear reason where it is absent (a user's fresh clone) and run in CI where it is present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PERSONA4REC_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it sits beside the checkout in CI)")
    return SHARED_DATA


# -- the annotation database on every backend ---------------------------------------------------------------
# The annotation tests take their database URLs from `db_urls` (or `db_url`; `module_db_urls` for a
# module-scoped database), which run each test on SQLite and on a real PostgreSQL server (marked
# `postgres`). One server serves the whole session (tests/postgres_server.py); every URL handed out is a
# fresh database of its own, dropped after the test.

BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_server():
    """A temporary PostgreSQL server for the session; skipped only where it cannot be had (see the reasons)."""
    from postgres_server import PostgresServer, can_install_server, find_bin_dir

    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip('the PostgreSQL driver is not installed: pip install -e ".[postgres]" (make test does)')
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if can_install_server():
            pytest.fail(
                "PostgreSQL server binaries (initdb, postgres) not found although this user could install them: "
                "run scripts/install_system_deps.sh (make test does)"
            )
        pytest.skip(
            "PostgreSQL server binaries (initdb, postgres) not found and this user cannot install them: "
            "install Debian's postgresql package (or put initdb/postgres on PATH) to run the postgres tests"
        )
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


class DbUrls:
    """Hands out URLs of new, empty databases on one backend; `close()` drops the PostgreSQL ones."""

    def __init__(self, backend: str, folder: Path, request: pytest.FixtureRequest):
        self.backend = backend
        self.folder = folder
        self._request = request
        self._server = None
        self._made: list[str] = []

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    def new(self, name: str = "test") -> str:
        if self.is_sqlite:
            return f"sqlite:///{self.folder / f'{name}.sqlite'}"
        if self._server is None:
            self._server = self._request.getfixturevalue("postgres_server")
        url = self._server.create_database()
        self._made.append(url)
        return url

    def close(self) -> None:
        while self._made:
            self._server.drop_database(self._made.pop())


@pytest.fixture(scope="module", params=BACKENDS)
def db_backend(request) -> str:
    """ "sqlite" or "postgres" (module-scoped, so a module's shared database and its tests agree)."""
    return request.param


@pytest.fixture(scope="module")
def module_db_urls(db_backend, tmp_path_factory, request):
    urls = DbUrls(db_backend, tmp_path_factory.mktemp(f"db-{db_backend}"), request)
    yield urls
    urls.close()


@pytest.fixture
def db_urls(db_backend, tmp_path, request):
    urls = DbUrls(db_backend, tmp_path, request)
    yield urls
    urls.close()


@pytest.fixture
def db_url(db_urls) -> str:
    """The URL of a new, empty database on the test's backend."""
    return db_urls.new()
