"""The batch job on Ray Data: an actor pool where each actor holds one `Extractor`.

Each actor runs its own asyncio loop (a background thread) with its own concurrency, its
own `Throttle` (a 429's Retry-After pauses the actor that saw it) and its share of the
job's rate limits: `--rpm`/`--tpm` divided evenly by the number of actors, so the whole
pool stays under them even when every actor runs flat out. Ray hands each actor several
batches at once (`CALLS_PER_ACTOR`, and half as many again queued); they share the actor's
loop and its request gate, so a slow article holds one slot, not a whole batch. Fewer
queued batches left actors idle while Ray dispatched the next; more made the end of a job
one actor's backlog (bench/README.md).

Every input row becomes exactly one outcome row (see `OUTCOME_COLUMNS`): "done" with the
same ArticleExtraction line the local engine writes, "failed" with a reason, or "known"
when its text was already extracted with these settings (`known` sha256s: resume; its
`line` is then the article header, for the driver to copy the earlier result under).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Collection
from typing import Any

from ...input.sources import InputFailure, SourcedArticle, SourceItem
from ...jobs.limiter import JobLimiter
from ...model_call.gate import RequestGate, prepared_ahead, use_gate
from ...model_call.retry import Throttle
from ...model_call.transport import start_metering, stop_metering
from ...schemas import Usage
from ...settings import Settings
from ..local import BatchOutcome, describe_failure

CALLS_PER_ACTOR = 8
# An actor mostly waits on the model server; half a CPU each leaves room for Ray Data's own
# read tasks, so `--workers` equal to the core count does not starve them.
ACTOR_CPUS = 0.5
OUTCOME_COLUMNS = (
    "key", "where", "sha256", "status", "line", "error_class", "cause", "message",
    "attempts", "prompt_tokens", "completion_tokens", "total_tokens", "latency_ms",
)  # fmt: skip


def split_limit(limit: float | None, workers: int) -> float | None:
    """One actor's share of a job-wide rate limit."""
    return None if limit is None else limit / workers


class ExtractionActor:
    """The map_batches callable: one Extractor, one event loop, `concurrency` requests in flight."""

    def __init__(
        self,
        settings: Settings,
        *,
        concurrency: int,
        rpm: float | None = None,
        tpm: float | None = None,
        known: Collection[str] | Any = (),
    ) -> None:
        from ...pipeline import Extractor

        self.throttle = Throttle()
        self.extractor = Extractor(settings=settings, throttle=self.throttle)
        self.fingerprint = self.extractor.fingerprint
        self.limiter = JobLimiter(rpm, tpm) if rpm or tpm else None
        self.known = frozenset(_resolve(known))
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="extractor-actor-loop")
        self._thread.start()
        # `concurrency` requests in flight and a few more articles in process, as in the local
        # engine (extractor/model_call/gate.py); a refusal fails each article here instead of closing the gate.
        self._slots, self._gate = asyncio.run_coroutine_threadsafe(_slots_and_gate(concurrency), self.loop).result()

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        from .sources import items_from_batch

        items = list(items_from_batch(batch, max_bytes=self.extractor.settings.max_input_bytes))
        rows = asyncio.run_coroutine_threadsafe(self._all(items), self.loop).result()
        return {column: [row[column] for row in rows] for column in OUTCOME_COLUMNS}

    async def _all(self, items: list[SourceItem]) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self._one(item) for item in items)))

    async def _one(self, item: SourceItem) -> dict[str, Any]:
        if isinstance(item, InputFailure):
            return outcome_row(
                item.key,
                item.where,
                None,
                status="failed",
                error_class="InputError",
                cause="input",
                message=item.message,
            )
        sha = item.article.sha256
        if sha in self.known:
            # The header lets the driver copy the earlier result when the id differs.
            return outcome_row(item.key, item.where, sha, status="known", line=item.article.header().model_dump_json())
        async with self._slots:
            use_gate(self._gate)  # this article's own task: its requests take the actor's slots
            return await self._extract(item)

    async def _extract(self, item: SourcedArticle) -> dict[str, Any]:
        reservation = await self.limiter.reserve(item.article.text) if self.limiter else None
        started = time.perf_counter()
        meter, token = start_metering()  # outlives a failed extraction, as in the local engine
        try:
            result = await self.extractor.aextract_article(item.article)
        except Exception as error:  # one bad article never aborts the job
            attempts = getattr(error, "attempts", 0) or 0
            if self.limiter and reservation:
                self.limiter.settle(reservation, requests=attempts, tokens=None)
            cause, message = describe_failure(error)
            return outcome_row(
                item.key, item.where, item.article.sha256, status="failed", error_class=type(error).__name__,
                cause=cause, message=message, attempts=attempts,
                latency_ms=round((time.perf_counter() - started - meter.waiting) * 1000, 3),
            )  # fmt: skip
        finally:
            stop_metering(token)
        meta = result.meta
        if self.limiter and reservation:
            self.limiter.settle(reservation, requests=meta.attempts, tokens=meta.usage.total_tokens)
        return outcome_row(
            item.key, item.where, item.article.sha256, status="done", line=result.model_dump_json(),
            attempts=meta.attempts, usage=meta.usage, latency_ms=meta.latency_ms,
        )  # fmt: skip


async def _slots_and_gate(concurrency: int) -> tuple[asyncio.Semaphore, RequestGate]:
    """Made on the actor's loop, where they are awaited."""
    return asyncio.Semaphore(concurrency + prepared_ahead(concurrency)), RequestGate(concurrency, close_on=frozenset())


def _resolve(known: Any) -> Collection[str]:
    """The known sha256s: given directly, or as a Ray object reference (large sets)."""
    if known is None:
        return ()
    if type(known).__name__ == "ObjectRef":
        import ray

        return ray.get(known)
    return known


def outcome_row(
    key: str,
    where: str,
    sha256: str | None,
    *,
    status: str,
    line: str | None = None,
    error_class: str | None = None,
    cause: str | None = None,
    message: str | None = None,
    attempts: int = 0,
    usage: Usage | None = None,
    latency_ms: float | None = None,
) -> dict[str, Any]:
    """One output row of `extract_dataset`: flat columns that Arrow and Parquet store as they are."""
    usage = usage or Usage()
    return {
        "key": key, "where": where, "sha256": sha256, "status": status, "line": line,
        "error_class": error_class, "cause": cause, "message": message, "attempts": attempts,
        "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens, "latency_ms": latency_ms,
    }  # fmt: skip


def outcome_from_row(row: dict[str, Any]) -> BatchOutcome:
    """A "done" or "failed" row as the `BatchOutcome` the local engine would have yielded."""
    latency = row.get("latency_ms")
    return BatchOutcome(
        key=str(row["key"]),
        status="done" if row["status"] == "done" else "failed",
        where=row.get("where"),
        line=row.get("line"),
        error_class=row.get("error_class"),
        cause=row.get("cause"),
        message=row.get("message"),
        attempts=int(row.get("attempts") or 0),
        usage=Usage(
            prompt_tokens=int(row.get("prompt_tokens") or 0),
            completion_tokens=int(row.get("completion_tokens") or 0),
            total_tokens=int(row.get("total_tokens") or 0),
        ),
        latency_ms=None if latency is None or latency != latency else float(latency),  # NaN: none
    )


def extract_dataset(
    ds: Any,
    *,
    settings: Settings | None = None,
    workers: int = 2,
    concurrency: int = 32,
    rpm: float | None = None,
    tpm: float | None = None,
    known: Collection[str] | Any = (),
    batch_size: int | None = None,
    **overrides: Any,
) -> Any:
    """Extract every row of a Ray Dataset; returns the lazy Dataset of outcome rows.

    Rows are records (`text`, optional `id`, `title`, `url`, `published`) or rows read by
    `read_inputs`. `settings`/`overrides` configure the Extractor as `Extractor(**overrides)`
    does; `concurrency` is job-wide (split across the `workers` actors), as are `rpm`/`tpm`.
    `known`: sha256s of texts already extracted with these settings, emitted as "known".
    """
    from ray.data import ActorPoolStrategy

    if workers < 1 or concurrency < 1:
        raise ValueError("workers and concurrency must be at least 1")
    if settings is None:
        settings = Settings(**overrides)
    elif overrides:
        settings = settings.model_copy(update=overrides)
    per_actor = max(1, -(-concurrency // workers))
    return ds.map_batches(
        ExtractionActor,
        fn_constructor_kwargs=dict(
            settings=settings,
            concurrency=per_actor,
            rpm=split_limit(rpm, workers),
            tpm=split_limit(tpm, workers),
            known=known,
        ),
        batch_size=batch_size or per_actor,
        batch_format="numpy",
        # True multi-threading: Ray otherwise runs a sync callable's calls one at a time, and
        # an actor would wait for the slowest article of each batch. Calls only hand work
        # to the actor's own loop, so running them side by side is safe.
        compute=ActorPoolStrategy(
            size=workers,
            max_concurrent_calls_per_actor=CALLS_PER_ACTOR,
            max_tasks_in_flight_per_actor=CALLS_PER_ACTOR + CALLS_PER_ACTOR // 2,
            enable_true_multi_threading=True,
        ),
        num_cpus=ACTOR_CPUS,
    )
