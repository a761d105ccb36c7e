"""The batch job on Ray Data: an actor pool where each actor holds one `Extractor`.

Each actor runs its own asyncio loop (a background thread) with its own concurrency, its
own `Throttle` (a 429's Retry-After pauses the actor that saw it) and its share of the
job's rate limits: `--rpm`/`--tpm` divided evenly by the number of actors, so the whole
pool stays under them even when every actor runs flat out. Ray hands each actor several
batches at once (`CALLS_PER_ACTOR`, and half as many again queued); they share the actor's
loop and its request gate, so a slow article holds one slot, not a whole batch. Fewer
queued batches left actors idle while Ray dispatched the next; more made the end of a job
one actor's backlog (bench/README.md).

Every input row goes through the unit of work (`extractor.jobs.unit`) and becomes exactly
one outcome row (`Outcome.to_row`, columns `ROW_COLUMNS`): done with the same
ArticleExtraction line the local engine writes, or failed with a cause. A text already
extracted with this reuse key (`known` sha256s: resume) is done with origin "resumed" and no
line: its result is in the output, and the driver fills it in (`article_header` lets it copy
the result under another id). Rate limits are charged exactly as the local engine does.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection
from typing import Any, cast

from ...input.sources import SourcedArticle, SourceItem
from ...jobs.limiter import JobLimiter, split_limit
from ...jobs.outcome import ROW_COLUMNS, Adopt, Origin, Outcome, Status, copy_header
from ...jobs.unit import NoStore, Work, run_unit
from ...model_call.gate import RequestGate, prepared_ahead, use_gate
from ...model_call.retry import Throttle
from ...settings import Settings

CALLS_PER_ACTOR = 8
# An actor mostly waits on the model server; half a CPU each leaves room for Ray Data's own
# read tasks, so `--workers` equal to the core count does not starve them.
ACTOR_CPUS = 0.5


class KnownTexts(NoStore):
    """A Ray actor's store: it records nothing (the driver writes each row) and knows which texts
    the output already holds with this reuse key."""

    def __init__(self, known: Collection[str]) -> None:
        self.known = known

    def earlier(self, item: SourcedArticle, reuse_key: str, adopt: Adopt = copy_header) -> Outcome | None:
        if item.article.sha256 not in self.known:
            return None
        return Outcome.of(
            item,
            Status.DONE,
            origin=Origin.RESUMED,
            reuse_key=reuse_key,
            article_header=item.article.header().model_dump_json(),
        )


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
        triage: bool = False,
    ) -> None:
        from ...pipeline import Extractor

        self.throttle = Throttle()
        self.extractor = Extractor(settings=settings, throttle=self.throttle)
        self.limiter = JobLimiter(rpm, tpm) if rpm or tpm else None
        self.known = frozenset(_resolve(known))
        # An actor has no job to stop: a refused key fails each of its articles, recorded.
        self.work = Work(
            self.extractor, KnownTexts(self.known), limiter=self.limiter, stop_on_refusal=False, triage=triage
        )
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
        return {column: [row[column] for row in rows] for column in ROW_COLUMNS}

    async def _all(self, items: list[SourceItem]) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self._one(item) for item in items)))

    async def _one(self, item: SourceItem) -> dict[str, Any]:
        async with self._slots:
            use_gate(self._gate)  # this article's own task: its requests take the actor's slots
            outcome = await run_unit(item, self.work)
        assert outcome is not None  # only a stopping job leaves an article out, and an actor never stops
        return outcome.to_row()


async def _slots_and_gate(concurrency: int) -> tuple[asyncio.Semaphore, RequestGate]:
    """Made on the actor's loop, where they are awaited."""
    return asyncio.Semaphore(concurrency + prepared_ahead(concurrency)), RequestGate(concurrency, close_on=frozenset())


def _resolve(known: Any) -> Collection[str]:
    """The known sha256s: given directly, or as a Ray object reference (large sets)."""
    if known is None:
        return ()
    if type(known).__name__ == "ObjectRef":
        import ray

        return cast("Collection[str]", ray.get(known))
    return cast("Collection[str]", known)


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
    triage: bool = False,
    **overrides: Any,
) -> Any:
    """Extract every row of a Ray Dataset; returns the lazy Dataset of outcome rows (`Outcome.to_row`).

    Rows are records (`text`, optional `id`, `title`, `url`, `published`) or rows read by
    `read_inputs`. `settings`/`overrides` configure the Extractor as `Extractor(**overrides)`
    does; `concurrency` is job-wide (split across the `workers` actors), as are `rpm`/`tpm`.
    `known`: sha256s of texts already extracted with these settings: done, origin "resumed", no line.
    `triage`: a row in which the rules find no candidate of any type is skipped (status
    "skipped", origin "triaged") without a model call.
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
            triage=triage,
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
