"""The job store's table and its row, and bringing a store an older version made up to date.

`create_or_migrate` runs when a store is opened to write: it creates the table, adds the
columns added since (`ADDED_COLUMNS`) and rebuilds a table whose status CHECK predates
`skipped`. A store opened only to read is never altered: `select_list` reads the columns it
lacks as their defaults.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..errors import read_cause
from ..schemas import Usage
from .outcome import SKIP_REASON, Origin, Outcome, Status

ARTICLES_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    key TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    source TEXT,
    sha256 TEXT,
    fingerprint TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error_class TEXT,
    error_cause TEXT,
    error_message TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    latency_ms REAL,
    reused_from TEXT,
    result TEXT,
    updated_at REAL NOT NULL,
    http_status INTEGER,
    spent_calls INTEGER NOT NULL DEFAULT 0,
    spent_prompt_tokens INTEGER NOT NULL DEFAULT 0,
    spent_completion_tokens INTEGER NOT NULL DEFAULT 0,
    spent_total_tokens INTEGER NOT NULL DEFAULT 0
);
"""
CONTENT_INDEX = "CREATE INDEX IF NOT EXISTS articles_by_content ON articles (sha256, fingerprint, status);"
SCHEMA = ARTICLES_TABLE.format(name="articles") + CONTENT_INDEX
# Columns added after the first stores: (name, declaration, value a store without it reads as).
ADDED_COLUMNS = (
    ("http_status", "INTEGER", "NULL"),
    ("spent_calls", "INTEGER NOT NULL DEFAULT 0", "0"),
    ("spent_prompt_tokens", "INTEGER NOT NULL DEFAULT 0", "0"),
    ("spent_completion_tokens", "INTEGER NOT NULL DEFAULT 0", "0"),
    ("spent_total_tokens", "INTEGER NOT NULL DEFAULT 0", "0"),
)
COLUMNS = (
    "key", "seq", "source", "sha256", "fingerprint", "status", "attempts", "error_class", "error_cause",
    "error_message", "prompt_tokens", "completion_tokens", "total_tokens", "latency_ms", "reused_from", "result",
    "http_status", "spent_calls", "spent_prompt_tokens", "spent_completion_tokens", "spent_total_tokens",
)  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One article's row, as stored. Engines hand `Outcome`s around (`outcome`), not rows.

    The usage columns are the last extraction's (its `meta.usage`); the `spent_*` columns
    count every live model call ever made for the article, each recorded as it ended, so
    calls of a run killed before the article finished are still counted.
    """

    key: str
    seq: int
    source: str | None
    sha256: str | None
    fingerprint: str | None
    status: str
    attempts: int
    error_class: str | None
    error_cause: str | None
    error_message: str | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    latency_ms: float | None
    reused_from: str | None
    result: str | None
    http_status: int | None = None
    spent_calls: int = 0
    spent_prompt_tokens: int = 0
    spent_completion_tokens: int = 0
    spent_total_tokens: int = 0

    @property
    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens, total_tokens=self.total_tokens
        )

    def outcome(self, *, origin: Origin) -> Outcome:
        """The outcome this row records (a pending or running row has none: it reads as failed)."""
        if self.status == Status.SKIPPED:
            return Outcome(
                key=self.key,
                status=Status.SKIPPED,
                where=self.source,
                origin=origin,
                sha256=self.sha256,
                reuse_key=self.fingerprint,
                message=SKIP_REASON,
            )
        cause, status = read_cause(self.error_cause)  # older stores hold `http_500`-style causes
        return Outcome(
            key=self.key,
            status=Status.DONE if self.status == "done" else Status.FAILED,
            where=self.source,
            line=self.result,
            origin=origin,
            sha256=self.sha256,
            reuse_key=self.fingerprint,
            reused_from=self.reused_from,
            error_class=self.error_class,
            cause=cause,
            http_status=self.http_status or status,
            message=self.error_message,
            attempts=self.attempts,
            usage=self.usage,
            latency_ms=self.latency_ms,
        )


def select_list(db: sqlite3.Connection) -> str:
    """The row's columns; those an older store lacks read as their default (a reader never alters a store)."""
    present = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
    missing = {name: default for name, _, default in ADDED_COLUMNS if name not in present}
    return ", ".join(f"{missing[name]} AS {name}" if name in missing else name for name in COLUMNS)


def add_columns(db: sqlite3.Connection) -> None:
    """Bring an older store up to date: the columns added since, filled as well as they can be."""
    present = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
    if all(name in present for name, _, _ in ADDED_COLUMNS):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for name, declaration, _ in ADDED_COLUMNS:
            if name not in present:
                db.execute(f"ALTER TABLE articles ADD COLUMN {name} {declaration}")
        if "spent_calls" not in present:
            # What was spent before calls were recorded one by one: each article's last extraction.
            db.execute(
                "UPDATE articles SET spent_calls = attempts, spent_prompt_tokens = prompt_tokens, "
                "spent_completion_tokens = completion_tokens, spent_total_tokens = total_tokens "
                "WHERE reused_from IS NULL"
            )
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def allow_skipped(db: sqlite3.Connection) -> None:
    """Bring a store from before triage up to date: its status CHECK did not allow `skipped`.

    SQLite cannot alter a CHECK constraint, so the table is rebuilt in one transaction: a new
    one with today's schema, every row copied, the old one dropped, the new one renamed.
    """
    (table,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'articles'").fetchone()
    if "'skipped'" in table:
        return
    columns = ", ".join(row[1] for row in db.execute("PRAGMA table_info(articles)"))  # every column, updated_at too
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(ARTICLES_TABLE.format(name="articles_rebuilt"))
        db.execute(f"INSERT INTO articles_rebuilt ({columns}) SELECT {columns} FROM articles")
        db.execute("DROP TABLE articles")
        db.execute("ALTER TABLE articles_rebuilt RENAME TO articles")
        db.execute(CONTENT_INDEX)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def create_or_migrate(db: sqlite3.Connection) -> None:
    """The table as this version writes it: created, or an older one brought up to date."""
    db.executescript(SCHEMA)
    add_columns(db)
    allow_skipped(db)
