"""What the routes do with jobs, as the calling key sees them: create, read, list, cancel,
retry, delete; and the retention sweep.

A job belongs to the key that created it (its key id, never the key). Another key is told
the job does not exist (404) and never sees it listed; admin keys see and manage every job.
Every database call runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from ..errors import ConfigError
from ..jobs.summary import estimated_cost
from ..settings import GroundingMode
from .auth import Caller
from .db import Database, IdempotencyRow, JobRow, NewJob
from .intake import new_articles
from .jobs import Engine
from .limits import Overloaded
from .problems import ApiError
from .runner import JobRunner

DELETABLE = frozenset({"completed", "completed_with_failures", "failed", "cancelled", "expired"})
RETRYABLE = frozenset({"completed_with_failures", "failed", "cancelled", "expired"})


def _seconds(at: float | None) -> int | None:
    return None if at is None else int(at)


class JobService:
    def __init__(
        self, db: Database, engine: Engine, runner: JobRunner, *, max_articles: int, max_pending: int, deadline: float
    ) -> None:
        self.db = db
        self.engine = engine
        self.runner = runner
        self.max_articles = max_articles
        self.max_pending = max_pending
        self.deadline = deadline
        self._model: str | None = None

    # -- creating ----------------------------------------------------------------------------

    async def create(
        self,
        caller: Caller,
        lines: list[str],
        grounding: GroundingMode | None,
        answer: IdempotencyRow | None,
        *,
        triage: bool = False,
    ) -> JobRow | IdempotencyRow:
        """Store the job's articles, then let the runner know: all before the 202.

        With an idempotency answer, the job and its answer are stored together; when the key
        was taken meanwhile, the stored answer is returned instead.
        """
        if not lines:
            raise ApiError(422, "invalid_input", "the job has no articles")
        if len(lines) > self.max_articles:
            raise ApiError(422, "too_many_articles", f"{len(lines)} articles; a job takes at most {self.max_articles}")
        if await asyncio.to_thread(self.db.queued_articles) + len(lines) > self.max_pending:
            raise Overloaded("too many job articles queued; retry later", self.engine.gate.retry_after)
        self.engine.extractor(grounding)  # no provider: 503 now rather than a job that fails every article
        now = time.time()
        job_id = f"job_{uuid.uuid4().hex[:24]}"
        articles = await asyncio.to_thread(new_articles, lines, self.engine.settings.max_input_bytes)
        job = NewJob(
            job_id, caller.key_id, grounding, now, now + self.deadline, articles,
            idempotency_key=None if answer is None else answer.key, triage=triage,
        )  # fmt: skip
        if answer is not None:
            accepted = {"id": job_id, "object": "job", "status": "queued", "counts": _counts_of(articles)}
            answer = IdempotencyRow(
                answer.owner, answer.key, answer.fingerprint, "done", 202, {"Location": f"/v1/jobs/{job_id}"},
                json.dumps(accepted), job_id,
            )  # fmt: skip
        stored = await asyncio.to_thread(self.db.create_job, job, answer)
        if isinstance(stored, JobRow):
            self.runner.wake()
            inputs = sum(article.failure is not None for article in articles)
            if inputs:
                self.engine.metrics.failures.labels("input").inc(inputs)
        return stored

    # -- reading -----------------------------------------------------------------------------

    async def get(self, caller: Caller, job_id: str) -> JobRow:
        job = await asyncio.to_thread(self.db.get_job, job_id)
        if job is None or not caller.sees(job.owner):
            raise ApiError(404, "not_found", f"no job {job_id!r}")
        return job

    async def list(self, caller: Caller, *, after: str | None, limit: int) -> dict[str, Any]:
        """The OpenAI list shape: newest first, `after` the last id of the previous page."""
        owner = None if caller.admin else caller.key_id
        rows, more = await asyncio.to_thread(self.db.list_jobs, owner, after=after, limit=limit)
        data = [self.describe(row) for row in rows]
        return {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": more,
        }

    def describe(self, job: JobRow) -> dict[str, Any]:
        """The job's public status document."""
        if self._model is None:
            self._model = self.engine.settings.resolved_model(self._provider())
        cost = estimated_cost(self._model, job.usage)
        return {
            "id": job.id,
            "object": "job",
            "status": job.status,
            "owner": job.owner,
            "grounding": job.grounding,
            "triage": job.triage,
            "counts": {
                "total": job.total,
                "done": job.done,
                "failed": job.failed,
                "skipped": job.skipped,
                "pending": job.pending,
            },  # fmt: skip
            "usage": {"model_calls": job.calls, **job.usage.model_dump()},
            "estimated_cost_usd": None if cost is None else round(cost, 6),
            "created_at": _seconds(job.created_at),
            "started_at": _seconds(job.started_at),
            "finished_at": _seconds(job.finished_at),
            "expires_at": _seconds(job.deadline_at),
            "error": job.error,
        }

    def _provider(self) -> Any:
        try:
            return self.engine.settings.resolved_provider()
        except ConfigError:
            return "openai"

    # -- changing ----------------------------------------------------------------------------

    async def cancel(self, caller: Caller, job_id: str) -> JobRow:
        """Stop sending the job's articles; those not finished are never sent."""
        await self.get(caller, job_id)
        job = await asyncio.to_thread(self.db.cancel_job, job_id, time.time())
        if job is None:
            raise ApiError(404, "not_found", f"no job {job_id!r}")
        self.runner.cancel_job(job_id)
        return job

    async def retry(self, caller: Caller, job_id: str) -> JobRow:
        """The job's failed articles (not those whose input is bad) back to the queue."""
        job = await self.get(caller, job_id)
        if job.status not in RETRYABLE:
            raise ApiError(409, "job_not_finished", f"job {job_id} is {job.status}; only a finished job can be retried")
        now = time.time()
        found = await asyncio.to_thread(self.db.retry_job, job_id, now, now + self.deadline)
        if found is None:
            raise ApiError(404, "not_found", f"no job {job_id!r}")
        self.runner.retry_job(job_id)
        return found[0]

    async def delete(self, caller: Caller, job_id: str) -> None:
        job = await self.get(caller, job_id)
        if job.status not in DELETABLE:
            raise ApiError(409, "job_not_finished", f"job {job_id} is {job.status}: cancel it first, then delete it")
        await asyncio.to_thread(self.db.delete_job, job_id)

    async def sweep(self, retention_days: float, answers_for: float) -> int:
        """Delete jobs finished more than `retention_days` ago, and idempotency answers past their time."""
        now = time.time()
        removed = 0
        if retention_days > 0:
            while ids := await asyncio.to_thread(self.db.finished_before, now - retention_days * 86400):
                for job_id in ids:
                    await asyncio.to_thread(self.db.delete_job, job_id)
                removed += len(ids)
        await asyncio.to_thread(self.db.forget_answers_before, now - answers_for)
        return removed


def _counts_of(articles: list[Any]) -> dict[str, int]:
    failed = sum(article.failure is not None for article in articles)
    return {"total": len(articles), "done": 0, "failed": failed, "skipped": 0, "pending": len(articles) - failed}
