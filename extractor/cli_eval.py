"""`extractor eval` (score against gold files) and `extractor review` (HTML review page)."""

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .cli_common import make_extractor, run_guarded, with_provider_options, write_atomically
from .errors import InputError

_ARTICLE_SUFFIXES = (".txt", ".md", ".json", ".html")


def find_article(stem: str, folders: list[Path]) -> Path | None:
    for folder in folders:
        for suffix in _ARTICLE_SUFFIXES:
            path = folder / f"{stem}{suffix}"
            if path.is_file():
                return path
    return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read JSON ({exc})") from None


def _article_text(path: Path | None) -> str | None:
    if path is None:
        return None
    from .article import load_article

    return load_article(path).text


def run_eval(
    gold_dir: Path, *, predictions: Path | None, articles: Path | None, extractor_factory: Any = None
) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """Score every gold file; returns (report dict, per-article scores)."""
    from .evaluate import ArticleScore, score_article

    if not gold_dir.is_dir():
        raise InputError(f"{gold_dir}: not a directory")
    golds = sorted(p for p in gold_dir.glob("*.json"))
    if not golds:
        raise InputError(f"{gold_dir}: no gold *.json files")
    folders = [articles] if articles else [gold_dir.parent / "seeds", gold_dir.parent / "corpus"]
    extractor = None
    total = ArticleScore()
    per_article: list[tuple[str, Any]] = []
    missing: list[str] = []
    for gold_path in golds:
        stem = gold_path.stem
        gold = _read_json(gold_path)
        article_path = find_article(stem, folders)
        if predictions is not None:
            pred_path = predictions / f"{stem}.json"
            if not pred_path.is_file():
                missing.append(stem)
                predicted: dict[str, Any] = {}
            else:
                predicted = _read_json(pred_path)
        else:
            if article_path is None:
                raise InputError(f"{stem}: article not found in {', '.join(str(f) for f in folders)}")
            from .article import load_article

            extractor = extractor or extractor_factory()
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


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    total = report["total"]
    table = Table(title=f"Extraction vs gold ({len(report['articles'])} articles)")
    for column in ("type", "TP", "FP", "FN", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for name, s in [*total["types"].items(), ("overall", total["overall"])]:
        table.add_row(name, str(s["tp"]), str(s["fp"]), str(s["fn"]), _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"]))
    console.print(table)
    fields = Table(title="Key fields on matched pairs")
    for column in ("field", "correct", "total", "accuracy"):
        fields.add_column(column, justify="left" if column == "field" else "right")
    for name, f in total["fields"].items():
        fields.add_row(name, str(f["correct"]), str(f["total"]), _fmt(f["accuracy"]))
    console.print(fields)
    per = Table(title="Per article")
    for column in ("article", "F1", "grounding rate", "dropped"):
        per.add_column(column, justify="left" if column == "article" else "right")
    for stem, s in report["articles"].items():
        per.add_row(stem, _fmt(s["overall"]["f1"]), _fmt(s["grounding_rate"]), str(s["dropped_ungrounded"]))
    console.print(per)
    console.print(
        f"grounding rate {_fmt(total['grounding_rate'])} · dropped as ungrounded {total['dropped_ungrounded']}"
        + (f" · missing predictions: {', '.join(report['missing_predictions'])}" if report["missing_predictions"] else "")
    )


def load_results(path: Path) -> list[dict[str, Any]]:
    """One ArticleExtraction (.json) or a JSONL of them; batch records may wrap it as `result`."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    raw = path.read_text(encoding="utf-8")
    if path.suffix.lower() != ".jsonl":
        return [_read_json(path)]
    results = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: malformed JSON ({exc.msg})") from None
        record = record.get("result", record) if isinstance(record, dict) else None
        if isinstance(record, dict) and "article" in record:
            results.append(record)
    return results


def build_review(result_path: Path, article: Path | None, articles: Path | None) -> str:
    from .review import render_batch, render_page

    results = load_results(result_path)
    if not results:
        raise InputError(f"{result_path}: no results to review")
    if result_path.suffix.lower() != ".jsonl":
        path = article or (find_article(results[0]["article"]["id"], [articles]) if articles else None)
        return render_page(results[0], _article_text(path))
    pairs = []
    for result in results:
        path = find_article(result["article"]["id"], [articles]) if articles else None
        pairs.append((result, _article_text(path)))
    return render_batch(pairs)


def register(app: typer.Typer) -> None:
    @app.command("eval")
    @with_provider_options
    def eval_command(
        gold_dir: Annotated[Path, typer.Argument(help="folder of gold *.json files")],
        predictions: Annotated[
            Optional[Path], typer.Option("--predictions", help="read DIR/<stem>.json instead of extracting")
        ] = None,
        articles: Annotated[
            Optional[Path], typer.Option("--articles", help="article folder (default: GOLD_DIR/../seeds and ../corpus)")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        """Score extractions against gold files: precision/recall/F1, key fields, grounding."""

        def action() -> None:
            given = overrides or {}
            report, _ = run_eval(
                gold_dir, predictions=predictions, articles=articles, extractor_factory=lambda: make_extractor(**given)
            )
            if as_json:
                sys.stdout.write(json.dumps(report, indent=2) + "\n")
            else:
                print_report(report)

        run_guarded(action)

    @app.command("review")
    def review_command(
        result: Annotated[Path, typer.Argument(help="an ArticleExtraction .json, or a .jsonl of them")],
        html_out: Annotated[Path, typer.Option("--html", help="write the page here")],
        article: Annotated[Optional[Path], typer.Option("--article", help="the article text the result came from")] = None,
        articles: Annotated[
            Optional[Path], typer.Option("--articles", help="folder holding <article id>.txt files (batches)")
        ] = None,
    ) -> None:
        """Write a self-contained HTML page highlighting every evidence span."""

        def action() -> None:
            write_atomically(html_out, build_review(result, article, articles))
            typer.echo(f"wrote {html_out}", err=True)

        run_guarded(action)
