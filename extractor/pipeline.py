"""The orchestrator of one article: prompt, model call, validation, grounding, normalization."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Self, TypedDict, Unpack

import instructor
import openai

from .errors import ConfigError
from .input.article import ArticleInput, make_article, split_paragraphs
from .jobs.reuse import reuse_key as compute_reuse_key
from .model_call.caller_transport import CallerTransport
from .model_call.client import AnswerLayer, ModelClients, effective_mode
from .model_call.failures import to_extractor_error
from .model_call.retry import Throttle, async_reask_retrying, reask_retrying
from .model_call.transport import CallMeter, start_metering, stop_metering
from .postprocess.grounding import ground_extraction, make_grounding_check
from .postprocess.normalize import normalize_extraction
from .postprocess.notices import noted
from .prompting import fingerprint, prompt_version, render_messages
from .replay import article_scope
from .schemas import (
    DRAFT_CHECK,
    Aircraft,
    ArticleExtraction,
    Exercise,
    ExtractionDraft,
    ExtractionMeta,
    Notice,
    NoticeCode,
    PoliticalStatement,
)
from .settings import (
    Provider,
    ResolvedProvider,
    Settings,
    SettingsOverrides,
    check_setting_names,
    reject_unknown,
)

if TYPE_CHECKING:
    from .jobs.options import BatchOptions
    from .jobs.outcome import Outcome

# Wrapped once: instructor wraps a plain model anew on every call and so rebuilds its JSON
# schema each time (~8 ms of CPU an article); a pre-wrapped model hits instructor's cache.
DRAFT_MODEL = instructor.openai_schema(ExtractionDraft)


class ModelRequest(NamedTuple):
    """One model call: the keyword arguments for instructor, and the evidence check of its
    article piece (None with grounding off), which validation reads from `DRAFT_CHECK`."""

    kwargs: dict[str, Any]
    check: Callable[[Any], None] | None


class ArticleFields(TypedDict, total=False):
    """An article's metadata, given beside its text."""

    article_id: str | None
    title: str | None
    url: str | None
    published: dt.date | str | None


class ExtractOptions(SettingsOverrides, ArticleFields, total=False):
    """Keyword arguments of the one-shot `extract` and `aextract`: settings and article metadata."""


class Extractor:
    """Extract exercises, aircraft and statements from articles.

    Arguments override the environment (`EXTRACTOR_*`, `OPENAI_API_KEY`, `OPENAI_BASE_URL`),
    which overrides `.env`. Any `Settings` field may be given by name (`temperature=0.2`,
    `fixtures_mode="off"`); a name that is no setting is a `TypeError`.

    The HTTP clients are opened on first use; close them with `close()`/`aclose()` or use the
    extractor as a context manager (`with` / `async with`).

    Bring your own client:

    - `http_transport`: an httpx or httpx2 transport answers instead of the provider's server.
      `extract` needs a sync one (`BaseTransport`); `aextract`, `abatch` and `batch` (which
      runs the async engine) an async one (`AsyncBaseTransport`); `MockTransport` is both. httpx ones are adapted to the httpx2 the openai SDK speaks. Retries, metering
      (`meta.usage`, `meta.attempts`) and record/replay still wrap it; the extractor never
      closes it.
    - `client` / `async_client`: your own `openai.OpenAI` / `openai.AsyncOpenAI`, wrapped with
      instructor and used as it is, so its own `max_retries`, timeout and transport apply.
      What is lost: our transport retries and 429 throttle, metering (`meta.usage` is zero and
      `meta.attempts` 0) and record/replay fixtures. The provider is `openai`; the extractor
      never closes your client.
    """

    def __init__(
        self,
        provider: Provider | None = None,
        model: str | None = None,
        *,
        settings: Settings | None = None,
        client: openai.OpenAI | None = None,
        async_client: openai.AsyncOpenAI | None = None,
        http_transport: CallerTransport | None = None,
        throttle: Throttle | None = None,
        **overrides: Unpack[SettingsOverrides],
    ) -> None:
        check_setting_names(overrides, caller="Extractor()")
        given: dict[str, Any] = dict(overrides)
        if provider is not None:
            given["provider"] = provider
        if model is not None:
            given["model"] = model
        # Re-validated, not model_copy(update=...): a bad value must fail here, not mid-batch.
        if settings is None:
            self.settings: Settings = Settings(**given)
        else:
            self.settings = type(settings)(**{**settings.model_dump(), **given})
        outside = http_transport is not None or client is not None or async_client is not None
        self.provider: ResolvedProvider = self._resolve_provider(outside=outside)
        self.model: str = self.settings.resolved_model(self.provider)
        self._clients = ModelClients(
            self.settings,
            self.provider,
            client=client,
            async_client=async_client,
            http_transport=http_transport,
            throttle=throttle,
        )

    @property
    def throttle(self) -> Throttle | None:
        """The pause shared by every call (a 429's Retry-After); a batch sets one if unset."""
        return self._clients.throttle

    @throttle.setter
    def throttle(self, throttle: Throttle | None) -> None:
        # Clients opened from now on pick it up.
        self._clients.throttle = throttle

    def _resolve_provider(self, *, outside: bool) -> ResolvedProvider:
        if not outside:
            return self.settings.resolved_provider()
        # A caller's client or transport answers as an OpenAI-compatible server.
        if self.settings.provider not in ("auto", "openai"):
            raise ConfigError(f"provider {self.settings.provider!r} cannot use your own client or transport")
        return "openai"

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP clients this extractor opened (never a caller's own client).

        The sync client always; the async one too when no event loop is running (inside one,
        use `aclose`). The extractor stays usable: a later call opens new clients.
        """
        self._clients.close()

    async def aclose(self) -> None:
        """Close the HTTP clients this extractor opened, sync and async."""
        await self._clients.aclose()

    async def _aclose_async_client(self) -> None:
        """Close the async client; the sync batch calls this before its event loop ends."""
        await self._clients.aclose_async()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- public API -------------------------------------------------------------------------

    def extract(self, text: str, **about: Unpack[ArticleFields]) -> ArticleExtraction:
        """Extract one article's text; `about` takes article_id, title, url, published."""
        return self.extract_article(self.article(text, **about))

    async def aextract(self, text: str, **about: Unpack[ArticleFields]) -> ArticleExtraction:
        """`extract` for async code."""
        return await self.aextract_article(self.article(text, **about))

    def article(self, text: str, **about: Unpack[ArticleFields]) -> ArticleInput:
        """Validate text and metadata into an `ArticleInput` (raises `InputError`)."""
        reject_unknown(about, ArticleFields.__annotations__, caller="article()")
        return make_article(text, max_bytes=self.settings.max_input_bytes, **about)

    def extract_article(self, article: ArticleInput) -> ArticleExtraction:
        """Extract an `ArticleInput` (from `article`, `load_article` or `make_article`)."""
        started = time.perf_counter()
        if self.provider == "rules":
            return self._by_rules(article, started)
        with self._model_calls(article) as meter:
            drafts = [self._call(request) for request in self._requests(article)]
        return self._finish(article, drafts, meter, started)

    async def aextract_article(self, article: ArticleInput) -> ArticleExtraction:
        """`extract_article` for async code."""
        started = time.perf_counter()
        if self.provider == "rules":
            # A few milliseconds of CPU, no waiting: nothing to gain from a thread or an await.
            return self._by_rules(article, started)
        with self._model_calls(article) as meter:
            drafts = [await self._acall(request) for request in self._requests(article)]
        # Grounding and normalizing are the article's longest stretch of CPU: on one event loop
        # every wake-up queued meanwhile (an answer arriving, a slot freed) waits for it, so
        # let those run first (extractor/model_call/gate.py).
        await asyncio.sleep(0)
        return self._finish(article, drafts, meter, started)

    def abatch(self, articles: Iterable[Any], **options: Unpack[BatchOptions]) -> AsyncIterator[Outcome]:
        """Extract many articles concurrently: an async iterator of `Outcome`, as they complete.

        `articles`: `ArticleInput`s, texts, `{text, id, title, url, published}` records or paths.
        Options: concurrency, store (a `JobStore` or database path: resumable), rpm, tpm,
        retry_failed, fail_fast, triage (skip articles the rules find nothing in, before any
        model call). See `extractor.engines.local.abatch`.
        """
        from .engines.local import abatch

        return abatch(self, articles, **options)

    def batch(self, articles: Iterable[Any], **options: Unpack[BatchOptions]) -> list[Outcome]:
        """`abatch` for synchronous code: every outcome, in completion order.

        Inside a running event loop (Jupyter) it runs in a worker thread with a loop of its own;
        with your own `async_client`, bound to your loop, use `abatch` there instead.
        """
        from .engines.local import batch

        return batch(self, articles, **options)

    @cached_property
    def fingerprint(self) -> str:
        """What decides an answer (model and decoding; the rules' code): part of the reuse key."""
        if self.provider == "rules":
            from .rules import rules_fingerprint

            return rules_fingerprint()
        return fingerprint(model=self.model, decoding=self.decoding())

    @cached_property
    def reuse_key(self) -> str:
        """What decides a result: the fingerprint plus grounding, gazetteer and post-processing code.

        A stored result is reused (resume, identical texts) only when its reuse key is this one.
        """
        return compute_reuse_key(self)

    def add_answer_layer(self, layer: AnswerLayer) -> None:
        """Put a transport layer between what answers and the retries and metering (an engine's hook).

        The Batch API engine answers from its batches this way. Clients opened before are
        reopened on their next use.
        """
        self._clients.add_layer(layer)

    def decoding(self) -> dict[str, Any]:
        """The decoding options sent with every call, as recorded in the fingerprint."""
        s = self.settings
        decoding: dict[str, Any] = {
            "mode": effective_mode(s, self.provider),
            "strict_schema": self._clients.strict_schema,
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

    # -- steps ------------------------------------------------------------------------------

    def _requests(self, article: ArticleInput) -> list[ModelRequest]:
        pieces = split_paragraphs(article.text, self.settings.context_chars(self.provider))
        requests = []
        for number, (_, piece) in enumerate(pieces, start=1):
            check = None
            if self.settings.grounding != "off":
                check = make_grounding_check(piece, threshold=self.settings.fuzzy_threshold, reasks=1)
            kwargs = dict(
                model=self.model,
                messages=render_messages(article, piece, part=number, parts=len(pieces)),
                response_model=DRAFT_MODEL,
                strict=False,
                temperature=self.settings.temperature,
                max_tokens=self.settings.max_tokens,
                **({"seed": self.settings.seed} if self.settings.seed is not None else {}),
            )
            requests.append(ModelRequest(kwargs, check))
        return requests

    def _call(self, request: ModelRequest) -> ExtractionDraft:
        token = DRAFT_CHECK.set(request.check)
        try:
            draft: ExtractionDraft = self._clients.sync().chat.completions.create(
                max_retries=reask_retrying(self.settings.max_reasks), **request.kwargs
            )
        finally:
            DRAFT_CHECK.reset(token)
        return draft

    async def _acall(self, request: ModelRequest) -> ExtractionDraft:
        token = DRAFT_CHECK.set(request.check)
        try:
            draft: ExtractionDraft = await (await self._clients.async_()).chat.completions.create(
                max_retries=async_reask_retrying(self.settings.max_reasks), **request.kwargs
            )
        finally:
            DRAFT_CHECK.reset(token)
        return draft

    def _by_rules(self, article: ArticleInput, started: float) -> ArticleExtraction:
        """The rules' items in place of a model's answer; grounding and normalization as for any provider."""
        from .rules.extract import extract_items

        items = extract_items(article.text, published=article.published)
        return self._publish(
            article,
            items.exercises,
            items.aircraft,
            items.statements,
            CallMeter(),
            started,
            prompt="none",
            notices=items.notices,
        )

    def _finish(
        self, article: ArticleInput, drafts: list[ExtractionDraft], meter: CallMeter, started: float
    ) -> ArticleExtraction:
        notices: list[Notice] = []
        if len(drafts) > 1:
            detail = f"article split into {len(drafts)} parts for the context budget; results merged"
            notices.append(Notice(code=NoticeCode.ARTICLE_SPLIT, detail=detail))
        return self._publish(
            article,
            [Exercise.model_validate(item.model_dump()) for d in drafts for item in d.exercises],
            [Aircraft.model_validate(item.model_dump()) for d in drafts for item in d.aircraft],
            [PoliticalStatement.model_validate(item.model_dump()) for d in drafts for item in d.statements],
            meter,
            started,
            notices=notices,
        )

    def _publish(
        self,
        article: ArticleInput,
        exercises: list[Exercise],
        aircraft: list[Aircraft],
        statements: list[PoliticalStatement],
        meter: CallMeter,
        started: float,
        *,
        prompt: str | None = None,
        notices: list[Notice] | None = None,
    ) -> ArticleExtraction:
        """Items from the model or the rules, grounded, normalized and checked against the contract."""
        extraction = ArticleExtraction(
            article=article.header(),
            exercises=exercises,
            aircraft=aircraft,
            statements=statements,
            meta=noted(
                ExtractionMeta(
                    provider=self.provider,
                    model=self.model,
                    prompt_version=prompt or prompt_version(),
                    fingerprint=self.fingerprint,
                    reuse_key=self.reuse_key,
                    extracted_at=dt.datetime.now(dt.UTC),
                ),
                notices or [],
            ),
        )
        extraction = ground_extraction(
            extraction, article.text, mode=self.settings.grounding, threshold=self.settings.fuzzy_threshold
        )
        extraction = normalize_extraction(extraction, text=article.text)
        meta = extraction.meta.model_copy(
            update={
                "usage": meter.usage,
                "attempts": meter.attempts,
                "latency_ms": round((time.perf_counter() - started - meter.waiting) * 1000, 3),
            }
        )
        # Grounding and normalization build copies without re-validating; what we emit must
        # still be the contract, so check the finished document once.
        return ArticleExtraction.model_validate(extraction.model_copy(update={"meta": meta}).model_dump())


def _split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(article metadata, settings) from a one-shot call's keyword arguments."""
    check_setting_names(options, caller="extract()", also=ArticleFields.__annotations__)
    about = {key: value for key, value in options.items() if key in ArticleFields.__annotations__}
    settings = {key: value for key, value in options.items() if key not in about}
    return about, settings


def extract(
    text: str, *, provider: Provider | None = None, model: str | None = None, **options: Unpack[ExtractOptions]
) -> ArticleExtraction:
    """One-shot convenience: `extract(text, provider="replay", article_id="x")`.

    Takes any `Settings` field and the article's metadata (article_id, title, url, published)
    by name; opens an `Extractor` for this one text and closes it again.
    """
    about, settings = _split_options(dict(options))
    with Extractor(provider, model, **settings) as extractor:
        return extractor.extract(text, **about)


async def aextract(
    text: str, *, provider: Provider | None = None, model: str | None = None, **options: Unpack[ExtractOptions]
) -> ArticleExtraction:
    """`extract` for async code."""
    about, settings = _split_options(dict(options))
    async with Extractor(provider, model, **settings) as extractor:
        return await extractor.aextract(text, **about)
