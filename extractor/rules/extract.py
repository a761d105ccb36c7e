"""Run every rule over one article: its exercises, aircraft and statements, each grounded by offsets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..schemas import Aircraft, Exercise, PoliticalStatement
from .aircraft import extract_aircraft
from .context import Context
from .exercises import extract_exercises
from .statements import extract_statements


@dataclass(frozen=True)
class RuleItems:
    """What the rules found in one article, before normalization (names as written, offsets set)."""

    exercises: list[Exercise] = field(default_factory=list)
    aircraft: list[Aircraft] = field(default_factory=list)
    statements: list[PoliticalStatement] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.exercises or self.aircraft or self.statements)


def extract_items(text: str, *, published: dt.date | None = None) -> RuleItems:
    """The items of one article's text; `published` resolves relative dates and spots background."""
    ctx = Context(text, published)
    return RuleItems(
        exercises=extract_exercises(ctx),
        aircraft=extract_aircraft(ctx),
        statements=extract_statements(ctx),
    )
