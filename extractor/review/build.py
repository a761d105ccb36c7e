"""A review page from result files: find each result's article, then render."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..input.article import find_article, load_article
from ..output.results import load_results
from .render import render_batch, render_page


def _article_text(path: Path | None) -> str | None:
    return load_article(path).text if path is not None else None


def build_review(result_path: Path, article: Path | None = None, articles: Path | None = None) -> str:
    """The HTML page for one result (.json) or a batch index for a JSONL of results."""
    results = load_results(result_path)
    if not results:
        raise InputError(f"{result_path}: no results to review")
    if result_path.suffix.lower() not in (".jsonl", ".ndjson"):
        path = article or (find_article(results[0]["article"]["id"], [articles]) if articles else None)
        return render_page(results[0], _article_text(path))
    pairs = []
    for result in results:
        path = find_article(result["article"]["id"], [articles]) if articles else None
        pairs.append((result, _article_text(path)))
    return render_batch(pairs)
