"""Job rows: a job and its articles stored, read, paged, counted, cancelled, retried and deleted.

Writes that change a job's articles update the job's counters and status in the same
transaction, so what a reader sees always adds up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ...errors import Cause
from .answers import AnswersMixin, _answer_row
from .recording import JOB_COLUMNS, RecordingMixin, final_status
from .rows import ArticleRow, IdempotencyRow, JobRow, NewJob, row_dict
from .schema import articles, idempotency_keys, jobs, usage

ARTICLE_COLUMNS = [articles.c[name] for name in ArticleRow.__dataclass_fields__]


class JobsMixin(RecordingMixin, AnswersMixin):
    """Jobs, their articles and usage, as `Database` methods (settling a job's status is recording's)."""

    _read: Callable[[], Any]
    _write: Callable[[], Any]

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

    def usage_of(self, owner: str | None) -> list[dict[str, Any]]:
        with self._read() as connection:
            query = select(usage).order_by(usage.c.day, usage.c.owner, usage.c.source)
            if owner is not None:
                query = query.where(usage.c.owner == owner)
            return [row_dict(row) for row in connection.execute(query)]
