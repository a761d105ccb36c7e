"""Opening the service database: a SQLAlchemy engine, and transactions that read or write.

SQLite (the embedded default, a file in the state directory): WAL, synchronous=NORMAL (a
killed process loses nothing committed; only an OS crash can lose the last transactions),
a busy timeout so that several processes share it, and writes that take the write lock at
BEGIN (`BEGIN IMMEDIATE`), so two writers never deadlock upgrading a read lock. Another
database URL (PostgreSQL) uses its own transactions as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

BUSY_TIMEOUT_MS = 30_000


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    """The engine for a database URL (`sqlite:///PATH`, or what SQLAlchemy accepts)."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
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
