"""The top-level documents: what the model drafts and what the extractor returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextvars import ContextVar
from typing import Annotated, Any, Final, Literal, Self

from pydantic import Field, ValidationInfo, model_validator

from .aircraft import Aircraft, AircraftDraft
from .common import MAX_ITEMS, ContractModel, ShortText
from .exercise import Exercise, ExerciseDraft
from .statement import PoliticalStatement, StatementDraft

SCHEMA_VERSION: Final = "1"

# The check of a draft's evidence against the article being extracted, set by the extractor
# around each model call. A context variable rather than instructor's `context=`: that also
# renders every message as a Jinja template, which would rewrite article text holding `{{`.
DRAFT_CHECK: ContextVar[Callable[[Any], None] | None] = ContextVar("extractor_draft_check", default=None)


class Article(ContractModel):
    id: ShortText
    title: Annotated[str, Field(max_length=1000)] | None = None
    url: Annotated[str, Field(max_length=2000)] | None = None
    published: dt.date | None = None
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    chars: Annotated[int, Field(ge=0)]
    site_name: Annotated[str, Field(max_length=300)] | None = Field(
        default=None, description="the publication, from the page's metadata"
    )
    author: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None, description="the byline, from the page's metadata"
    )


class Usage(ContractModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class ExtractionMeta(ContractModel):
    provider: str
    model: str
    prompt_version: str
    fingerprint: str
    usage: Usage = Usage()
    attempts: int = 0
    latency_ms: float = 0.0
    extracted_at: dt.datetime
    warnings: list[str] = []


class ExtractionDraft(ContractModel):
    """What the model is asked to fill: items without offsets or canonical names."""

    exercises: Annotated[list[ExerciseDraft], Field(max_length=MAX_ITEMS)] = []
    aircraft: Annotated[list[AircraftDraft], Field(max_length=MAX_ITEMS)] = []
    statements: Annotated[list[StatementDraft], Field(max_length=MAX_ITEMS)] = []

    @model_validator(mode="after")
    def _evidence_is_in_the_text(self, info: ValidationInfo) -> Self:
        # The check itself lives in the extractor's grounding step; raising here lets instructor
        # re-ask a failed quote. It comes from the validation context or from DRAFT_CHECK.
        check = (info.context or {}).get("grounding_check") or DRAFT_CHECK.get()
        if check is not None:
            check(self)
        return self


class ArticleExtraction(ContractModel):
    schema_version: Literal["1"] = SCHEMA_VERSION
    article: Article
    exercises: Annotated[list[Exercise], Field(max_length=MAX_ITEMS)] = []
    aircraft: Annotated[list[Aircraft], Field(max_length=MAX_ITEMS)] = []
    statements: Annotated[list[PoliticalStatement], Field(max_length=MAX_ITEMS)] = []
    meta: ExtractionMeta
