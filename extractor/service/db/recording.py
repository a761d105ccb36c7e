"""The runner's writes, recorded in batches by the write-behind thread; and how an article ends.

Writes that end a job's articles update the job's counters, its outcome order and its status in
the same transaction, so what a reader sees always adds up. Claims lost meanwhile (the runner was
presumed dead) are left alone: their outcome is not the runner's to record.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update

from ...errors import Cause
from ...jobs.outcome import Status
from .rows import Finished, JobRow, Released, Spent, Write, row_dict
from .schema import articles, jobs, usage

EXPIRED_MESSAGE = "the job's deadline passed before the article could be done"
CANCELLED_MESSAGE = "the job was cancelled before the article was done"
JOB_COLUMNS = [jobs.c[name] for name in JobRow.__dataclass_fields__]


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


class RecordingMixin:
    """Recording the runner's outcomes, as `Database` methods."""

    _write: Callable[[], Any]
    _insert: Callable[[Any], Any]

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


def _add(sums: dict[Any, list[int]], key: Any, amounts: list[int]) -> None:
    found = sums.setdefault(key, [0] * len(amounts))
    for index, amount in enumerate(amounts):
        found[index] += amount


def _amounts(keys: dict[str, Any], sums: list[int]) -> dict[str, Any]:
    calls, prompt, completion, total = sums
    return {**keys, "b_calls": calls, "b_prompt": prompt, "b_completion": completion, "b_total": total}
