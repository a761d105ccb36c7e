"""The job store: one sqlite database (WAL) per batch job, one row per article.

The store is the job's source of truth. A result is written in the same transaction that
marks its article done, so a process killed at any moment leaves every article either done
(with its result) or not. One process writes at a time (see `lease`): the first write takes
the lease, and only then do rows a dead run left `running` go back to `pending`; a store
opened only to read (export) takes nothing. WAL with synchronous=NORMAL survives a killed
process (only an OS crash can lose the tail).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Cause, InputError
from ..input.sources import InputFailure, SourcedArticle, SourceItem
from ..schemas import Usage
from .lease import Lease

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    key TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    source TEXT,
    sha256 TEXT,
    fingerprint TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
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
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_by_content ON articles (sha256, fingerprint, status);
"""
# Failures of reading an input (a file, a record, a URL): judged again on every run.
INPUT_CAUSES = (Cause.INPUT.value, Cause.FETCH.value)
COLUMNS = (
    "key, seq, source, sha256, fingerprint, status, attempts, error_class, error_cause, error_message, "
    "prompt_tokens, completion_tokens, total_tokens, latency_ms, reused_from, result"
)


@dataclass(frozen=True)
class Row:
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

    @property
    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens, total_tokens=self.total_tokens
        )


@dataclass
class Plan:
    """What a run has to do, decided once all inputs are registered."""

    work: list[SourcedArticle] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)  # keys already done/failed, in input order

    @property
    def total(self) -> int:
        return len(self.work) + len(self.finished)


class StoreReader:
    """Reading a job store: shared by its one writer (`JobStore`) and by readers beside it
    (`export` of a running job, the service's status and result routes, `events`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def close(self) -> None:
        self.db.close()

    def get(self, key: str) -> Row | None:
        row = self.db.execute(f"SELECT {COLUMNS} FROM articles WHERE key = ?", (key,)).fetchone()
        return Row(*row) if row else None

    def rows(
        self, *, status: str | None = None, after_seq: int | None = None, limit: int | None = None
    ) -> Iterator[Row]:
        """Rows in input order; `after_seq` and `limit` page through them."""
        conditions, params = [], []
        if status:
            conditions.append("status = ?")
            params.append(status)
        if after_seq is not None:
            conditions.append("seq > ?")
            params.append(after_seq)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        page = f"LIMIT {int(limit)}" if limit is not None else ""
        for row in self.db.execute(f"SELECT {COLUMNS} FROM articles {where} ORDER BY seq, key {page}", params):
            yield Row(*row)

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM articles GROUP BY status").fetchall())

    def usage(self) -> Usage:
        """Tokens of every article, failed ones included: they were paid for."""
        sums = self.db.execute(
            "SELECT SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens) FROM articles"
        ).fetchone()
        prompt, completion, total = (value or 0 for value in sums)
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def open_reader(path: str | Path) -> StoreReader:
    """A job store opened read-only: it creates nothing and never takes the writer's lease."""
    return StoreReader(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5))


class JobStore(StoreReader):
    """A batch job's SQLite store: one row per article, with its status, usage and result."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:" and Path(self.path).is_dir():
            raise InputError(f"{self.path}: is a directory, not a job store")
        # isolation_level=None: transactions are explicit (`with self._transaction()`).
        super().__init__(sqlite3.connect(self.path, isolation_level=None, check_same_thread=False))
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=5000")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise InputError(f"{self.path}: not a job store ({exc})") from None
        self.lease = Lease(self.db, self.path) if self.path != ":memory:" else None

    def claim(self) -> None:
        """Become this store's one writer now (raises `StoreBusy` naming a live holder)."""
        with self._transaction():
            pass

    def close(self) -> None:
        if self.lease is not None:
            self.lease.release()
        self.db.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error (cancellation included).

        Every write holds the lease: the first one takes it (and requeues what a dead run
        left running), later ones check it was not taken over.
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if self.lease is not None and not self.lease.held:
                self.lease.acquire()
                self._requeue_running()
                self.lease.start_heartbeat()
            elif self.lease is not None:
                self.lease.check()
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- planning ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every article (a fresh run with --no-resume)."""
        with self._transaction():
            self.db.execute("DELETE FROM articles")

    def requeue_running(self) -> int:
        """Work this run left `running` (interrupted, cancelled) is to be done again."""
        with self._transaction():
            return self._requeue_running()

    def _requeue_running(self) -> int:
        return self.db.execute("UPDATE articles SET status = 'pending' WHERE status = 'running'").rowcount

    def requeue(self, key: str) -> None:
        """One article back to pending: its failure was the job's, not the article's."""
        with self._transaction():
            self.db.execute("UPDATE articles SET status = 'pending', updated_at = ? WHERE key = ?", (time.time(), key))

    def register(self, items: Iterable[SourceItem], *, fingerprint: str, retry_failed: bool = False) -> Plan:
        """Record this run's inputs in one transaction and decide which need a model call."""
        plan = Plan()
        seen: dict[str, str] = {}
        now = time.time()
        with self._transaction():
            # Input failures are re-judged on every run: a fixed file should not stay failed.
            self.db.execute("DELETE FROM articles WHERE error_cause IN (?, ?)", INPUT_CAUSES)
            for seq, item in enumerate(items):
                if isinstance(item, SourcedArticle) and item.key in seen:
                    if seen[item.key] == item.article.sha256:
                        continue  # the same article given twice: one row, one result
                    item = InputFailure(item.where, f"{item.where}: id {item.key!r} already used by another text")
                if isinstance(item, InputFailure):
                    if item.key not in seen:
                        seen[item.key] = ""
                        self._upsert_failed_input(item, seq, now)
                        plan.finished.append(item.key)
                    continue
                seen[item.key] = item.article.sha256
                if self._register_article(item, seq, fingerprint, retry_failed, now):
                    plan.work.append(item)
                else:
                    plan.finished.append(item.key)
        return plan

    def _register_article(
        self, item: SourcedArticle, seq: int, fingerprint: str, retry_failed: bool, now: float
    ) -> bool:
        """True when the article needs work in this run."""
        existing = self.db.execute(
            "SELECT sha256, fingerprint, status FROM articles WHERE key = ?", (item.key,)
        ).fetchone()
        same = existing is not None and existing[0] == item.article.sha256 and existing[1] == fingerprint
        if same and (existing[2] == "done" or (existing[2] == "failed" and not retry_failed)):
            self.db.execute("UPDATE articles SET seq = ?, source = ? WHERE key = ?", (seq, item.where, item.key))
            return False
        self.db.execute(
            "INSERT OR REPLACE INTO articles (key, seq, source, sha256, fingerprint, status, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'pending', ?)",
            (item.key, seq, item.where, item.article.sha256, fingerprint, now),
        )
        return True

    def _upsert_failed_input(self, item: InputFailure, seq: int, now: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO articles (key, seq, source, status, error_class, error_cause, error_message, "
            "updated_at) VALUES (?, ?, ?, 'failed', ?, ?, ?, ?)",
            (item.key, seq, item.where, _error_class(item), item.cause, item.message, now),
        )

    # -- progress ---------------------------------------------------------------------------

    def cached_result(self, sha256: str, fingerprint: str) -> tuple[str, str] | None:
        """(key, result JSON) of a finished extraction of the same text with the same settings."""
        row = self.db.execute(
            "SELECT key, result FROM articles WHERE sha256 = ? AND fingerprint = ? AND status = 'done' LIMIT 1",
            (sha256, fingerprint),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def mark_running(self, key: str) -> None:
        with self._transaction():
            self.db.execute("UPDATE articles SET status = 'running', updated_at = ? WHERE key = ?", (time.time(), key))

    def mark_done(
        self,
        key: str,
        result_json: str,
        *,
        usage: Usage,
        attempts: int,
        latency_ms: float | None,
        reused_from: str | None = None,
    ) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE articles SET status = 'done', result = ?, attempts = ?, prompt_tokens = ?, "
                "completion_tokens = ?, total_tokens = ?, latency_ms = ?, reused_from = ?, error_class = NULL, "
                "error_cause = NULL, error_message = NULL, updated_at = ? WHERE key = ?",
                (
                    result_json,
                    attempts,
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    usage.total_tokens,
                    latency_ms,
                    reused_from,
                    time.time(),
                    key,
                ),
            )

    def mark_failed(
        self,
        key: str,
        *,
        error_class: str,
        cause: str,
        message: str,
        attempts: int,
        usage: Usage | None = None,
        latency_ms: float | None,
    ) -> None:
        usage = usage or Usage()
        with self._transaction():
            self.db.execute(
                "UPDATE articles SET status = 'failed', result = NULL, error_class = ?, error_cause = ?, "
                "error_message = ?, attempts = ?, prompt_tokens = ?, completion_tokens = ?, total_tokens = ?, "
                "latency_ms = ?, updated_at = ? WHERE key = ?",
                (
                    error_class,
                    cause,
                    message,
                    attempts,
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    usage.total_tokens,
                    latency_ms,
                    time.time(),
                    key,
                ),
            )


def _error_class(item: InputFailure) -> str:
    return "FetchError" if item.cause == Cause.FETCH else "InputError"
