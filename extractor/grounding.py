"""Grounding: find every evidence quote in the article text (placeholder: exact match only)."""

from __future__ import annotations

from typing import Any, Callable

from schemas import ArticleExtraction


def find_span(text: str, quote: str, *, threshold: float = 90.0) -> tuple[int, int, str] | None:
    start = text.find(quote)
    if start >= 0:
        return start, start + len(quote), "exact"
    return None


def make_grounding_check(text: str, *, threshold: float, reasks: int = 1) -> Callable[[Any], None]:
    budget = [reasks]

    def check(draft: Any) -> None:
        missing = [
            ev.quote
            for items in (draft.exercises, draft.aircraft, draft.statements)
            for item in items
            for ev in item.evidence
            if find_span(text, ev.quote, threshold=threshold) is None
        ]
        if missing and budget[0] > 0:
            budget[0] -= 1
            listed = "; ".join(repr(q[:120]) for q in missing[:5])
            raise ValueError(f"evidence quotes not found verbatim in the article: {listed}")

    return check


def ground_extraction(extraction: ArticleExtraction, text: str, *, mode: str, threshold: float) -> ArticleExtraction:
    return extraction
