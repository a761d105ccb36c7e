"""Versioned schema changes, applied at start-up: a small migration table, not Alembic.

The schema is one module (`schema.py`) used by one program; a table of applied versions and
an ordered list of steps is all it needs, runs the same on SQLite and PostgreSQL, and costs
no dependency or script folder. A new database gets the current schema at once and is
stamped with the last version (as Alembic's "create_all, then stamp head" does); an older
one runs the steps after its version, each in the transaction that records it. A change to
`schema.py` therefore comes with a step here that brings an existing database to it.

Every process of the service calls `migrate`: the first takes the write lock (SQLite's
`BEGIN IMMEDIATE`; PostgreSQL's transaction-scoped advisory lock `MIGRATION_LOCK`, so that
replicas starting together wait for one another) and the others find the work done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Engine, func, inspect, select, text
from sqlalchemy.schema import CreateColumn

from .engine import transaction
from .schema import jobs, metadata, schema_migrations


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _initial(connection: Connection) -> None:
    metadata.create_all(connection)


def _add_column(connection: Connection, column: Column[Any]) -> None:
    """`ALTER TABLE ... ADD COLUMN` for a column of `schema.py`, spelt by the database's dialect
    (its server default fills the rows already there)."""
    spec = CreateColumn(column).compile(dialect=connection.dialect)
    connection.execute(text(f"ALTER TABLE {column.table.name} ADD COLUMN {spec}"))


def _triage(connection: Connection) -> None:
    _add_column(connection, jobs.c.triage)
    _add_column(connection, jobs.c.skipped)


STEPS: tuple[Step, ...] = (
    Step(1, "jobs, articles, idempotency keys, usage", _initial),
    Step(2, "jobs: triage and their skipped articles", _triage),
)
LATEST = STEPS[-1].version
MIGRATION_LOCK = 0x65787472  # "extr": the advisory lock key of schema changes


class SchemaTooNew(Exception):
    """The database was written by a newer version of the service."""


def current_version(connection: Connection) -> int:
    if not inspect(connection).has_table(schema_migrations.name):
        return 0
    return int(connection.execute(select(func.coalesce(func.max(schema_migrations.c.version), 0))).scalar_one())


def migrate(engine: Engine) -> int:
    """Bring the database to the latest schema; the version it was at before."""
    with transaction(engine, write=True) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        found = current_version(connection)
        if found > LATEST:
            raise SchemaTooNew(f"the service database is at schema version {found}; this service knows up to {LATEST}")
        if found == 0:
            metadata.create_all(connection)
            connection.execute(
                schema_migrations.insert(),
                [{"version": s.version, "name": s.name, "applied_at": time.time()} for s in STEPS],
            )
            return 0
        for step in STEPS:
            if step.version > found:
                step.apply(connection)
                connection.execute(
                    schema_migrations.insert().values(version=step.version, name=step.name, applied_at=time.time())
                )
        return found
