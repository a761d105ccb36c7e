"""Shared test setup. The extractor_fixtures plugin (pyproject entry point), enabled by
`extractor_fixtures = "replay"` in pyproject's pytest options, puts every test in replay mode
with the network shut; pytester lets plugin tests run pytest."""

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for every test marked `ray` (num_cpus=2, no dashboard); its GCS address.

    Started on first use and shut down when the session ends, so Ray's few seconds of
    start-up are paid once. CLI tests join it with `--address`.
    """
    ray = pytest.importorskip("ray")
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL server for the session (Debian's package; `scripts/test` installs it)."""
    pytest.importorskip("psycopg", reason="needs the postgres extra")
    from extractor.testing.postgres import PostgresServer, postgres_bin

    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (scripts/test installs Debian's postgresql)")
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request) -> str:
    """The service database a test runs on: the same tests pass on both."""
    return request.param


@pytest.fixture(scope="module")
def module_database(backend, request) -> dict[str, str]:
    """The environment that puts a module's service on its backend (a fresh PostgreSQL database)."""
    return _database_env(backend, request)


@pytest.fixture
def database(backend, request) -> dict[str, str]:
    """The environment that puts a test's services on its backend (a fresh PostgreSQL database)."""
    return _database_env(backend, request)


def _database_env(backend: str, request) -> dict[str, str]:
    if backend == "sqlite":
        return {}
    return {"EXTRACTOR_DATABASE_URL": request.getfixturevalue("postgres_server").new_database()}
