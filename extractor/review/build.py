"""A review page from result files: find each result's article, then render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from ..input.article import find_article, load_article
from ..input.fetch_cache import stored_text
from ..jobs.store import is_job_store
from ..output.results import load_results
from .render import render_batch, render_page


def _article_text(path: Path | None) -> str | None:
    return load_article(path).text if path is not None else None


def _found_text(result: dict[str, Any], articles: Path | None) -> str | None:
    """The result's article text: a file `<id>.<suffix>` in the folder, or the text a job store kept of a web page."""
    if articles is None:
        return None
    if is_job_store(articles):
        sha256 = result["article"].get("sha256")
        return stored_text(articles, sha256) if isinstance(sha256, str) else None
    return _article_text(find_article(result["article"]["id"], [articles]))


def build_review(result_path: Path, article: Path | None = None, articles: Path | None = None) -> str:
    """The HTML page for one result (.json) or a batch index for a JSONL of results.

    `articles` is a folder of article files, or a batch job store holding the texts of the
    web pages it fetched.
    """
    results = load_results(result_path)
    if not results:
        raise InputError(f"{result_path}: no results to review")
    if result_path.suffix.lower() not in (".jsonl", ".ndjson"):
        text = _article_text(article) if article else _found_text(results[0], articles)
        return render_page(results[0], text)
    return render_batch([(result, _found_text(result, articles)) for result in results])
