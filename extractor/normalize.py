"""Normalization (placeholder)."""

from __future__ import annotations

from schemas import ArticleExtraction


def normalize_extraction(extraction: ArticleExtraction) -> ArticleExtraction:
    return extraction
