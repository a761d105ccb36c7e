"""The orchestrator of one article: prompt, model call, validation, grounding, normalization."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any, TypedDict, Unpack

import instructor

from .schemas import (
    Aircraft,
    ArticleExtraction,
    Exercise,
    ExtractionDraft,
    ExtractionMeta,
    PoliticalStatement,
)

from .article import ArticleInput, make_article, split_paragraphs
from .client import build_client, effective_mode
from .failures import to_extractor_error
from .grounding import ground_extraction, make_grounding_check
from .normalize import normalize_extraction
from .prompting import fingerprint, prompt_version, render_messages
from .retry import Throttle, async_reask_retrying, reask_retrying
from .settings import Settings
from .replay import article_scope
from .transport import CallMeter, start_metering, stop_metering


# Wrapped once: instructor wraps a plain model anew on every call and so rebuilds its JSON
# schema each time (~8 ms of CPU an article); a pre-wrapped model hits instructor's cache.
DRAFT_MODEL = instructor.openai_schema(ExtractionDraft)


class ArticleFields(TypedDict, total=False):
    article_id: str | None
    title: str | None
    url: str | None
    published: Any


class Extractor:
    """Extract exercises, aircraft and statements from articles.

    Arguments override the environment (`EXTRACTOR_*`, `OPENAI_API_KEY`, `OPENAI_BASE_URL`),
    which overrides `.env`.
    """

    def __init__(
        self,
        provider: str | None = None,
        model: str | None = None,
        *,
        settings: Settings | None = None,
        throttle: Throttle | None = None,
        **overrides: Any,
    ) -> None:
        given = {key: value for key, value in {"provider": provider, "model": model, **overrides}.items() if value is not None}
        self.settings = settings.model_copy(update=given) if settings is not None else Settings(**given)
        self.provider = self.settings.resolved_provider()
        self.model = self.settings.resolved_model(self.provider)
        self.throttle = throttle
        self._client: Any = None
        self._aclient: Any = None

    # -- public API -------------------------------------------------------------------------

    def extract(self, text: str, **about: Unpack[ArticleFields]) -> ArticleExtraction:
        """Extract one article's text; `about` takes article_id, title, url, published."""
        return self.extract_article(self.article(text, **about))

    async def aextract(self, text: str, **about: Unpack[ArticleFields]) -> ArticleExtraction:
        return await self.aextract_article(self.article(text, **about))

    def article(self, text: str, **about: Unpack[ArticleFields]) -> ArticleInput:
        """Validate text and metadata into an `ArticleInput` (raises `InputError`)."""
        return make_article(text, max_bytes=self.settings.max_input_bytes, **about)

    def extract_article(self, article: ArticleInput) -> ArticleExtraction:
        started = time.perf_counter()
        with self._model_calls(article) as meter:
            drafts = [self._call(request) for request in self._requests(article)]
        return self._finish(article, drafts, meter, started)

    async def aextract_article(self, article: ArticleInput) -> ArticleExtraction:
        started = time.perf_counter()
        with self._model_calls(article) as meter:
            drafts = [await self._acall(request) for request in self._requests(article)]
        return self._finish(article, drafts, meter, started)

    @contextmanager
    def _model_calls(self, article: ArticleInput) -> Iterator[CallMeter]:
        """Meter the calls made for one article, name it for fixtures, and map failures to named errors."""
        meter, token = start_metering()
        try:
            with article_scope(article.header().id):
                yield meter
        except Exception as exc:
            raise to_extractor_error(exc, attempts=meter.attempts) from exc
        finally:
            stop_metering(token)

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint(model=self.model, decoding=self.decoding())

    def batch(self, articles: Iterable[Any], **options: Any) -> AsyncIterator[Any]:
        """Extract many articles concurrently: an async iterator of `BatchOutcome`, as they complete.

        Options: concurrency, store (a JobStore or database path: resumable), rpm, tpm,
        retry_failed, fail_fast. See `extractor.batch.runner.abatch`.
        """
        from .batch.runner import abatch

        return abatch(self, articles, **options)

    def batch_sync(self, articles: Iterable[Any], **options: Any) -> list[Any]:
        """`batch` for synchronous code: every outcome, in completion order."""
        from .batch.runner import batch

        return batch(self, articles, **options)

    def decoding(self) -> dict[str, Any]:
        s = self.settings
        decoding = {
            "mode": effective_mode(s, self.provider),
            "temperature": s.temperature,
            "max_tokens": s.max_tokens,
            "seed": s.seed,
            "max_reasks": s.max_reasks,
            "chunk_chars": s.context_chars(self.provider),
        }
        if self.provider == "local":
            # The transport reshapes local requests: what it does decides the answer too.
            decoding.update(local_max_tokens=s.local_max_tokens, local_constrain=s.local_constrain)
        return decoding

    # -- steps ------------------------------------------------------------------------------

    def _requests(self, article: ArticleInput) -> list[dict[str, Any]]:
        pieces = split_paragraphs(article.text, self.settings.context_chars(self.provider))
        requests = []
        for number, (_, piece) in enumerate(pieces, start=1):
            check = make_grounding_check(piece, threshold=self.settings.fuzzy_threshold, reasks=1)
            requests.append(
                dict(
                    model=self.model,
                    messages=render_messages(article, piece, part=number, parts=len(pieces)),
                    response_model=DRAFT_MODEL,
                    context={"grounding_check": check} if self.settings.grounding != "off" else None,
                    strict=False,
                    temperature=self.settings.temperature,
                    max_tokens=self.settings.max_tokens,
                    **({"seed": self.settings.seed} if self.settings.seed is not None else {}),
                )
            )
        return requests

    def _call(self, request: dict[str, Any]) -> ExtractionDraft:
        if self._client is None:
            self._client = build_client(self.settings, self.provider, is_async=False, throttle=self.throttle)
        return self._client.chat.completions.create(max_retries=reask_retrying(self.settings.max_reasks), **request)

    async def _acall(self, request: dict[str, Any]) -> ExtractionDraft:
        if self._aclient is None:
            self._aclient = build_client(self.settings, self.provider, is_async=True, throttle=self.throttle)
        return await self._aclient.chat.completions.create(
            max_retries=async_reask_retrying(self.settings.max_reasks), **request
        )

    def _finish(self, article: ArticleInput, drafts: list[ExtractionDraft], meter: Any, started: float) -> ArticleExtraction:
        warnings: list[str] = []
        if len(drafts) > 1:
            warnings.append(f"article split into {len(drafts)} parts for the context budget; results merged")
        extraction = ArticleExtraction(
            article=article.header(),
            exercises=[Exercise.model_validate(item.model_dump()) for d in drafts for item in d.exercises],
            aircraft=[Aircraft.model_validate(item.model_dump()) for d in drafts for item in d.aircraft],
            statements=[PoliticalStatement.model_validate(item.model_dump()) for d in drafts for item in d.statements],
            meta=ExtractionMeta(
                provider=self.provider,
                model=self.model,
                prompt_version=prompt_version(),
                fingerprint=self.fingerprint,
                extracted_at=dt.datetime.now(dt.timezone.utc),
                warnings=warnings,
            ),
        )
        extraction = ground_extraction(
            extraction, article.text, mode=self.settings.grounding, threshold=self.settings.fuzzy_threshold
        )
        extraction = normalize_extraction(extraction)
        meta = extraction.meta.model_copy(
            update={
                "usage": meter.usage,
                "attempts": meter.attempts,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            }
        )
        # Grounding and normalization build copies without re-validating; what we emit must
        # still be the contract, so check the finished document once.
        return ArticleExtraction.model_validate(extraction.model_copy(update={"meta": meta}).model_dump())


def _split_article_fields(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    about = {key: kwargs.pop(key) for key in list(kwargs) if key in ArticleFields.__annotations__}
    return about, kwargs


def extract(text: str, **kwargs: Any) -> ArticleExtraction:
    """One-shot convenience: `extract(text, provider="replay", article_id="x")`."""
    about, settings = _split_article_fields(kwargs)
    return Extractor(**settings).extract(text, **about)


async def aextract(text: str, **kwargs: Any) -> ArticleExtraction:
    about, settings = _split_article_fields(kwargs)
    return await Extractor(**settings).aextract(text, **about)
