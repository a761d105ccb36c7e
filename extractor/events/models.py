"""The three event kinds an analyst reads, built from items of many articles.

An event holds the merged fields (each one a value that some source states), its `sources`
(one per article, with that article's item and evidence) and the `conflicts` where the
sources disagree, every value listed with the articles that state it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..schemas import (
    Actor,
    Aircraft,
    AircraftRole,
    Evidence,
    Exercise,
    ExerciseKind,
    ExerciseStatus,
    PoliticalStatement,
    Stance,
)

EventType = Literal["exercise", "deployment", "statement"]


class EventModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(EventModel):
    """One article reporting the event, with the item as that article states it."""

    article_id: str
    title: str | None = None
    url: str | None = None
    published: dt.date | None = None
    item_index: int = Field(description="position of the item in the article's list (0-based)")
    evidence: list[Evidence]
    item: dict[str, Any] = Field(description="the extracted item, as in the ArticleExtraction")


class ConflictValue(EventModel):
    """One value some sources state, and which ones."""

    value: Any
    articles: list[str]


class Conflict(EventModel):
    """A field on which the sources disagree: every value stated, with who states it."""

    field: str
    values: list[ConflictValue]


class EventBase(EventModel):
    """What every event has: its id, when it was reported, its sources and conflicts."""

    id: str = Field(description="deterministic: stable across re-runs and incremental merges")
    first_reported: dt.date | None = Field(default=None, description="earliest publication date of a source")
    last_reported: dt.date | None = Field(default=None, description="latest publication date of a source")
    sources: list[Source]
    conflicts: list[Conflict] = []


class ExerciseEvent(EventBase):
    """One exercise, drill or joint flight, however many articles report it."""

    type: Literal["exercise"] = "exercise"
    name: str | None = None
    kind: ExerciseKind
    status: ExerciseStatus | None = None
    participants: list[Actor] = []
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    location: str | None = None
    aircraft: list[str] = []
    description: str


class DeploymentEvent(EventBase):
    """Aircraft of one type and operator placed somewhere; the window is first to last report."""

    type: Literal["deployment"] = "deployment"
    designation: str
    name: str | None = None
    operator: Actor | None = None
    home_base: str | None = None
    deployed_to: str | None = None
    count: int | None = None
    role: AircraftRole | None = None


class StatementEvent(EventBase):
    """One utterance, quoted or reported by one or more articles."""

    type: Literal["statement"] = "statement"
    speaker: Actor
    speaker_title: str | None = None
    quote: str | None = None
    summary: str
    stance: Stance
    targets: list[Actor] = []
    date: dt.date | None = None


Event = Annotated[ExerciseEvent | DeploymentEvent | StatementEvent, Field(discriminator="type")]
"""Any event; the `type` field says which."""

ITEM_MODELS: dict[EventType, type[BaseModel]] = {
    "exercise": Exercise,
    "deployment": Aircraft,
    "statement": PoliticalStatement,
}
