"""The unit of work: one article in, one `Outcome` out, the same on every engine.

The local engine's workers, the Ray actors, the Batch API's live path (through the local
engine) and the service all run an article through `run_unit`. It

- looks the text up by the reuse key (`Extractor.reuse_key`: model call, grounding,
  gazetteer, post-processing code) and copies an identical text's result instead of asking;
- with triage on (`Work.triage`), skips an article in which the rules find no candidate of
  any type: recorded as skipped, before the rate limiter and without a model call;
- charges the rate limiter exactly once: a reservation before the article, then what its
  re-asks, retries and long answers used beyond it;
- meters the article's calls and records each live call durably as it ends (`spent`), so
  calls of a run killed before the article finished are still counted and paid for once;
- maps whatever the extraction raised to a `Cause`, so one article never aborts the job
  (a refusal of the credentials stops a job that asks, `stop_on_refusal`);
- records the outcome through the one store interface, `OutcomeStore`.

The core (`pipeline`, `model_call`) knows nothing of it: the unit drives anything shaped
like `ArticleExtractor`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import Cause, JobStopped, ProviderUnavailable, describe_failure
from ..input.article import ArticleInput
from ..input.dedupe import adopt_result
from ..input.sources import InputFailure, SourcedArticle, SourceItem
from ..model_call.transport import CallMeter, start_metering, stop_metering
from ..schemas import ArticleExtraction, Usage
from ..settings import Settings
from .limiter import JobLimiter
from .outcome import SKIP_REASON, Adopt, Origin, Outcome, Status, copy_header


class ArticleExtractor(Protocol):
    """What the unit needs of an extractor (an `Extractor`, or the service's gated one)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def reuse_key(self) -> str: ...

    async def aextract_article(self, article: ArticleInput) -> ArticleExtraction: ...


class OutcomeStore(Protocol):
    """Where the unit records an article: the SQLite `JobStore`, a Ray actor's rows, or nothing."""

    def earlier(self, item: SourcedArticle, reuse_key: str, adopt: Adopt = copy_header) -> Outcome | None:
        """The outcome of the same story (`item.content_key`) already extracted with this reuse
        key, made this article's with `adopt` and recorded; or None."""
        ...

    def started(self, key: str) -> None:
        """The article is being extracted now."""
        ...

    def spent(self, key: str, usage: Usage, *, calls: int = 1) -> None:
        """A live model call for the article ended (recorded before the article is)."""
        ...

    def record(self, outcome: Outcome) -> None:
        """The article's outcome: done, failed or skipped."""
        ...

    def release(self, key: str) -> None:
        """The article was not finished through no fault of its own: it is to be done again."""
        ...


class NoStore:
    """Records nothing: one request answered at once (the service), or an engine that records
    the outcomes itself (a Ray actor's rows go to the driver)."""

    def earlier(self, item: SourcedArticle, reuse_key: str, adopt: Adopt = copy_header) -> Outcome | None:
        return None

    def started(self, key: str) -> None:
        pass

    def spent(self, key: str, usage: Usage, *, calls: int = 1) -> None:
        pass

    def record(self, outcome: Outcome) -> None:
        pass

    def release(self, key: str) -> None:
        pass


def _never() -> bool:
    return False


@dataclass
class Work:
    """What the unit runs an article with: the extractor, its store, the job's limits and meter.

    `stopping` is asked after the rate limiter let the article go: when the job stopped
    meanwhile, the article is not sent. `stop_on_refusal`: a refused key stops the whole job
    (`JobStopped`, the article stays to be done) instead of failing each article in turn.
    `keep_exceptions`: a failed outcome keeps the exception itself, for a caller that
    re-raises it (a job does not: thousands of tracebacks would stay in memory).
    `triage`: an article the rules find nothing in is skipped (`Status.SKIPPED`), never sent.
    """

    extractor: ArticleExtractor
    store: OutcomeStore = field(default_factory=NoStore)
    limiter: JobLimiter | None = None
    meter: CallMeter | None = None
    stop_on_refusal: bool = True
    stopping: Callable[[], bool] = _never
    keep_exceptions: bool = False
    triage: bool = False

    @property
    def reuse_key(self) -> str:
        return self.extractor.reuse_key

    @property
    def triage_key(self) -> str | None:
        """The triage decision's version (`extractor.rules.triage.triage_key`); None without triage."""
        if not self.triage:
            return None
        from ..rules.triage import triage_key

        return triage_key()

    def skips(self, article: ArticleInput) -> bool:
        """Whether triage leaves the article out: the rules find no candidate of any type in it."""
        if not self.triage:
            return False
        from ..rules.triage import triage

        return not triage(article.text, published=article.published).keep

    def adopt(self, result: ArticleExtraction, article: ArticleInput) -> ArticleExtraction:
        """Another article's result as `article`'s: its header, and, for a near-identical copy of
        the story, its evidence grounded again in its own text with this job's settings."""
        return adopt_result(result, article, self.extractor.settings)


async def run_unit(item: SourceItem, work: Work) -> Outcome | None:
    """The article's outcome, recorded; None when the job stopped before the article was sent.

    Raises only what is the job's, not the article's: cancellation, `JobStopped`, and errors
    of the store itself.
    """
    if isinstance(item, InputFailure):
        outcome = input_failure(item)
        work.store.record(outcome)
        return outcome
    reuse_key = work.reuse_key
    earlier = work.store.earlier(item, reuse_key, work.adopt)
    if earlier is not None:
        return earlier
    limiter = work.limiter
    if work.stopping():
        return None
    if work.skips(item.article):
        outcome = skipped(item, triage_key=work.triage_key)
        work.store.record(outcome)
        return outcome
    reservation = await limiter.reserve(item.article.text) if limiter is not None else None
    if work.stopping():
        return None
    store, key = work.store, item.key
    store.started(key)
    started = time.perf_counter()
    # The article's own meter outlives a failed extraction: what failures cost is counted too.
    meter, token = start_metering(parent=work.meter, on_call=lambda usage: store.spent(key, usage))
    try:
        result = await work.extractor.aextract_article(item.article)
    except asyncio.CancelledError:
        raise
    except Exception as error:  # one bad article never aborts the job
        if isinstance(error, ProviderUnavailable) and work.stop_on_refusal:
            # Every further request would be refused the same way: the article stays to be done.
            store.release(key)
            raise JobStopped(f"{error}; the job stopped sending, unfinished articles stay pending") from error
        latency_ms = round((time.perf_counter() - started - meter.waiting) * 1000, 3)
        outcome = failure(item, error, reuse_key=reuse_key, meter=meter, latency_ms=latency_ms)
        if work.keep_exceptions:
            outcome.exception = error
    else:
        meta = result.meta
        outcome = Outcome.of(
            item,
            Status.DONE,
            line=result.model_dump_json(),
            reuse_key=reuse_key,
            attempts=meta.attempts,
            usage=meta.usage,
            latency_ms=meta.latency_ms,
        )
    finally:
        stop_metering(token)
    store.record(outcome)
    if limiter is not None and reservation is not None:
        # Recorded first: paying a debt to the limiter may wait, and must not put a result at risk.
        await limiter.settle(reservation, requests=meter.live_attempts, tokens=meter.live_usage.total_tokens)
    return outcome


def input_failure(item: InputFailure) -> Outcome:
    """The outcome of an input that could not be read: nothing was sent."""
    return Outcome(
        key=item.key,
        status=Status.FAILED,
        where=item.where,
        origin=Origin.INPUT,
        error_class="FetchError" if item.cause == Cause.FETCH else "InputError",
        cause=Cause(item.cause),
        message=item.message,
    )


def skipped(item: SourcedArticle, *, triage_key: str | None) -> Outcome:
    """The outcome of an article triage left out: nothing was sent. Its key is triage's, so a
    store keeps it skipped only while triage would decide the same."""
    return Outcome.of(item, Status.SKIPPED, origin=Origin.TRIAGED, reuse_key=triage_key, message=SKIP_REASON)


def failure(
    item: SourcedArticle, error: BaseException, *, reuse_key: str | None, meter: CallMeter, latency_ms: float
) -> Outcome:
    """A failed extraction's outcome: its cause, one-line message, and what it spent."""
    cause, message = describe_failure(error)
    return Outcome.of(
        item,
        Status.FAILED,
        reuse_key=reuse_key,
        error_class=type(error).__name__,
        cause=cause,
        http_status=getattr(error, "http_status", None),
        message=message,
        attempts=meter.attempts,
        usage=meter.usage,
        latency_ms=latency_ms,
    )
