"""The top-level documents: what the model drafts and what the extractor returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextvars import ContextVar
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Self

from pydantic import Field, ValidationInfo, model_validator

from .aircraft import Aircraft, AircraftDraft
from .common import MAX_ITEMS, ContractModel, ShortText
from .exercise import Exercise, ExerciseDraft
from .statement import PoliticalStatement, StatementDraft

SCHEMA_VERSION: Final = "1.2"
# Results written before contract 1.2 (1.0 and 1.1 alike) say "1"; they still load.
SchemaVersion = Literal["1", "1.2"]

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

    def __sub__(self, other: Usage) -> Usage:
        """What is left of these tokens without `other` (never below zero)."""
        return Usage(
            prompt_tokens=max(0, self.prompt_tokens - other.prompt_tokens),
            completion_tokens=max(0, self.completion_tokens - other.completion_tokens),
            total_tokens=max(0, self.total_tokens - other.total_tokens),
        )


class NoticeCode(StrEnum):
    """What a notice reports: a stable value to count and filter by (new ones may be added)."""

    ARTICLE_SPLIT = "article_split"  # the article was extracted in parts (context budget), results merged
    DROPPED_UNGROUNDED = "dropped_ungrounded"  # an item dropped: none of its evidence is in the text (strict)
    QUOTE_NOT_FOUND = "quote_not_found"  # a statement's direct quote is not in the text (strict: set to null)
    QUOTE_SPLIT = "quote_split"  # a quote joining the parts of a split quotation: the longest part kept
    NOT_AIRCRAFT = "not_aircraft"  # an "aircraft" the gazetteer knows is not one was removed
    ITEMS_CAPPED = "items_capped"  # more items of a type than the contract's 50: the first ones kept


class Notice(ContractModel):
    """Something the pipeline did to the model's answer that a reader should know of."""

    code: NoticeCode = Field(description="what happened, as a stable code")
    detail: str = Field(description="the same in words: also the matching entry of `warnings`")
    path: str | None = Field(
        default=None, description='the item (and field) it is about, e.g. "aircraft[2]", "statements[0].quote"'
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
    notices: list[Notice] = []
    reuse_key: str | None = None


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
    schema_version: SchemaVersion = SCHEMA_VERSION
    article: Article
    exercises: Annotated[list[Exercise], Field(max_length=MAX_ITEMS)] = []
    aircraft: Annotated[list[Aircraft], Field(max_length=MAX_ITEMS)] = []
    statements: Annotated[list[PoliticalStatement], Field(max_length=MAX_ITEMS)] = []
    meta: ExtractionMeta
