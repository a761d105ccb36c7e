"""Running a batch job: a fixed pool of asyncio workers over one extractor and one job store.

Each article yields exactly one `Outcome` per run: finished in an earlier run (resumed),
copied from an identical text (reused), extracted now, or failed with a cause. Every
article goes through the unit of work (`extractor.jobs.unit`); this module only schedules.
Identical texts are extracted once: while one is in flight, its twins wait beside it
without holding a worker, then copy its result. Cancellation (Ctrl-C) stops the workers and
puts in-flight articles back to pending; nothing half-done is ever stored. A refusal that
every further request would meet too (HTTP 401/403, no credentials) stops the whole job at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, Unpack

from ..errors import BatchAborted, ExtractorError, JobStopped
from ..input.sources import SourcedArticle, SourceItem, as_source_items
from ..jobs.limiter import JobLimiter
from ..jobs.options import DEFAULT_CONCURRENCY, BatchOptions
from ..jobs.outcome import Origin, Outcome, Status
from ..jobs.store import INPUT_CAUSES, JobStore, Plan
from ..jobs.unit import ArticleExtractor, Work, run_unit
from ..model_call.gate import RequestGate, prepared_ahead, use_gate
from ..model_call.retry import Throttle
from ..model_call.transport import CallMeter

_END = object()

__all__ = ["BatchAborted", "BatchJob", "BatchOptions", "JobStopped", "abatch", "batch"]


class BatchExtractor(ArticleExtractor, Protocol):
    """What the engine needs of an extractor: the unit's needs, and the job-wide throttle."""

    throttle: Throttle | None


class OwnLoopExtractor(BatchExtractor, Protocol):
    """An extractor `batch` runs on a loop of its own: its async client is closed with the loop."""

    async def _aclose_async_client(self) -> None: ...


class BatchJob:
    """The articles of one job store, run `concurrency` requests at a time through the unit of work."""

    def __init__(
        self,
        extractor: BatchExtractor,
        store: JobStore,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        limiter: JobLimiter | None = None,
        fail_fast: bool = False,
        triage: bool = False,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if extractor.throttle is None:
            # One throttle for the whole job: a 429's Retry-After pauses every worker, not one.
            # The async client is built on first use and picks it up from there.
            extractor.throttle = Throttle()
        self.extractor = extractor
        self.store = store
        self.concurrency = concurrency
        self.limiter = limiter
        self.fail_fast = fail_fast
        # The reuse key: the model call's fingerprint plus grounding and normalization.
        self.fingerprint: str = extractor.reuse_key
        self.meter = CallMeter()  # every request this run sent, calls cancelled in flight included
        self.work = Work(
            extractor, store, limiter=limiter, meter=self.meter, stopping=lambda: self._stopping, triage=triage
        )
        self._twins: dict[str, list[SourcedArticle]] = {}
        self._stopping = False
        self._gate: RequestGate | None = None

    def plan(self, items: Iterable[SourceItem], *, retry_failed: bool = False) -> Plan:
        """Register the inputs in the store; what is left to do."""
        return self.store.register(
            items, fingerprint=self.fingerprint, retry_failed=retry_failed, triage_key=self.work.triage_key
        )

    async def run(self, plan: Plan) -> AsyncIterator[Outcome]:
        """One outcome per article of the plan, as each completes (earlier runs' first)."""
        for key in plan.finished:
            row = self.store.get(key)
            if row is None:
                continue
            # Input failures are judged again on every run: not an earlier run's outcome.
            fresh_input_failure = row.error_cause in INPUT_CAUSES
            yield row.outcome(origin=Origin.INPUT if fresh_input_failure else Origin.RESUMED)
            if self.fail_fast and fresh_input_failure:
                raise BatchAborted(f"{row.error_message} (--fail-fast)")
        queue = deque(plan.work)
        outcomes: asyncio.Queue[Any] = asyncio.Queue()
        # `concurrency` requests in flight, a few more articles in process (see extractor/model_call/gate.py).
        self._gate = gate = RequestGate(self.concurrency)
        size = min(self.concurrency + prepared_ahead(self.concurrency), len(queue))
        workers = [asyncio.create_task(self._worker(queue, outcomes, gate)) for _ in range(size)]
        watcher = asyncio.create_task(_signal_end(workers, outcomes))
        stopped: ExtractorError | None = None
        try:
            while (outcome := await outcomes.get()) is not _END:
                yield outcome
                if self.fail_fast and outcome.status is Status.FAILED:
                    stopped = BatchAborted(f"{outcome.key}: {outcome.message} (--fail-fast)")
                    break
            else:
                try:
                    await watcher  # re-raises a worker's unexpected error (a store failure, say)
                except JobStopped as error:
                    stopped = error
        finally:
            self._stop()
            for task in (*workers, watcher):
                task.cancel()
            await asyncio.gather(*workers, watcher, return_exceptions=True)
            self.store.requeue_running()
        # Articles that finished while the job was stopping are stored: report them as well,
        # so the JSONL and the summary agree with the store.
        while not outcomes.empty():
            if (outcome := outcomes.get_nowait()) is not _END:
                yield outcome
        if stopped is not None:
            raise stopped

    def _stop(self) -> None:
        """Send nothing more: articles not yet sent stay pending."""
        self._stopping = True
        if self._gate is not None:
            self._gate.close()

    async def _worker(self, queue: deque[SourcedArticle], outcomes: asyncio.Queue[Any], gate: RequestGate) -> None:
        use_gate(gate)  # this worker's task context: its requests take the job's slots
        while queue and not self._stopping:
            todo = [queue.popleft()]
            while todo:
                outcome, twins = await self._process(todo.pop())
                todo.extend(twins)
                if outcome is not None:
                    outcomes.put_nowait(outcome)

    async def _process(self, item: SourcedArticle) -> tuple[Outcome | None, list[SourcedArticle]]:
        """The article's outcome (None while it waits for a twin) and the twins it released."""
        sha = item.content_key  # its story's first text for a copy read from another URL
        if sha in self._twins:
            self._twins[sha].append(item)
            return None, []
        self._twins[sha] = []
        try:
            outcome = await self._extract(item)
        finally:
            twins = self._twins.pop(sha)
        # Twins of a success now find it in the store; twins of a failure try for themselves.
        return outcome, twins

    async def _extract(self, item: SourcedArticle) -> Outcome | None:
        """The article's outcome; None when the job stopped before it was sent (it stays pending)."""
        try:
            return await run_unit(item, self.work)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._gate is not None and self._gate.closed and task is not None and not task.cancelling():
                # Not a cancellation: the gate closed while this request waited for a slot.
                self.store.release(item.key)
                return None
            raise
        except JobStopped:
            self._stop()
            raise


async def _signal_end(workers: list[asyncio.Task[None]], outcomes: asyncio.Queue[Any]) -> None:
    try:
        await asyncio.gather(*workers)
    finally:
        outcomes.put_nowait(_END)


# -- Python API ---------------------------------------------------------------------------


async def abatch(
    extractor: BatchExtractor,
    articles: Iterable[Any],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    store: JobStore | str | Path | None = None,
    rpm: float | None = None,
    tpm: float | None = None,
    retry_failed: bool = False,
    fail_fast: bool = False,
    triage: bool = False,
) -> AsyncIterator[Outcome]:
    """Extract many articles; yields one `Outcome` per article as results complete.

    `articles`: ArticleInput, text, {text, id, title, url, published} records or paths.
    `store`: a JobStore or a database path to make the job resumable; default in memory.
    `rpm`/`tpm`: request and token budgets per minute; `fail_fast` raises `BatchAborted` at
    the first failed article; `retry_failed` retries articles a previous run failed.
    `triage`: articles in which the rules find no candidate of any type are skipped
    (`Status.SKIPPED`) before any model call.
    """
    job_store = store if isinstance(store, JobStore) else JobStore(store or ":memory:")
    try:
        limiter = JobLimiter(rpm, tpm) if rpm or tpm else None
        job = BatchJob(
            extractor, job_store, concurrency=concurrency, limiter=limiter, fail_fast=fail_fast, triage=triage
        )
        items = as_source_items(articles, max_bytes=extractor.settings.max_input_bytes)
        plan = job.plan(items, retry_failed=retry_failed)
        async for outcome in job.run(plan):
            yield outcome
    finally:
        if job_store is not store:
            job_store.close()


def batch(extractor: OwnLoopExtractor, articles: Iterable[Any], **options: Unpack[BatchOptions]) -> list[Outcome]:
    """The synchronous form of `abatch`: every outcome, in completion order.

    Runs its own event loop; called inside a running one (Jupyter, an async web handler) it
    runs that loop in a worker thread and blocks until done (`abatch` does not block).
    """

    async def collect() -> list[Outcome]:
        try:
            return [outcome async for outcome in abatch(extractor, articles, **options)]
        finally:
            # The async client's connections belong to this loop, which ends here.
            await extractor._aclose_async_client()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(collect())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="extractor-batch") as pool:
        return pool.submit(asyncio.run, collect()).result()
