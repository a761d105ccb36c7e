"""The job store: one sqlite database (WAL) per batch job, one row per article.

The store is the job's source of truth. A result is written in the same transaction that
marks its article done, so a process killed at any moment leaves every article either done
(with its result) or not. One process writes at a time (see `lease`): the first write takes
the lease, and only then do rows a dead run left `running` go back to `pending`; a store
opened only to read (export) takes nothing. WAL with synchronous=NORMAL survives a killed
process (only an OS crash can lose the tail).

An article ends `done`, `failed` or `skipped` (triage left it out: no result, no model call).
The `fingerprint` column holds the key its outcome was made with: the job's reuse key for a
done or failed article, the triage key for a skipped one, so a later run keeps it skipped
only with triage on and deciding as before.
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
from ..schemas import ArticleExtraction, Usage
from .lease import Lease
from .outcome import Adopt, Origin, Outcome, Status, copy_header
from .schema import Row, create_or_migrate, select_list

# The statuses an article ends a run with (an outcome); pending and running are work to do.
FINISHED = ("done", "failed", "skipped")
# Failures of reading an input (a file, a record, a URL): judged again on every run.
INPUT_CAUSES = (Cause.INPUT.value, Cause.FETCH.value)


@dataclass
class Plan:
    """What a run has to do, decided once all inputs are registered."""

    work: list[SourcedArticle] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)  # keys already done/failed/skipped, in input order

    @property
    def total(self) -> int:
        return len(self.work) + len(self.finished)


class StoreReader:
    """Reading a job store: shared by its one writer (`JobStore`) and by readers beside it
    (`export` of a running job, the service's status and result routes, `events`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._columns: str | None = None

    @property
    def _select(self) -> str:
        """The columns a row is read with, as this store has them (read on first use)."""
        if self._columns is None:
            self._columns = select_list(self.db)
        return self._columns

    def close(self) -> None:
        self.db.close()

    def get(self, key: str) -> Row | None:
        row = self.db.execute(f"SELECT {self._select} FROM articles WHERE key = ?", (key,)).fetchone()
        return Row(*row) if row else None

    def outcome(self, key: str, *, origin: Origin = Origin.RESUMED) -> Outcome | None:
        """The outcome the store holds for a done, failed or skipped article; None otherwise."""
        row = self.get(key)
        return row.outcome(origin=origin) if row is not None and row.status in FINISHED else None

    def outcomes(self, *, status: Status) -> Iterator[Outcome]:
        """Every done (or failed, or skipped) article's outcome, in input order."""
        for row in self.rows(status=str(status)):
            yield row.outcome(origin=Origin.RESUMED)

    def rows(
        self, *, status: str | None = None, after_seq: int | None = None, limit: int | None = None
    ) -> Iterator[Row]:
        """Rows in input order; `after_seq` and `limit` page through them."""
        conditions: list[str] = []
        params: list[object] = []
        if status:
            conditions.append("status = ?")
            params.append(status)
        if after_seq is not None:
            conditions.append("seq > ?")
            params.append(after_seq)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        page = f"LIMIT {int(limit)}" if limit is not None else ""
        for row in self.db.execute(f"SELECT {self._select} FROM articles {where} ORDER BY seq, key {page}", params):
            yield Row(*row)

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM articles GROUP BY status").fetchall())

    def usage(self) -> Usage:
        """Tokens of every live model call the job made, over all runs: failed articles' and the
        calls of runs killed before their article finished included (they were paid for)."""
        return self.spent_totals()[1]

    def spent_totals(self) -> tuple[int, Usage]:
        """(live model calls, their tokens) over all runs, each recorded as it ended."""
        if "spent_calls" not in self._select:  # an old store opened read-only: the last extractions'
            sums = self.db.execute(
                "SELECT SUM(attempts), SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens) FROM articles"
            ).fetchone()
        else:
            sums = self.db.execute(
                "SELECT SUM(spent_calls), SUM(spent_prompt_tokens), SUM(spent_completion_tokens), "
                "SUM(spent_total_tokens) FROM articles"
            ).fetchone()
        calls, prompt, completion, total = (value or 0 for value in sums)
        return calls, Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


SQLITE_MAGIC = b"SQLite format 3\x00"


def is_job_store(path: Path) -> bool:
    """A batch job store is told apart from result files by the SQLite header, not its name."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


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
            create_or_migrate(self.db)
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

    def register(
        self,
        items: Iterable[SourceItem],
        *,
        fingerprint: str,
        retry_failed: bool = False,
        triage_key: str | None = None,
    ) -> Plan:
        """Record this run's inputs in one transaction and decide which need work.

        `triage_key`: this run's triage decision (None without triage); an article an earlier
        run skipped stays skipped only under the same key.
        """
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
                if self._register_article(item, seq, fingerprint, retry_failed, triage_key, now):
                    plan.work.append(item)
                else:
                    plan.finished.append(item.key)
        return plan

    def _register_article(
        self,
        item: SourcedArticle,
        seq: int,
        fingerprint: str,
        retry_failed: bool,
        triage_key: str | None,
        now: float,
    ) -> bool:
        """True when the article needs work in this run."""
        existing = self.db.execute(
            "SELECT sha256, fingerprint, status FROM articles WHERE key = ?", (item.key,)
        ).fetchone()
        if existing is not None and existing[0] == item.article.sha256:
            _, key, status = existing
            finished = (key == fingerprint and (status == "done" or (status == "failed" and not retry_failed))) or (
                status == "skipped" and triage_key is not None and key == triage_key
            )
        else:
            finished = False
        if finished:
            self.db.execute("UPDATE articles SET seq = ?, source = ? WHERE key = ?", (seq, item.where, item.key))
            return False
        # The row starts over, but what was spent on the article stays counted.
        self.db.execute(
            "INSERT INTO articles (key, seq, source, sha256, fingerprint, status, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (key) DO UPDATE SET seq = excluded.seq, "
            "source = excluded.source, sha256 = excluded.sha256, fingerprint = excluded.fingerprint, "
            "status = 'pending', attempts = 0, error_class = NULL, error_cause = NULL, error_message = NULL, "
            "http_status = NULL, prompt_tokens = 0, completion_tokens = 0, total_tokens = 0, latency_ms = NULL, "
            "reused_from = NULL, result = NULL, updated_at = excluded.updated_at",
            (item.key, seq, item.where, item.article.sha256, fingerprint, now),
        )
        return True

    def _upsert_failed_input(self, item: InputFailure, seq: int, now: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO articles (key, seq, source, status, error_class, error_cause, error_message, "
            "updated_at) VALUES (?, ?, ?, 'failed', ?, ?, ?, ?)",
            (item.key, seq, item.where, _error_class(item), item.cause, item.message, now),
        )

    # -- progress: the unit of work's store (`extractor.jobs.unit.OutcomeStore`) ---------------

    def earlier(self, item: SourcedArticle, reuse_key: str, adopt: Adopt = copy_header) -> Outcome | None:
        """The result of the same story (an identical text, or the first copy of a story read
        from several URLs) extracted with the same reuse key, made this article's with `adopt`
        and recorded (no model call); None when there is none."""
        row = self.db.execute(
            "SELECT key, result FROM articles WHERE sha256 = ? AND fingerprint = ? AND status = 'done' LIMIT 1",
            (item.content_key, reuse_key),
        ).fetchone()
        if row is None:
            return None
        source_key, result_json = row
        line = adopt(ArticleExtraction.model_validate_json(result_json), item.article).model_dump_json()
        outcome = Outcome.of(
            item, Status.DONE, line=line, origin=Origin.REUSED, reuse_key=reuse_key, reused_from=source_key
        )
        self.record(outcome)
        return outcome

    def started(self, key: str) -> None:
        """The article is being extracted now (a run that dies leaves it `running`, then pending)."""
        with self._transaction():
            self.db.execute("UPDATE articles SET status = 'running', updated_at = ? WHERE key = ?", (time.time(), key))

    def spent(self, key: str, usage: Usage, *, calls: int = 1) -> None:
        """A live model call for the article ended: counted now, whatever becomes of the article."""
        with self._transaction():
            self.db.execute(
                "UPDATE articles SET spent_calls = spent_calls + ?, spent_prompt_tokens = spent_prompt_tokens + ?, "
                "spent_completion_tokens = spent_completion_tokens + ?, "
                "spent_total_tokens = spent_total_tokens + ? WHERE key = ?",
                (calls, usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, key),
            )

    def release(self, key: str) -> None:
        """One article back to pending: its failure was the job's, not the article's."""
        self.requeue(key)

    def record(self, outcome: Outcome) -> None:
        """The article's done, failed or skipped outcome, its result in the same transaction."""
        if outcome.status is Status.SKIPPED:
            self._record_skipped(outcome)
            return
        usage = outcome.usage
        done = outcome.status is Status.DONE
        with self._transaction():
            self.db.execute(
                "UPDATE articles SET status = ?, result = ?, attempts = ?, prompt_tokens = ?, completion_tokens = ?, "
                "total_tokens = ?, latency_ms = ?, reused_from = ?, error_class = ?, error_cause = ?, "
                "error_message = ?, http_status = ?, updated_at = ? WHERE key = ?",
                (
                    "done" if done else "failed",
                    outcome.line if done else None,
                    outcome.attempts,
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    usage.total_tokens,
                    outcome.latency_ms,
                    outcome.reused_from,
                    None if done else outcome.error_class,
                    None if done or outcome.cause is None else str(outcome.cause),
                    None if done else outcome.message,
                    None if done else outcome.http_status,
                    time.time(),
                    outcome.key,
                ),
            )

    def _record_skipped(self, outcome: Outcome) -> None:
        """Triage left the article out: no result, nothing spent now, the triage key as its key."""
        with self._transaction():
            self.db.execute(
                "UPDATE articles SET status = 'skipped', fingerprint = ?, result = NULL, attempts = 0, "
                "prompt_tokens = 0, completion_tokens = 0, total_tokens = 0, latency_ms = NULL, reused_from = NULL, "
                "error_class = NULL, error_cause = NULL, error_message = NULL, http_status = NULL, updated_at = ? "
                "WHERE key = ?",
                (outcome.reuse_key, time.time(), outcome.key),
            )


def _error_class(item: InputFailure) -> str:
    return "FetchError" if item.cause == Cause.FETCH else "InputError"
