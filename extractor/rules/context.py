"""One article as the rules see it: its text cut once, actors and designations found once."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property

from ..schemas import Evidence
from .actors import ActorMention, find_actors
from .aircraft_types import DesignationMention, find_designations
from .text import Document, Span, trim

# Longest evidence quote the rules emit: a clause, not a paragraph.
MAX_EVIDENCE_CHARS = 300


@dataclass
class Context:
    """The article text, its publication date, and what every rule module reads from it."""

    text: str
    published: dt.date | None = None

    @cached_property
    def doc(self) -> Document:
        return Document(self.text)

    @cached_property
    def _actors(self) -> list[list[ActorMention]]:
        return [find_actors(sentence) for sentence in self.doc.sentences]

    def actors_in(self, sentence: int) -> list[ActorMention]:
        """The actors named in sentence number `sentence`."""
        return self._actors[sentence] if 0 <= sentence < len(self._actors) else []

    def actors_between(self, start: int, end: int) -> list[ActorMention]:
        first, last = self.doc.sentence_index(start), self.doc.sentence_index(max(start, end - 1))
        return [a for i in range(first, last + 1) for a in self.actors_in(i) if start <= a.span.start < end]

    @cached_property
    def all_actors(self) -> list[ActorMention]:
        return [actor for sentence in self._actors for actor in sentence]

    @cached_property
    def designations(self) -> list[DesignationMention]:
        found = find_designations(self.text)
        kept: list[DesignationMention] = []
        for mention in found:  # "JAS 39 Gripen": one mention, not two
            if kept and mention.span.start < kept[-1].span.end + 2 and mention.designation == kept[-1].designation:
                continue
            kept.append(mention)
        return kept

    def sentence_of(self, offset: int) -> Span:
        return self.doc.sentences[self.doc.sentence_index(offset)]


def evidence(span: Span) -> Evidence:
    """Evidence for a span of the article, with its offsets (what grounding checks)."""
    return Evidence(quote=span.text, start=span.start, end=span.end, match="exact")


_SOFT_BREAK = re.compile(r",\s")


def bounded(within: Span, start: int, end: int, limit: int = MAX_EVIDENCE_CHARS) -> Span:
    """[start, end) widened to the comma-bounded stretch of `within` around it, at most `limit` characters."""
    if within.end - within.start <= limit:
        return within
    left, right = start, end
    for match in _SOFT_BREAK.finditer(within.text):
        at = within.start + match.start()
        if at < start and end - at <= limit:
            left = at + 1
        elif at >= end:
            right = at if at - left <= limit else right
            break
    if right == end:
        right = min(within.end, max(end, left + limit))
    return trim(within, left, right) or within
