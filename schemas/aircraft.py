"""Aircraft types involved, one entry per type, operator and place (contract 1.2)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .common import Actor, ActorDraft, ContractModel, EvidenceDrafts, EvidenceList, ShortText

AircraftRole = Literal[
    "bomber",
    "fighter",
    "escort",
    "tanker",
    "reconnaissance",
    "transport",
    "airborne_early_warning",
    "other",
]


class AircraftDraft(ContractModel):
    designation: Annotated[str, Field(min_length=1, max_length=40)] = Field(
        description='normalized type, no plural: "Tu-95" for "Tu-95s", "MiG-29" for "MIG 29"'
    )
    name: ShortText | None = Field(default=None, description='popular name if given, e.g. "Blackjack"')
    mention: ShortText = Field(description="as written in the article")
    operator: ActorDraft | None = Field(default=None, description="who flies it")
    count: Annotated[int, Field(ge=0, le=10_000)] | None = Field(
        default=None, description='a stated number; "both" 2, "a plane" 1; else null'
    )
    role: AircraftRole | None = Field(default=None, description="its task as the article states it, else null")
    home_base: ShortText | None = Field(default=None, description="where it is based, as written")
    deployed_to: ShortText | None = Field(
        default=None, description="where it was deployed, as written; another place is another entry"
    )
    nuclear_capable: bool | None = Field(default=None, description="only when the article says so")
    evidence: EvidenceDrafts


# The contract narrows the draft's fields to validated subtypes: pydantic allows it, mypy
# (invariant lists, no override narrowing) does not, hence the ignores below.
class Aircraft(AircraftDraft):
    operator: Actor | None = None  # type: ignore[assignment]
    evidence: EvidenceList  # type: ignore[assignment]
