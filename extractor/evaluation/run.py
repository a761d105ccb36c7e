"""Run an evaluation: extract (or read) a prediction for every gold file and score it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..input.article import find_article, load_article
from ..output.results import read_json_file
from .score import ArticleScore, score_article

if TYPE_CHECKING:
    from ..pipeline import Extractor

EvalReport = dict[str, Any]


def _article_text(path: Path | None) -> str | None:
    return load_article(path).text if path is not None else None


def run_eval(
    gold_dir: Path,
    *,
    predictions: Path | None = None,
    articles: Path | None = None,
    extractor_factory: Callable[[], Extractor] | None = None,
) -> tuple[EvalReport, list[tuple[str, ArticleScore]]]:
    """Score every gold file; returns (report dict, per-article scores).

    Predictions come from `predictions/<stem>.json` when given, else from extracting the
    article `<stem>` found in `articles` (default: the gold folder's `../seeds` and
    `../corpus`) with the extractor `extractor_factory` builds.
    """
    if not gold_dir.is_dir():
        raise InputError(f"{gold_dir}: not a directory")
    golds = sorted(gold_dir.glob("*.json"))
    if not golds:
        raise InputError(f"{gold_dir}: no gold *.json files")
    folders = [articles] if articles else [gold_dir.parent / "seeds", gold_dir.parent / "corpus"]
    extractor = None
    total = ArticleScore()
    per_article: list[tuple[str, ArticleScore]] = []
    missing: list[str] = []
    for gold_path in golds:
        stem = gold_path.stem
        gold = read_json_file(gold_path)
        article_path = find_article(stem, folders)
        if predictions is not None:
            pred_path = predictions / f"{stem}.json"
            if not pred_path.is_file():
                missing.append(stem)
                predicted: dict[str, Any] = {}
            else:
                predicted = read_json_file(pred_path)
        else:
            if article_path is None:
                raise InputError(f"{stem}: article not found in {', '.join(str(f) for f in folders)}")
            if extractor is None:
                if extractor_factory is None:
                    raise ValueError("run_eval needs predictions= or extractor_factory=")
                extractor = extractor_factory()
            article = load_article(article_path, max_bytes=extractor.settings.max_input_bytes)
            predicted = extractor.extract_article(article).model_dump(mode="json")
        score = score_article(gold, predicted, _article_text(article_path))
        per_article.append((stem, score))
        total.add(score)
    report = {
        "gold_dir": str(gold_dir),
        "articles": {stem: score.as_dict() for stem, score in per_article},
        "total": total.as_dict(),
        "missing_predictions": missing,
    }
    return report, per_article
