"""Every query of the service database, as typed methods: the one place that speaks SQL.

Methods are synchronous (SQLAlchemy Core over a pooled engine): the service calls them in
worker threads, never on its event loop. Writes that change a job's articles update the
job's counters and status in the same transaction, so what a reader sees always adds up.
Claims take pending articles whose next attempt is due (`FOR UPDATE SKIP LOCKED` where the
database has it; SQLite's `BEGIN IMMEDIATE` serializes writers instead) and mark them
running for one runner until a lease time, which its heartbeat extends.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, case, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ...errors import Cause
from ...jobs.outcome import Status
from .engine import make_engine, transaction
from .migrations import migrate
from .rows import (
    ArticleRow,
    Claim,
    Finished,
    IdempotencyRow,
    JobRow,
    NewJob,
    Released,
    Spent,
    Write,
    row_dict,
)
from .schema import articles, idempotency_keys, jobs, usage

EXPIRED_MESSAGE = "the job's deadline passed before the article could be done"
CANCELLED_MESSAGE = "the job was cancelled before the article was done"
JOB_COLUMNS = [jobs.c[name] for name in JobRow.__dataclass_fields__]
ARTICLE_COLUMNS = [articles.c[name] for name in ArticleRow.__dataclass_fields__]


def final_status(job: dict[str, Any]) -> str | None:
    """A job's status once nothing of it is left to run; None while something is."""
    if job["cancel_requested"]:
        return "cancelled"
    if job["done"] + job["failed"] + job["skipped"] < job["total"]:
        return None
    if job["expired"]:
        return "expired"
    if job["failed"] == job["total"]:
        return "failed"
    return "completed_with_failures" if job["failed"] else "completed"


def utc_day(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d")


class Database:
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

    # -- jobs --------------------------------------------------------------------------------

    def _job_rows(self, job: NewJob) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The job's row and its articles' rows, as a new job stores them."""
        row = {
            "id": job.id, "owner": job.owner, "grounding": job.grounding, "triage": job.triage,
            "total": len(job.articles), "done": 0, "failed": 0, "expired": 0, "skipped": 0, "outcome_seq": 0,
            "calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "created_at": job.created_at,
            "started_at": None, "finished_at": None, "deadline_at": job.deadline_at, "cancel_requested": job.status == "cancelled",
            "idempotency_key": job.idempotency_key, "error": job.error,
        }  # fmt: skip
        article_rows = []
        for article in job.articles:
            entry = {
                "job_id": job.id, "seq": article.seq, "key": article.key, "owner": job.owner,
                "record": article.record, "sha256": article.sha256, "status": "pending",
                "next_attempt_at": job.created_at, "deadline_at": job.deadline_at, "tries": 0,
                "attempts": 0, "spent_calls": 0, "spent_prompt_tokens": 0, "spent_completion_tokens": 0,
                "spent_total_tokens": 0, "updated_at": job.created_at, "outcome_seq": None, "origin": None,
                "error_class": None, "cause": None, "message": None, "result": None, "reuse_key": None,
                "reused_from": None, "http_status": None, "latency_ms": None,
            }  # fmt: skip
            if article.failure is not None:
                entry.update(
                    status="failed", origin="input", error_class="InputError", cause=str(Cause.INPUT),
                    message=article.failure,
                )  # fmt: skip
            article_rows.append(entry)
        return row, article_rows

    @staticmethod
    def _count(row: dict[str, Any], article_rows: list[dict[str, Any]], status: str | None) -> None:
        """The job row's counters and status from its articles' rows (outcome numbers given in order)."""
        for entry in article_rows:
            if entry["status"] in ("done", "failed", "skipped"):
                row["outcome_seq"] += 1
                entry["outcome_seq"] = row["outcome_seq"]
                row[entry["status"]] += 1
                row["expired"] += entry.get("cause") == str(Cause.EXPIRED)
            elif status == "cancelled":
                entry["status"] = "cancelled"
        row["status"] = status or final_status(row) or "queued"
        if row["status"] != "queued" and row["finished_at"] is None:
            row["finished_at"] = row["created_at"]

    def _insert_job(self, connection: Connection, row: dict[str, Any], article_rows: list[dict[str, Any]]) -> None:
        connection.execute(jobs.insert().values(**row))
        for start in range(0, len(article_rows), 500):
            connection.execute(articles.insert(), article_rows[start : start + 500])

    def create_job(self, job: NewJob, answer: IdempotencyRow | None = None) -> JobRow | IdempotencyRow:
        """Store a job and its articles (and the idempotency answer) in one transaction.

        With an idempotency answer whose key is already taken (a concurrent retry won), nothing
        is stored and the stored answer is returned instead.
        """
        row, article_rows = self._job_rows(job)
        self._count(row, article_rows, job.status)
        try:
            with self._write() as connection:
                if answer is not None and (found := self._idempotency(connection, answer.owner, answer.key)):
                    return found
                self._insert_job(connection, row, article_rows)
                if answer is not None:
                    connection.execute(idempotency_keys.insert().values(**_answer_row(answer, job.created_at)))
        except IntegrityError:
            if answer is None:
                raise
            with self._read() as connection:
                found = self._idempotency(connection, answer.owner, answer.key)
            if found is None:
                raise
            return found
        return JobRow(**{name: row[name] for name in JobRow.__dataclass_fields__})

    def replace_job(self, job: NewJob, ended: dict[str, Any], *, finished_at: float | None = None) -> None:
        """Store a job brought from elsewhere (an earlier version's folder) in place of any of that id.

        `ended`: the job store rows of its articles that were done or failed.
        """
        row, article_rows = self._job_rows(job)
        spent = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        for entry in article_rows:
            found = ended.get(entry["key"])
            if found is None or entry["status"] == "failed":
                continue
            entry.update(
                status=found.status, result=found.result, reuse_key=found.fingerprint, origin="resumed",
                reused_from=found.reused_from, error_class=found.error_class, cause=found.error_cause,
                http_status=found.http_status, message=found.error_message, attempts=found.attempts,
                latency_ms=found.latency_ms, spent_calls=found.spent_calls,
                spent_prompt_tokens=found.spent_prompt_tokens,
                spent_completion_tokens=found.spent_completion_tokens, spent_total_tokens=found.spent_total_tokens,
            )  # fmt: skip
            spent["calls"] += found.spent_calls
            spent["prompt_tokens"] += found.spent_prompt_tokens
            spent["completion_tokens"] += found.spent_completion_tokens
            spent["total_tokens"] += found.spent_total_tokens
        row.update(spent, finished_at=finished_at)
        self._count(row, article_rows, job.status)
        with self._write() as connection:
            connection.execute(articles.delete().where(articles.c.job_id == job.id))
            connection.execute(jobs.delete().where(jobs.c.id == job.id))
            self._insert_job(connection, row, article_rows)

    def broken_job_ids(self) -> set[str]:
        with self._read() as connection:
            return set(connection.execute(select(jobs.c.id).where(jobs.c.error.like("broken:%"))).scalars())

    def get_job(self, job_id: str) -> JobRow | None:
        with self._read() as connection:
            found = connection.execute(select(*JOB_COLUMNS).where(jobs.c.id == job_id)).first()
        return JobRow(**row_dict(found)) if found else None

    def list_jobs(self, owner: str | None, *, after: str | None, limit: int) -> tuple[list[JobRow], bool]:
        """A page of jobs, newest first (`owner` None: everyone's); and whether more follow."""
        query = select(*JOB_COLUMNS)
        if owner is not None:
            query = query.where(jobs.c.owner == owner)
        with self._read() as connection:
            if after is not None:
                cursor = connection.execute(select(jobs.c.created_at, jobs.c.owner).where(jobs.c.id == after)).first()
                if cursor is None or (owner is not None and cursor.owner != owner):
                    return [], False
                query = query.where(
                    or_(
                        jobs.c.created_at < cursor.created_at,
                        and_(jobs.c.created_at == cursor.created_at, jobs.c.id < after),
                    )
                )
            query = query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit + 1)
            found = [JobRow(*row) for row in connection.execute(query)]
        return found[:limit], len(found) > limit

    def count_by_status(self) -> dict[str, int]:
        with self._read() as connection:
            return {
                status: count
                for status, count in connection.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
            }

    def queued_articles(self) -> int:
        """Articles of jobs not finished yet still to do: the jobs' share of the queue."""
        with self._read() as connection:
            left = connection.execute(
                select(func.coalesce(func.sum(jobs.c.total - jobs.c.done - jobs.c.failed - jobs.c.skipped), 0)).where(
                    jobs.c.status.in_(("queued", "running", "cancelling"))
                )
            ).scalar_one()
        return int(left)

    def cancel_job(self, job_id: str, now: float) -> JobRow | None:
        """Stop the job: its pending articles are never sent; it is cancelled once none runs."""
        with self._write() as connection:
            job = connection.execute(select(*JOB_COLUMNS).where(jobs.c.id == job_id)).first()
            if job is None:
                return None
            if job.status not in ("queued", "running"):
                return JobRow(**row_dict(job))
            connection.execute(update(jobs).where(jobs.c.id == job_id).values(cancel_requested=True))
            connection.execute(
                update(articles)
                .where(articles.c.job_id == job_id, articles.c.status == "pending")
                .values(status="cancelled", updated_at=now)
            )
            self._settle(connection, job_id, now)
            return JobRow(**row_dict(connection.execute(select(*JOB_COLUMNS).where(jobs.c.id == job_id)).one()))

    def retry_job(self, job_id: str, now: float, deadline_at: float) -> tuple[JobRow, int] | None:
        """Failed (not for their input) and cancelled articles back to the queue, under a new deadline."""
        with self._write() as connection:
            job = connection.execute(select(*JOB_COLUMNS).where(jobs.c.id == job_id)).first()
            if job is None:
                return None
            retryable = and_(
                articles.c.job_id == job_id,
                or_(
                    and_(articles.c.status == "failed", articles.c.cause != str(Cause.INPUT)),
                    articles.c.status == "cancelled",
                ),
            )
            counts = connection.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(case((articles.c.status == "failed", 1), else_=0)), 0),
                    func.coalesce(func.sum(case((articles.c.cause == str(Cause.EXPIRED), 1), else_=0)), 0),
                ).where(retryable)
            ).one()
            requeued, failed, expired = (int(value) for value in counts)
            if requeued:
                connection.execute(
                    update(articles)
                    .where(retryable)
                    .values(
                        status="pending", next_attempt_at=now, deadline_at=deadline_at, tries=0, claimed_by=None,
                        claim_expires=None, outcome_seq=None, origin=None, result=None, error_class=None,
                        cause=None, http_status=None, message=None, updated_at=now,
                    )
                )  # fmt: skip
                connection.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id)
                    .values(
                        failed=jobs.c.failed - failed, expired=jobs.c.expired - expired, cancel_requested=False,
                        status="running" if job.started_at else "queued", finished_at=None,
                        deadline_at=deadline_at, error=None,
                    )
                )  # fmt: skip
            row = connection.execute(select(*JOB_COLUMNS).where(jobs.c.id == job_id)).one()
        return JobRow(**row_dict(row)), requeued

    def delete_job(self, job_id: str) -> None:
        """The job, its articles and its idempotency answer, gone."""
        with self._write() as connection:
            connection.execute(articles.delete().where(articles.c.job_id == job_id))
            connection.execute(idempotency_keys.delete().where(idempotency_keys.c.job_id == job_id))
            connection.execute(jobs.delete().where(jobs.c.id == job_id))

    def finished_before(self, before: float, limit: int = 100) -> list[str]:
        """Jobs that ended before a time (for retention)."""
        with self._read() as connection:
            query = (
                select(jobs.c.id)
                .where(jobs.c.status.in_(("completed", "completed_with_failures", "failed", "cancelled", "expired")))
                .where(jobs.c.finished_at < before)
                .limit(limit)
            )
            return list(connection.execute(query).scalars())

    def forget_answers_before(self, before: float) -> int:
        with self._write() as connection:
            result = connection.execute(idempotency_keys.delete().where(idempotency_keys.c.created_at < before))
            return int(result.rowcount)

    # -- the queue ---------------------------------------------------------------------------

    def claim(self, worker: str, limit: int, now: float, lease: float) -> list[Claim]:
        """Up to `limit` due articles, now running for `worker` until `now + lease`.

        Articles whose job's deadline has passed are not handed out: they fail as `expired`.
        """
        due = (
            select(
                articles.c.job_id, articles.c.seq, articles.c.key, articles.c.owner, articles.c.record,
                articles.c.deadline_at, articles.c.tries,
            )
            .where(articles.c.status == "pending", articles.c.next_attempt_at <= now)
            .order_by(articles.c.next_attempt_at, articles.c.job_id, articles.c.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )  # fmt: skip
        with self._write() as connection:
            rows = connection.execute(due).all()
            if not rows:
                return []
            live = [row for row in rows if row.deadline_at > now]
            for row in rows:
                if row.deadline_at <= now:
                    self._end(connection, row.job_id, row.seq, now, expired=True)
            if live:
                connection.execute(
                    update(articles)
                    .where(articles.c.job_id == bindparam("b_job"), articles.c.seq == bindparam("b_seq"))
                    .values(status="running", claimed_by=worker, claim_expires=now + lease, updated_at=now),
                    [{"b_job": row.job_id, "b_seq": row.seq} for row in live],
                )
                job_ids = sorted({row.job_id for row in live})
                connection.execute(
                    update(jobs)
                    .where(jobs.c.id.in_(job_ids), jobs.c.status == "queued")
                    .values(status="running", started_at=now)
                )
                options = {
                    row.id: (row.grounding, row.triage)
                    for row in connection.execute(
                        select(jobs.c.id, jobs.c.grounding, jobs.c.triage).where(jobs.c.id.in_(job_ids))
                    )
                }
            for job_id in {row.job_id for row in rows if row.deadline_at <= now}:
                self._settle(connection, job_id, now)
        return [
            Claim(
                row.job_id,
                row.seq,
                row.key,
                row.owner,
                row.record,
                options[row.job_id][0],
                row.deadline_at,
                row.tries,
                bool(options[row.job_id][1]),
            )
            for row in live
        ]

    def extend_claims(self, worker: str, claimed: Sequence[tuple[str, int]], until: float) -> None:
        """The runner still works on these articles: their claims last until `until`."""
        if not claimed:
            return
        with self._write() as connection:
            connection.execute(
                update(articles)
                .where(
                    articles.c.job_id == bindparam("b_job"), articles.c.seq == bindparam("b_seq"),
                    articles.c.status == "running", articles.c.claimed_by == worker,
                )
                .values(claim_expires=until),
                [{"b_job": job_id, "b_seq": seq} for job_id, seq in claimed],
            )  # fmt: skip

    def release_expired_claims(self, now: float, *, all_of_them: bool = False) -> int:
        """Articles whose runner stopped renewing its claim (it died) go back to the queue.

        `all_of_them`: every running article, at start-up, when this host's processes (none
        running yet) are the database's only runners, as with SQLite; never with PostgreSQL,
        where other replicas hold claims of their own.
        """
        running = articles.c.status == "running"
        with self._write() as connection:
            stale = connection.execute(
                select(articles.c.job_id, articles.c.seq).where(
                    running if all_of_them else and_(running, articles.c.claim_expires < now)
                )
            ).all()
            for row in stale:
                # Guarded again: with several replicas the owner may have ended it meanwhile.
                guard = running if all_of_them else and_(running, articles.c.claim_expires < now)
                self._give_back(connection, row.job_id, row.seq, None, now, guard)
        return len(stale)

    def cancelled_among(self, job_ids: Iterable[str]) -> set[str]:
        ids = list(job_ids)
        if not ids:
            return set()
        with self._read() as connection:
            return set(
                connection.execute(select(jobs.c.id).where(jobs.c.id.in_(ids), jobs.c.cancel_requested)).scalars()
            )

    def find_earlier(self, owner: str, sha256: str, reuse_key: str) -> tuple[str, str] | None:
        """(key, result) of an identical text this owner already had extracted with the same reuse key."""
        with self._read() as connection:
            found = connection.execute(
                select(articles.c.key, articles.c.result)
                .where(
                    articles.c.owner == owner, articles.c.sha256 == sha256, articles.c.reuse_key == reuse_key,
                    articles.c.status == "done",
                )
                .limit(1)
            ).first()  # fmt: skip
        return (found.key, found.result) if found is not None and found.result is not None else None

    # -- write-behind: the runner's outcomes, in batches ---------------------------------------

    def apply(self, writes: Sequence[Write]) -> set[str]:
        """Apply the runner's writes in one transaction; the jobs they touched.

        What calls spent is added up first (per article, per job, per owner), so a batch of a
        thousand calls is a few statements, not a thousand.
        """
        now = time.time()
        touched: set[str] = set()
        per_article: dict[tuple[str, int], list[int]] = {}
        per_job: dict[str, list[int]] = {}
        per_owner: dict[tuple[str, str], list[int]] = {}
        for write in writes:
            if write.job_id is not None:
                touched.add(write.job_id)
            if not isinstance(write, Spent):
                continue
            tokens = write.usage
            amounts = [write.calls, tokens.prompt_tokens, tokens.completion_tokens, tokens.total_tokens]
            if write.job_id is not None and write.seq is not None:
                _add(per_article, (write.job_id, write.seq), amounts)
                _add(per_job, write.job_id, amounts)
            _add(per_owner, (write.owner, "job" if write.job_id else "request"), [int(write.request), *amounts])
        # Rows are locked in one order (job, then article) by every replica's batches: two
        # batches ending articles of the same jobs wait for each other instead of deadlocking.
        ordered = sorted(writes, key=lambda write: (write.job_id or "", write.seq or 0))
        per_article = dict(sorted(per_article.items()))
        per_job = dict(sorted(per_job.items()))
        per_owner = dict(sorted(per_owner.items()))
        with self._write() as connection:
            self._spent(connection, per_article, per_job, per_owner, now)
            for write in ordered:
                if isinstance(write, Finished):
                    self._finished(connection, write, now)
                elif isinstance(write, Released):
                    self._released(connection, write, now)
        return touched

    def _spent(
        self,
        connection: Connection,
        per_article: dict[tuple[str, int], list[int]],
        per_job: dict[str, list[int]],
        per_owner: dict[tuple[str, str], list[int]],
        now: float,
    ) -> None:
        if per_article:
            connection.execute(
                update(articles)
                .where(articles.c.job_id == bindparam("b_job"), articles.c.seq == bindparam("b_seq"))
                .values(
                    spent_calls=articles.c.spent_calls + bindparam("b_calls"),
                    spent_prompt_tokens=articles.c.spent_prompt_tokens + bindparam("b_prompt"),
                    spent_completion_tokens=articles.c.spent_completion_tokens + bindparam("b_completion"),
                    spent_total_tokens=articles.c.spent_total_tokens + bindparam("b_total"),
                ),
                [_amounts({"b_job": job_id, "b_seq": seq}, sums) for (job_id, seq), sums in per_article.items()],
            )
        if per_job:
            connection.execute(
                update(jobs)
                .where(jobs.c.id == bindparam("b_job"))
                .values(
                    calls=jobs.c.calls + bindparam("b_calls"),
                    prompt_tokens=jobs.c.prompt_tokens + bindparam("b_prompt"),
                    completion_tokens=jobs.c.completion_tokens + bindparam("b_completion"),
                    total_tokens=jobs.c.total_tokens + bindparam("b_total"),
                ),
                [_amounts({"b_job": job_id}, sums) for job_id, sums in per_job.items()],
            )
        day = utc_day(now)
        for (owner, source), (requests, *sums) in per_owner.items():
            values = {"requests": requests, "calls": sums[0], "prompt_tokens": sums[1],
                      "completion_tokens": sums[2], "total_tokens": sums[3]}  # fmt: skip
            insert = self._insert(usage).values(owner=owner, day=day, source=source, **values)
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=[usage.c.owner, usage.c.day, usage.c.source],
                    set_={name: usage.c[name] + insert.excluded[name] for name in values},
                )
            )

    def _finished(self, connection: Connection, write: Finished, now: float) -> None:
        outcome = write.outcome
        mine = and_(
            articles.c.job_id == write.job_id,
            articles.c.seq == write.seq,
            articles.c.status == "running",
            articles.c.claimed_by == write.worker,
        )
        error = {
            "error_class": outcome.error_class, "cause": None if outcome.cause is None else str(outcome.cause),
            "http_status": outcome.http_status, "message": outcome.message,
        }  # fmt: skip
        if write.requeue_at is not None:
            cancelled = connection.execute(select(jobs.c.cancel_requested).where(jobs.c.id == write.job_id)).scalar()
            connection.execute(
                update(articles)
                .where(mine)
                .values(
                    status="cancelled" if cancelled else "pending", next_attempt_at=write.requeue_at,
                    tries=articles.c.tries + 1, claimed_by=None, claim_expires=None, updated_at=now, **error,
                )
            )  # fmt: skip
            if cancelled:
                self._settle(connection, write.job_id, now)
            return
        done = outcome.status is Status.DONE
        failed = outcome.status is Status.FAILED
        changed = connection.execute(
            update(articles)
            .where(mine)
            .values(
                status=str(outcome.status), result=outcome.line if done else None,
                origin=str(outcome.origin), reused_from=outcome.reused_from, reuse_key=outcome.reuse_key,
                sha256=outcome.sha256, attempts=outcome.attempts, latency_ms=outcome.latency_ms,
                claimed_by=None, claim_expires=None, updated_at=now,
                **(error if failed else {**dict.fromkeys(error), "message": outcome.message}),
            )
        ).rowcount  # fmt: skip
        if changed:  # else the claim was lost (this runner was presumed dead): its outcome is not ours to record
            self._count_end(connection, write.job_id, write.seq, outcome.status, expired=outcome.cause is Cause.EXPIRED)
            self._settle(connection, write.job_id, now)

    def _released(self, connection: Connection, write: Released, now: float) -> None:
        mine = and_(articles.c.status == "running", articles.c.claimed_by == write.worker)
        self._give_back(connection, write.job_id, write.seq, write.retry_at, now, mine)
        if write.error is not None:
            connection.execute(update(jobs).where(jobs.c.id == write.job_id).values(error=write.error))

    def _give_back(
        self, connection: Connection, job_id: str, seq: int, retry_at: float | None, now: float, guard: Any
    ) -> None:
        cancelled = connection.execute(select(jobs.c.cancel_requested).where(jobs.c.id == job_id)).scalar()
        where = and_(articles.c.job_id == job_id, articles.c.seq == seq, *(() if guard is None else (guard,)))
        connection.execute(
            update(articles)
            .where(where)
            .values(
                status="cancelled" if cancelled else "pending", next_attempt_at=retry_at or now,
                claimed_by=None, claim_expires=None, updated_at=now,
            )
        )  # fmt: skip
        if cancelled:
            self._settle(connection, job_id, now)

    def _end(self, connection: Connection, job_id: str, seq: int, now: float, *, expired: bool) -> None:
        """A pending article fails without being sent (its job's deadline passed), saying what it last met."""
        last = connection.execute(
            select(articles.c.message).where(articles.c.job_id == job_id, articles.c.seq == seq)
        ).scalar()
        message = f"{EXPIRED_MESSAGE}; last error: {last}" if last else EXPIRED_MESSAGE
        connection.execute(
            update(articles)
            .where(articles.c.job_id == job_id, articles.c.seq == seq)
            .values(
                status="failed", origin="extracted", error_class="JobExpired", cause=str(Cause.EXPIRED),
                http_status=None, message=message, claimed_by=None, claim_expires=None, updated_at=now,
            )
        )  # fmt: skip
        self._count_end(connection, job_id, seq, Status.FAILED, expired=expired)

    def _count_end(self, connection: Connection, job_id: str, seq: int, status: Status, *, expired: bool) -> None:
        """One more article of the job ended: its counters, and the article's place in the outcome order."""
        outcome_seq: int = connection.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(
                outcome_seq=jobs.c.outcome_seq + 1,
                done=jobs.c.done + int(status is Status.DONE),
                failed=jobs.c.failed + int(status is Status.FAILED),
                skipped=jobs.c.skipped + int(status is Status.SKIPPED),
                expired=jobs.c.expired + int(expired),
            )
            .returning(jobs.c.outcome_seq)
        ).scalar_one()
        connection.execute(
            update(articles).where(articles.c.job_id == job_id, articles.c.seq == seq).values(outcome_seq=outcome_seq)
        )

    def _settle(self, connection: Connection, job_id: str, now: float) -> None:
        """The job's final status once nothing of it is left to run (a cancelled one: none running)."""
        job = connection.execute(select(*JOB_COLUMNS).where(jobs.c.id == job_id)).first()
        if job is None or job.status in ("completed", "completed_with_failures", "failed", "cancelled", "expired"):
            return
        values = row_dict(job)
        if job.cancel_requested:
            running = connection.execute(
                select(func.count()).where(articles.c.job_id == job_id, articles.c.status == "running")
            ).scalar_one()
            status: str | None = "cancelling" if running else "cancelled"
        else:
            status = final_status(values)
        if status is not None and status != job.status:
            finished = None if status == "cancelling" else now
            connection.execute(update(jobs).where(jobs.c.id == job_id).values(status=status, finished_at=finished))

    # -- reading a job's articles ------------------------------------------------------------

    def outcomes(self, job_id: str, *, statuses: tuple[str, ...], after: int = 0, limit: int = 500) -> list[ArticleRow]:
        """Ended articles of a job in the order they ended, after an outcome number."""
        with self._read() as connection:
            rows = connection.execute(
                select(*ARTICLE_COLUMNS)
                .where(articles.c.job_id == job_id, articles.c.outcome_seq > after, articles.c.status.in_(statuses))
                .order_by(articles.c.outcome_seq)
                .limit(limit)
            ).all()
        return [ArticleRow(**row_dict(row)) for row in rows]

    def outcome_position(self, job_id: str, key: str) -> int | None:
        """Where an ended article is in its job's outcome order (a page cursor); None if unknown."""
        with self._read() as connection:
            found = connection.execute(
                select(articles.c.outcome_seq).where(articles.c.job_id == job_id, articles.c.key == key)
            ).first()
        return None if found is None or found.outcome_seq is None else int(found.outcome_seq)

    def job_ids(self) -> set[str]:
        with self._read() as connection:
            return set(connection.execute(select(jobs.c.id)).scalars())

    # -- idempotency -------------------------------------------------------------------------

    def _idempotency(self, connection: Connection, owner: str, key: str) -> IdempotencyRow | None:
        found = connection.execute(
            select(idempotency_keys).where(idempotency_keys.c.owner == owner, idempotency_keys.c.key == key)
        ).first()
        if found is None:
            return None
        values = row_dict(found)
        values["headers"] = json.loads(values["headers"] or "{}")
        return IdempotencyRow(**values)

    def answer(self, owner: str, key: str) -> IdempotencyRow | None:
        with self._read() as connection:
            return self._idempotency(connection, owner, key)

    def begin_answer(self, answer: IdempotencyRow, now: float, *, stale_before: float) -> IdempotencyRow | None:
        """Take an idempotency key for a request in progress; the row found when it is taken.

        A key left in progress before `stale_before` (its process died) is taken over.
        """
        try:
            with self._write() as connection:
                if found := self._idempotency(connection, answer.owner, answer.key):
                    if found.state != "in_progress" or found.created_at >= stale_before:
                        return found
                    connection.execute(
                        idempotency_keys.delete().where(
                            idempotency_keys.c.owner == answer.owner, idempotency_keys.c.key == answer.key
                        )
                    )
                connection.execute(idempotency_keys.insert().values(**_answer_row(answer, now)))
        except IntegrityError:
            with self._read() as connection:
                return self._idempotency(connection, answer.owner, answer.key)
        return None

    def finish_answer(self, answer: IdempotencyRow) -> None:
        with self._write() as connection:
            connection.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.owner == answer.owner, idempotency_keys.c.key == answer.key)
                .values(
                    state="done", status_code=answer.status_code, headers=json.dumps(answer.headers), body=answer.body,
                    job_id=answer.job_id,
                )
            )  # fmt: skip

    def forget_answer(self, owner: str, key: str) -> None:
        with self._write() as connection:
            connection.execute(
                idempotency_keys.delete().where(idempotency_keys.c.owner == owner, idempotency_keys.c.key == key)
            )

    def usage_of(self, owner: str | None) -> list[dict[str, Any]]:
        with self._read() as connection:
            query = select(usage).order_by(usage.c.day, usage.c.owner, usage.c.source)
            if owner is not None:
                query = query.where(usage.c.owner == owner)
            return [row_dict(row) for row in connection.execute(query)]


def _add(sums: dict[Any, list[int]], key: Any, amounts: list[int]) -> None:
    found = sums.setdefault(key, [0] * len(amounts))
    for index, amount in enumerate(amounts):
        found[index] += amount


def _amounts(keys: dict[str, Any], sums: list[int]) -> dict[str, Any]:
    calls, prompt, completion, total = sums
    return {**keys, "b_calls": calls, "b_prompt": prompt, "b_completion": completion, "b_total": total}


def _answer_row(answer: IdempotencyRow, now: float) -> dict[str, Any]:
    return {
        "owner": answer.owner, "key": answer.key, "fingerprint": answer.fingerprint, "state": answer.state,
        "status_code": answer.status_code, "headers": json.dumps(answer.headers), "body": answer.body,
        "job_id": answer.job_id, "created_at": now,
    }  # fmt: skip
