"""The orchestrator of one article: prompt, model call, validation, grounding, normalization."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from schemas import (
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
from .prompts import fingerprint, prompt_version, render_messages
from .retry import Throttle, async_reask_retrying, reask_retrying
from .settings import Settings
from .transport import start_metering, stop_metering


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

    def extract(
        self,
        text: str,
        *,
        article_id: str | None = None,
        title: str | None = None,
        url: str | None = None,
        published: Any = None,
    ) -> ArticleExtraction:
        article = make_article(
            text, article_id=article_id, title=title, url=url, published=published, max_bytes=self.settings.max_input_bytes
        )
        return self.extract_article(article)

    async def aextract(
        self,
        text: str,
        *,
        article_id: str | None = None,
        title: str | None = None,
        url: str | None = None,
        published: Any = None,
    ) -> ArticleExtraction:
        article = make_article(
            text, article_id=article_id, title=title, url=url, published=published, max_bytes=self.settings.max_input_bytes
        )
        return await self.aextract_article(article)

    def extract_article(self, article: ArticleInput) -> ArticleExtraction:
        started = time.perf_counter()
        meter, token = start_metering()
        try:
            drafts = [self._call(request) for request in self._requests(article)]
        except Exception as exc:
            raise to_extractor_error(exc, attempts=meter.attempts) from exc
        finally:
            stop_metering(token)
        return self._finish(article, drafts, meter, started)

    async def aextract_article(self, article: ArticleInput) -> ArticleExtraction:
        started = time.perf_counter()
        meter, token = start_metering()
        try:
            drafts = [await self._acall(request) for request in self._requests(article)]
        except Exception as exc:
            raise to_extractor_error(exc, attempts=meter.attempts) from exc
        finally:
            stop_metering(token)
        return self._finish(article, drafts, meter, started)

    @property
    def fingerprint(self) -> str:
        return fingerprint(model=self.model, decoding=self.decoding())

    def decoding(self) -> dict[str, Any]:
        s = self.settings
        return {
            "mode": effective_mode(s, self.provider),
            "temperature": s.temperature,
            "max_tokens": s.max_tokens,
            "seed": s.seed,
            "max_reasks": s.max_reasks,
            "chunk_chars": s.context_chars(self.provider),
        }

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
                    response_model=ExtractionDraft,
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
        return extraction.model_copy(update={"meta": meta})


def extract(text: str, **kwargs: Any) -> ArticleExtraction:
    """One-shot convenience: `extract(text, provider="replay", article_id="x")`."""
    article_keys = {"article_id", "title", "url", "published"}
    article_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in article_keys}
    return Extractor(**kwargs).extract(text, **article_kwargs)


async def aextract(text: str, **kwargs: Any) -> ArticleExtraction:
    article_keys = {"article_id", "title", "url", "published"}
    article_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in article_keys}
    return await Extractor(**kwargs).aextract(text, **article_kwargs)
