"""Moving a service database to another (`extractor serve --migrate-from STATE_DIR`): SQLite to PostgreSQL.

Every row of every table is copied, in batches, in one transaction of the target: a copy
that fails leaves the target as it was. Rows the target already holds (the same job, key,
day) are kept, not overwritten, so running the copy again adds nothing twice. Articles the
source had running (its process stopped or was killed) arrive pending: the replicas run
them, as they would have after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from .repository import Database
from .schema import articles, idempotency_keys, jobs, usage

BATCH = 1000
TABLES = (jobs, articles, idempotency_keys, usage)


@dataclass
class Copied:
    rows: dict[str, int] = field(default_factory=dict)  # rows offered per table (some may have been there)


def _arrived(table_name: str, row: dict[str, Any]) -> dict[str, Any]:
    if table_name == "articles" and row["status"] == "running":
        return {**row, "status": "pending", "claimed_by": None, "claim_expires": None}
    return row


def copy_database(source: Database, target: Database) -> Copied:
    """Every row of `source` into `target` (both at the latest schema)."""
    copied = Copied()
    with source.engine.connect() as reading, target.engine.begin() as writing:
        for table in TABLES:
            count = 0
            keys = list(table.primary_key.columns)
            result = reading.execution_options(stream_results=True).execute(select(table).order_by(*keys))
            for chunk in result.mappings().partitions(BATCH):
                rows = [_arrived(table.name, dict(row)) for row in chunk]
                insert = (postgresql.insert if target.dialect == "postgresql" else sqlite.insert)(table)
                writing.execute(insert.on_conflict_do_nothing(), rows)
                count += len(rows)
            copied.rows[table.name] = count
    return copied
