"""Shared helpers for the rules tests (not a test module): extract with the rules provider, check spans."""

from __future__ import annotations

import datetime as dt

from extractor import Extractor
from extractor.schemas import ArticleExtraction

_EXTRACTOR = Extractor(provider="rules")


def rules(text: str, published: dt.date | str | None = None) -> ArticleExtraction:
    """The rules provider's full result (grounded, normalized, validated) for `text`."""
    return _EXTRACTOR.extract(text, article_id="t", published=published)


def spans_are_exact(result: ArticleExtraction, text: str) -> bool:
    """Every evidence quote sits at its offsets, and every statement quote is in the text."""
    evidence = [
        ev for items in (result.exercises, result.aircraft, result.statements) for i in items for ev in i.evidence
    ]
    quotes = [s.quote for s in result.statements if s.quote]
    return all(
        ev.start is not None and ev.end is not None and text[ev.start : ev.end] == ev.quote and ev.match == "exact"
        for ev in evidence
    ) and all(quote in text for quote in quotes)
