"""Opening the service database: a SQLAlchemy engine, and transactions that read or write.

SQLite (the embedded default, a file in the state directory): WAL, synchronous=NORMAL (a
killed process loses nothing committed; only an OS crash can lose the last transactions),
a busy timeout so that several processes share it, and writes that take the write lock at
BEGIN (`BEGIN IMMEDIATE`), so two writers never deadlock upgrading a read lock.

PostgreSQL (`postgresql://...`, any number of replicas): psycopg 3 from the `postgres` extra,
READ COMMITTED transactions as the server gives them, connections checked before use (a
server that restarted costs one reconnect, not a failed request) and a connect timeout, so
that a server gone away is an error in seconds, not a hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 5
POSTGRES_SCHEMES = ("postgresql", "postgres")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def driver_url(url: str) -> str:
    """The URL SQLAlchemy opens: `postgresql://` and `postgres://` mean psycopg 3."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in POSTGRES_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    return url


def shown_url(url: str) -> str:
    """The URL as it may be logged or printed: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(an unreadable database URL)"


def make_engine(url: str) -> Engine:
    """The engine for a database URL (`sqlite:///PATH`, `postgresql://...`)."""
    if not url.startswith("sqlite"):
        return create_engine(
            driver_url(url), pool_pre_ping=True, pool_size=10, max_overflow=10, pool_recycle=1800,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "extractor-serve"},
        )  # fmt: skip
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        # Transactions are begun by us (below), not by the driver's guesswork.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """One transaction, committed at the end of the block, rolled back on any error."""
    with engine.connect() as connection:
        connection = connection.execution_options(write=write)
        with connection.begin():
            yield connection
