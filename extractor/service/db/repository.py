"""The service database's core: its engine, schema migrations, and the transactions every query runs in.

Methods are synchronous (SQLAlchemy Core over a pooled engine): the service calls them in
worker threads, never on its event loop. `Database` gathers the queries, one module a job
beside this one: job rows (`jobs`), the runners' claims (`claims`), the runners' outcomes
(`recording`) and idempotency answers (`answers`), so that SQL is spoken only in this package.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.dialects import postgresql, sqlite

from .answers import AnswersMixin
from .claims import ClaimsMixin
from .engine import make_engine, transaction
from .jobs import JobsMixin
from .migrations import migrate
from .recording import RecordingMixin


class Database(JobsMixin, ClaimsMixin, RecordingMixin, AnswersMixin):
    """The service database (SQLite by default): jobs, their articles, idempotency keys, usage."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.dialect = self.engine.dialect.name

    def migrate(self) -> int:
        return migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        with transaction(self.engine, write=False) as connection:
            connection.execute(text("SELECT 1"))

    def _read(self) -> Any:
        return transaction(self.engine, write=False)

    def _write(self) -> Any:
        return transaction(self.engine, write=True)

    def _insert(self, table: Any) -> Any:
        """An INSERT that can say ON CONFLICT (SQLite and PostgreSQL spell it the same)."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)
