"""Mentions: one item of one article, the unit the matching rules compare."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ..schemas import Aircraft, ArticleExtraction, Exercise, PoliticalStatement
from .models import EventType, Source

Item = Exercise | Aircraft | PoliticalStatement


@dataclass(frozen=True)
class Mention:
    """An item as one article reports it, with the article's identity."""

    type: EventType
    article_id: str
    title: str | None
    url: str | None
    published: dt.date | None
    index: int
    item: Item

    @property
    def key(self) -> str:
        """Unique within a run: the article, the item list and the position in it."""
        return f"{self.article_id}/{self.type}/{self.index}"

    @property
    def order(self) -> tuple[dt.date, str, str, int]:
        # Undated articles sort last; the article id then makes the order total.
        return (self.published or dt.date.max, self.article_id, self.type, self.index)

    def to_source(self) -> Source:
        return Source(
            article_id=self.article_id,
            title=self.title,
            url=self.url,
            published=self.published,
            item_index=self.index,
            evidence=list(self.item.evidence),
            item=self.item.model_dump(mode="json"),
        )


def is_deployment(item: Aircraft) -> bool:
    """An aircraft item is a deployment only when the article places it somewhere."""
    return bool(item.home_base or item.deployed_to)


def mentions_of(result: ArticleExtraction) -> list[Mention]:
    """Every item of one result that can take part in an event."""
    article = result.article
    found: list[Mention] = []

    def add(kind: EventType, items: Iterable[Item]) -> None:
        for index, item in enumerate(items):
            found.append(Mention(kind, article.id, article.title, article.url, article.published, index, item))

    add("exercise", result.exercises)
    # Indexes stay those of the article's aircraft list, so a source points at its item.
    for index, aircraft in enumerate(result.aircraft):
        if is_deployment(aircraft):
            found.append(
                Mention("deployment", article.id, article.title, article.url, article.published, index, aircraft)
            )
    add("statement", result.statements)
    return found


def mention_from_source(kind: EventType, source: Source) -> Mention:
    """Rebuild the mention a stored event source came from (incremental merges)."""
    from .models import ITEM_MODELS

    item = ITEM_MODELS[kind].model_validate(source.item)
    return Mention(kind, source.article_id, source.title, source.url, source.published, source.item_index, item)  # type: ignore[arg-type]
