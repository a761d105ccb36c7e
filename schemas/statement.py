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
    speaker: ActorDraft
    speaker_title: ShortText | None = None
    on_behalf_of: ActorDraft | None = None
    channel: ShortText | None = Field(default=None, description='"KCNA", "press release", "X"')
    quote: LongText | None = Field(default=None, description="the direct quote, verbatim, if any")
    summary: LongText = Field(description="one-sentence paraphrase")
    stance: Stance
    targets: Annotated[list[ActorDraft], Field(max_length=MAX_ACTORS)] = []
    date: dt.date | None = None
    evidence: EvidenceDrafts


# The contract narrows the draft's fields to validated subtypes: pydantic allows it, mypy
# (invariant lists, no override narrowing) does not, hence the ignores below.
class PoliticalStatement(StatementDraft):
    speaker: Actor  # type: ignore[assignment]
    on_behalf_of: Actor | None = None  # type: ignore[assignment]
    targets: Annotated[list[Actor], Field(max_length=MAX_ACTORS)] = []  # type: ignore[assignment]
    evidence: EvidenceList  # type: ignore[assignment]
    # Contract 1.1. Only here, not in StatementDraft: the draft's JSON schema is part of every
    # recorded request (replay keys, fingerprints); the model is asked for it from prompt v2 on.
    date_text: ShortText | None = Field(
        default=None, description='when it was made, as written ("Friday", "Dec. 7"); added in 1.1'
    )
