"""The service's side of the extraction library: the engine (extractors, gate, metrics) and jobs.

`Engine` runs one article through the unit of work (`extractor.jobs.unit.run_unit`) for a
request; `GatedExtractor` is what the unit drives, every model request through the shared
gate and metered. `JobService` is what the routes do with jobs: create, read, list, cancel,
retry, delete, always as the calling key sees them (a job of another key does not exist for
it). Jobs and their articles live in the service database (`extractor.service.db`); the
runner (`runner.py`) works them off.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import ConfigError, cause_of
from ..input.article import ArticleInput, article_from_record
from ..input.sources import SourcedArticle
from ..jobs.outcome import Status
from ..jobs.unit import NoStore, Work, run_unit
from ..model_call.gate import reset_gate, use_gate
from ..model_call.retry import Throttle
from ..pipeline import Extractor
from ..schemas import ArticleExtraction, Usage
from ..settings import GroundingMode, Settings
from .db import Spent, WriteBehind
from .limits import ExtractionGate
from .metrics import Metrics

# -- extraction ---------------------------------------------------------------------------


class Engine:
    """One Extractor per grounding mode, every extraction through the shared gate and metered."""

    def __init__(self, settings: Settings, gate: ExtractionGate, metrics: Metrics) -> None:
        self.settings = settings
        self.gate = gate
        self.metrics = metrics
        self.writer: WriteBehind | None = None  # set once the database is open: usage is recorded
        # One throttle for everything: a 429's Retry-After pauses every caller, not one.
        self.throttle = Throttle()
        self._extractors: dict[str, Extractor] = {}

    def extractor(self, grounding: GroundingMode | None = None) -> Extractor:
        """The Extractor for a grounding mode (ConfigError when no provider can run)."""
        mode = grounding or self.settings.grounding
        if mode not in self._extractors:
            self._extractors[mode] = Extractor(settings=self.settings, grounding=mode, throttle=self.throttle)
        return self._extractors[mode]

    def ready(self) -> str | None:
        """None when a provider is configured, else why not."""
        try:
            self.extractor()
        except ConfigError as error:
            return str(error)
        return None

    def article(self, record: Any, where: str) -> ArticleInput:
        return article_from_record(record, where=where, max_bytes=self.settings.max_input_bytes)

    def copy_result(self, line: str, article: ArticleInput) -> str:
        """An identical text's result, under this article's id and metadata."""
        result = ArticleExtraction.model_validate_json(line)
        return result.model_copy(update={"article": article.header()}).model_dump_json()

    async def extract(self, article: ArticleInput, grounding: GroundingMode | None, owner: str) -> ArticleExtraction:
        """Extract one request's article now (the unit of work); its error as raised.

        Its model calls are counted in the caller's usage as each ends.
        """
        store = RequestUsage(self.writer, owner) if self.writer is not None else NoStore()
        work = Work(
            GatedExtractor(self, grounding, source="request"), store, stop_on_refusal=False, keep_exceptions=True
        )
        outcome = await run_unit(SourcedArticle("request", article), work)
        if outcome is None:  # only a stopping job skips an article
            raise RuntimeError("the extraction was not run")
        if outcome.status is not Status.DONE or outcome.result is None:
            outcome.raise_error()
        return outcome.result

    async def aclose(self) -> None:
        for extractor in self._extractors.values():
            closer = getattr(extractor, "aclose", None)
            if closer is not None:
                await closer()


class GatedExtractor:
    """An Extractor seen through the engine's gate and metrics: what the unit of work drives.

    `source` is "request" (may be refused with 429 when the queue is full) or "job" (waits).
    """

    def __init__(self, engine: Engine, grounding: GroundingMode | None, *, source: str) -> None:
        self._engine = engine
        self._source = source
        self._extractor = engine.extractor(grounding)
        self.settings = self._extractor.settings
        self.reuse_key = self._extractor.reuse_key
        self.throttle: Throttle | None = engine.throttle

    async def aextract_article(self, article: ArticleInput) -> ArticleExtraction:
        """Extract, each model request through the shared gate, metered by source."""
        metrics = self._engine.metrics
        token = use_gate(self._engine.gate)  # this task's requests take the service's slots
        started = time.perf_counter()
        try:
            result = await self._extractor.aextract_article(article)
        except Exception as error:
            attempts = getattr(error, "attempts", 0) or 0
            metrics.observe_failure(self._source, time.perf_counter() - started, cause_of(error), attempts)
            raise
        finally:
            reset_gate(token)
        meta = result.meta
        metrics.observe_success(self._source, time.perf_counter() - started, meta.usage, meta.attempts)
        return result


def grounding_mode(value: str | None) -> GroundingMode | None:
    """A stored grounding mode back as the setting's type (anything else: the server's setting)."""
    if value == "strict":
        return "strict"
    if value == "flag":
        return "flag"
    if value == "off":
        return "off"
    return None


class RequestUsage(NoStore):
    """A request's unit of work records nothing but what its calls spent, in the caller's usage."""

    def __init__(self, writer: WriteBehind, owner: str) -> None:
        self.writer = writer
        self.owner = owner

    def spent(self, key: str, usage: Usage, *, calls: int = 1) -> None:
        self.writer.submit(Spent(self.owner, usage, calls))

    def record(self, outcome: Any) -> None:
        self.writer.submit(Spent(self.owner, Usage(), 0, request=True))
