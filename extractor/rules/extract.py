"""Run every rule over one article: its exercises, aircraft and statements, each grounded by offsets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..schemas import Aircraft, Exercise, Notice, NoticeCode, PoliticalStatement
from ..schemas.common import MAX_ITEMS
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
    notices: list[Notice] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.exercises or self.aircraft or self.statements)


def extract_items(text: str, *, published: dt.date | None = None) -> RuleItems:
    """The items of one article's text; `published` resolves relative dates and spots background.

    At most the contract's 50 items of a type, the first ones in the text; a warning says
    how many more there were.
    """
    ctx = Context(text, published)
    exercises, aircraft, statements = extract_exercises(ctx), extract_aircraft(ctx), extract_statements(ctx)
    counts = {"exercises": len(exercises), "aircraft": len(aircraft), "statements": len(statements)}
    notices = [
        Notice(code=NoticeCode.ITEMS_CAPPED, detail=f"the rules found {count} {kind}; the first {MAX_ITEMS} are kept")
        for kind, count in counts.items()
        if count > MAX_ITEMS
    ]
    return RuleItems(
        exercises=exercises[:MAX_ITEMS],
        aircraft=aircraft[:MAX_ITEMS],
        statements=statements[:MAX_ITEMS],
        notices=notices,
    )
