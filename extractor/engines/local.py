"""Running a batch job: a fixed pool of asyncio workers over one Extractor and one job store.

Each article yields exactly one `BatchOutcome` per run: finished in an earlier run (resumed),
copied from an identical text (reused), extracted now, or failed with a reason. Identical
texts are extracted once: while one is in flight, its twins wait beside it without holding
a worker, then copy its result. Cancellation (Ctrl-C) stops the workers and puts in-flight
articles back to pending; nothing half-done is ever stored. A refusal that every further
request would meet too (HTTP 401/403, no credentials) stops the whole job at once.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack

from ..errors import ConfigError, ExtractionFailed, ExtractorError, ProviderUnavailable
from ..input.dedupe import adopt_result
from ..input.sources import SourcedArticle, SourceItem, as_source_items
from ..jobs.limiter import JobLimiter
from ..jobs.reuse import reuse_key
from ..jobs.store import INPUT_CAUSES, JobStore, Plan, Row
from ..model_call.gate import RequestGate, prepared_ahead, use_gate
from ..model_call.retry import Throttle
from ..model_call.transport import CallMeter, start_metering, stop_metering
from ..schemas import ArticleExtraction, Usage

if TYPE_CHECKING:
    from ..pipeline import Extractor

DEFAULT_CONCURRENCY = 8
_END = object()


class BatchAborted(ExtractorError):
    """--fail-fast: the job stopped at its first failed article."""

    exit_code = 4


class JobStopped(ConfigError):
    """The provider refused the job itself (credentials): no further request is sent."""


@dataclass
class BatchOutcome:
    """What became of one article in a batch: its extraction, or why it failed.

    `result` is the `ArticleExtraction` when `status` is "done"; a failure has `error_class`,
    `cause` (a short stable reason: "rate_limited", "timeout", "input", ...) and `message`.
    """

    key: str
    status: Literal["done", "failed"]
    where: str | None = None
    line: str | None = field(default=None, repr=False)  # the ArticleExtraction as one JSON line, when done
    error_class: str | None = None
    cause: str | None = None
    message: str | None = None
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    latency_ms: float | None = None
    reused: bool = False  # copied from an identical text: no model call
    resumed: bool = False  # finished by an earlier run: nothing was done now

    @property
    def article_id(self) -> str:
        """The article's id in the job (`input:<where>` for an input that could not be read)."""
        return self.key

    @property
    def ok(self) -> bool:
        """Whether the article was extracted (now, earlier, or copied from a twin)."""
        return self.status == "done"

    @cached_property
    def result(self) -> ArticleExtraction | None:
        """The extraction of a done article; None for a failed one."""
        return ArticleExtraction.model_validate_json(self.line) if self.line else None

    @property
    def error(self) -> str | None:
        """A failure in one line, "<ErrorClass> (<cause>): <message>"; None when done."""
        if self.status == "done":
            return None
        return f"{self.error_class} ({self.cause}): {self.message}"

    @classmethod
    def from_row(cls, row: Row, *, resumed: bool) -> BatchOutcome:
        """The outcome a job-store row records."""
        return cls(
            key=row.key,
            status="done" if row.status == "done" else "failed",
            where=row.source,
            line=row.result,
            error_class=row.error_class,
            cause=row.error_cause,
            message=row.error_message,
            attempts=row.attempts,
            usage=row.usage,
            latency_ms=row.latency_ms,
            reused=row.reused_from is not None,
            resumed=resumed,
        )


def failure_cause(error: BaseException) -> str:
    """A short, stable reason to group failures by: "rate_limited", "timeout", "input", …"""
    if isinstance(error, ExtractionFailed):
        return error.cause
    name = type(error).__name__.removesuffix("Error") or type(error).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def describe_failure(error: BaseException) -> tuple[str, str]:
    """(cause, one-line message) of an article's failure; unexpected errors name their class."""
    known = isinstance(error, ExtractorError)
    cause = failure_cause(error) if known else "internal_error"
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if not known:
        message = f"{type(error).__name__}: {message}"
    return cause, message


class BatchJob:
    def __init__(
        self,
        extractor: Any,
        store: JobStore,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        limiter: JobLimiter | None = None,
        fail_fast: bool = False,
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
        self.fingerprint: str = reuse_key(extractor)
        self.meter = CallMeter()  # every request this run sent, calls cancelled in flight included
        self._twins: dict[str, list[SourcedArticle]] = {}
        self._stopping = False
        self._gate: RequestGate | None = None

    def plan(self, items: Iterable[SourceItem], *, retry_failed: bool = False) -> Plan:
        return self.store.register(items, fingerprint=self.fingerprint, retry_failed=retry_failed)

    async def run(self, plan: Plan) -> AsyncIterator[BatchOutcome]:
        for key in plan.finished:
            row = self.store.get(key)
            if row is None:
                continue
            fresh_input_failure = row.error_cause in INPUT_CAUSES
            yield BatchOutcome.from_row(row, resumed=not fresh_input_failure)
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
                if self.fail_fast and outcome.status == "failed":
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

    async def _process(self, item: SourcedArticle) -> tuple[BatchOutcome | None, list[SourcedArticle]]:
        """The article's outcome (None while it waits for a twin) and the twins it released."""
        sha = item.content_key  # its story's first text for a copy read from another URL
        cached = self.store.cached_result(sha, self.fingerprint)
        if cached is not None:
            return self._reuse(item, *cached), []
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

    def _reuse(self, item: SourcedArticle, source_key: str, result_json: str) -> BatchOutcome:
        result = ArticleExtraction.model_validate_json(result_json)
        line = adopt_result(result, item.article, self.extractor.settings).model_dump_json()
        self.store.mark_done(item.key, line, usage=Usage(), attempts=0, latency_ms=None, reused_from=source_key)
        return BatchOutcome(key=item.key, status="done", where=item.where, line=line, reused=True)

    async def _extract(self, item: SourcedArticle) -> BatchOutcome | None:
        """The article's outcome; None when the job stopped before it was sent (it stays pending)."""
        reservation = await self.limiter.reserve(item.article.text) if self.limiter and not self._stopping else None
        if self._stopping:
            return None
        self.store.mark_running(item.key)
        started = time.perf_counter()
        # The article's own meter outlives a failed extraction: what failures cost is counted too.
        meter, token = start_metering(parent=self.meter)
        try:
            result = await self.extractor.aextract_article(item.article)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._gate is not None and self._gate.closed and task is not None and not task.cancelling():
                # Not a cancellation: the gate closed while this request waited for a slot.
                self.store.requeue(item.key)
                return None
            raise
        except ProviderUnavailable as error:
            # Every further request would be refused the same way: stop sending, keep it pending.
            self._stop()
            self.store.requeue(item.key)
            raise JobStopped(f"{error}; the job stopped sending, unfinished articles stay pending") from error
        except Exception as error:  # one bad article never aborts the job
            latency_ms = round((time.perf_counter() - started - meter.waiting) * 1000, 3)
            outcome = self._fail(item, error, attempts=meter.attempts, usage=meter.usage, latency_ms=latency_ms)
        else:
            outcome = self._done(item, result)
        finally:
            stop_metering(token)
        if self.limiter and reservation:
            # Stored first: paying a debt to the limiter may wait, and must not put a result at risk.
            await self.limiter.settle(reservation, requests=meter.attempts, tokens=meter.usage.total_tokens)
        return outcome

    def _done(self, item: SourcedArticle, result: ArticleExtraction) -> BatchOutcome:
        meta = result.meta
        line = result.model_dump_json()
        self.store.mark_done(item.key, line, usage=meta.usage, attempts=meta.attempts, latency_ms=meta.latency_ms)
        return BatchOutcome(
            key=item.key,
            status="done",
            where=item.where,
            line=line,
            attempts=meta.attempts,
            usage=meta.usage,
            latency_ms=meta.latency_ms,
        )

    def _fail(
        self, item: SourcedArticle, error: Exception, *, attempts: int, usage: Usage, latency_ms: float
    ) -> BatchOutcome:
        cause, message = describe_failure(error)
        self.store.mark_failed(
            item.key,
            error_class=type(error).__name__,
            cause=cause,
            message=message,
            attempts=attempts,
            usage=usage,
            latency_ms=latency_ms,
        )
        return BatchOutcome(
            key=item.key,
            status="failed",
            where=item.where,
            error_class=type(error).__name__,
            cause=cause,
            message=message,
            attempts=attempts,
            usage=usage,
            latency_ms=latency_ms,
        )


async def _signal_end(workers: list[asyncio.Task[None]], outcomes: asyncio.Queue[Any]) -> None:
    try:
        await asyncio.gather(*workers)
    finally:
        outcomes.put_nowait(_END)


# -- Python API ---------------------------------------------------------------------------


class BatchOptions(TypedDict, total=False):
    """Keyword options of `abatch` and `batch` (and `Extractor.abatch` / `Extractor.batch`)."""

    concurrency: int
    store: JobStore | str | Path | None
    rpm: float | None
    tpm: float | None
    retry_failed: bool
    fail_fast: bool


async def abatch(
    extractor: Extractor,
    articles: Iterable[Any],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    store: JobStore | str | Path | None = None,
    rpm: float | None = None,
    tpm: float | None = None,
    retry_failed: bool = False,
    fail_fast: bool = False,
) -> AsyncIterator[BatchOutcome]:
    """Extract many articles; yields one `BatchOutcome` per article as results complete.

    `articles`: ArticleInput, text, {text, id, title, url, published} records or paths.
    `store`: a JobStore or a database path to make the job resumable; default in memory.
    `rpm`/`tpm`: request and token budgets per minute; `fail_fast` raises `BatchAborted` at
    the first failed article; `retry_failed` retries articles a previous run failed.
    """
    job_store = store if isinstance(store, JobStore) else JobStore(store or ":memory:")
    try:
        limiter = JobLimiter(rpm, tpm) if rpm or tpm else None
        job = BatchJob(extractor, job_store, concurrency=concurrency, limiter=limiter, fail_fast=fail_fast)
        items = as_source_items(articles, max_bytes=extractor.settings.max_input_bytes)
        plan = job.plan(items, retry_failed=retry_failed)
        async for outcome in job.run(plan):
            yield outcome
    finally:
        if job_store is not store:
            job_store.close()


def batch(extractor: Extractor, articles: Iterable[Any], **options: Unpack[BatchOptions]) -> list[BatchOutcome]:
    """The synchronous form of `abatch`: every outcome, in completion order.

    Runs its own event loop; called inside a running one (Jupyter, an async web handler) it
    runs that loop in a worker thread and blocks until done (`abatch` does not block).
    """

    async def collect() -> list[BatchOutcome]:
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
