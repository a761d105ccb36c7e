"""Shared building blocks of the contract: actors, evidence, limits."""

from __future__ import annotations

from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

# Caps that make a runaway generation fail validation instead of producing junk.
SHORT_TEXT = 200
LONG_TEXT = 1000
MAX_ITEMS = 50
MAX_ACTORS = 20
MAX_EVIDENCE = 10

ActorKind = Literal["state", "military", "government", "organization", "armed_group", "media", "person"]
MatchKind = Literal["exact", "normalized", "fuzzy"]

ShortText = Annotated[str, Field(min_length=1, max_length=SHORT_TEXT)]
LongText = Annotated[str, Field(min_length=1, max_length=LONG_TEXT)]


def _iso3(value: str) -> str:
    code = value.strip().upper()
    if pycountry.countries.get(alpha_3=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-3 country code")
    return code


def _iso3_or_none(value: object) -> object:
    """Model-side leniency: a country the model cannot name properly is unknown, not a guess."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    country = pycountry.countries.get(alpha_3=text.upper()) or pycountry.countries.get(alpha_2=text.upper())
    if country is None:
        try:
            country = pycountry.countries.lookup(text)
        except LookupError:
            return None
    return country.alpha_3


CountryCode = Annotated[str, AfterValidator(_iso3)]
"""Strict ISO 3166-1 alpha-3: the contract's form."""

LenientCountryCode = Annotated[str | None, BeforeValidator(_iso3_or_none)]
"""What a model may send: alpha-2, alpha-3 or a name; anything unresolvable becomes null."""


class ContractModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ActorDraft(ContractModel):
    """An actor as the model reports it."""

    name: ShortText = Field(description="as written in the article")
    country: LenientCountryCode = Field(
        default=None, description='ISO 3166-1 alpha-3 ("USA", "PRK") when the article makes it clear'
    )
    kind: ActorKind | None = None


class Actor(ContractModel):
    name: ShortText = Field(description="as written in the article")
    canonical_name: ShortText | None = None
    abbreviation: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    country: CountryCode | None = Field(default=None, description="ISO 3166-1 alpha-3")
    kind: ActorKind | None = None
    qid: Annotated[str, Field(pattern=r"^Q[0-9]+$")] | None = Field(
        default=None, description="Wikidata QID (an addition to contract v1)"
    )


class EvidenceDraft(ContractModel):
    quote: LongText = Field(description="a verbatim span copied from the article text")


class Evidence(EvidenceDraft):
    start: Annotated[int, Field(ge=0)] | None = None
    end: Annotated[int, Field(ge=0)] | None = None
    match: MatchKind | None = None


EvidenceDrafts = Annotated[list[EvidenceDraft], Field(min_length=1, max_length=MAX_EVIDENCE)]
EvidenceList = Annotated[list[Evidence], Field(min_length=1, max_length=MAX_EVIDENCE)]
