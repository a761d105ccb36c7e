"""Military exercises, drills and joint flights."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

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

ExerciseKind = Literal["air", "naval", "land", "missile_defense", "joint", "other"]
ExerciseStatus = Literal["conducted", "ongoing", "planned", "cancelled"]


class ExerciseDraft(ContractModel):
    name: ShortText | None = Field(default=None, description="official name if the article gives one")
    description: LongText = Field(description="short description")
    kind: ExerciseKind = Field(
        description="domain, air defence is missile_defense; joint = several services, not several countries"
    )
    participants: Annotated[list[ActorDraft], Field(max_length=MAX_ACTORS)] = Field(
        default=[], description="forces or states taking part"
    )
    start_date: dt.date | None = Field(
        default=None, description="only if the text and Published fix this occurrence's day"
    )
    end_date: dt.date | None = None
    date_text: ShortText | None = Field(
        default=None, description='the date as written; for a recurring exercise its words ("every spring")'
    )
    location: ShortText | None = Field(default=None, description="as written")
    status: ExerciseStatus
    aircraft: Annotated[list[ShortText], Field(max_length=MAX_ACTORS)] = Field(
        default=[], description="designations of the aircraft items that took part"
    )
    evidence: EvidenceDrafts

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


# The contract narrows the draft's fields to validated subtypes: pydantic allows it, mypy
# (invariant lists, no override narrowing) does not, hence the ignores below.
class Exercise(ExerciseDraft):
    participants: Annotated[list[Actor], Field(max_length=MAX_ACTORS)] = []  # type: ignore[assignment]
    evidence: EvidenceList  # type: ignore[assignment]
