"""Statements by governments, officials, militaries and state media."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from .common import (
    MAX_ACTORS,
    Actor,
    ActorDraft,
    ContractModel,
    EvidenceDrafts,
    EvidenceList,
    LongText,
    ShortText,
)

Stance = Literal["support", "cooperate", "criticize", "threaten", "reject", "demand", "neutral"]


class StatementDraft(ContractModel):
    speaker: ActorDraft = Field(
        description="who speaks: the person, else the body; a joint statement: one entry per named speaker"
    )
    speaker_title: ShortText | None = Field(default=None, description="as written")
    on_behalf_of: ActorDraft | None = Field(default=None, description="the state or body the speaker speaks for")
    channel: ShortText | None = Field(
        default=None, description='medium as written ("Norvision", "a communique", "on its website")'
    )
    quote: LongText | None = Field(
        default=None, description="the longest continuous part of the direct quotation, verbatim; null if only reported"
    )
    summary: LongText = Field(description="one-sentence paraphrase")
    stance: Stance = Field(
        description="first that applies: threaten, demand, reject, criticize, support, cooperate, neutral"
    )
    targets: Annotated[list[ActorDraft], Field(max_length=MAX_ACTORS)] = []
    date: dt.date | None = Field(default=None, description="when made, only if the text and Published fix the day")
    date_text: ShortText | None = Field(
        default=None, description='when made, as written ("on the 29th", "late last night")'
    )
    evidence: EvidenceDrafts


# The contract narrows the draft's fields to validated subtypes: pydantic allows it, mypy
# (invariant lists, no override narrowing) does not, hence the ignores below.
class PoliticalStatement(StatementDraft):
    speaker: Actor  # type: ignore[assignment]
    on_behalf_of: Actor | None = None  # type: ignore[assignment]
    targets: Annotated[list[Actor], Field(max_length=MAX_ACTORS)] = []  # type: ignore[assignment]
    evidence: EvidenceList  # type: ignore[assignment]
