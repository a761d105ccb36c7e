"""`extractor eval`: score extractions against gold files and print the report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import make_extractor, run_guarded, with_provider_options


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def print_report(report: dict[str, Any]) -> None:
    """The eval report as rich tables on stdout: per type, key fields, per article."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    total = report["total"]
    table = Table(title=f"Extraction vs gold ({len(report['articles'])} articles)")
    for column in ("type", "TP", "FP", "FN", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for name, s in [*total["types"].items(), ("overall", total["overall"])]:
        table.add_row(
            name, str(s["tp"]), str(s["fp"]), str(s["fn"]), _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"])
        )
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
        + (
            f" · missing predictions: {', '.join(report['missing_predictions'])}"
            if report["missing_predictions"]
            else ""
        )
    )


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
        from ..evaluation import run_eval

        report, _ = run_eval(
            gold_dir, predictions=predictions, articles=articles, extractor_factory=lambda: make_extractor(**given)
        )
        if as_json:
            sys.stdout.write(json.dumps(report, indent=2) + "\n")
        else:
            print_report(report)

    run_guarded(action)


def register(app: typer.Typer) -> None:
    """Add `eval` to the app."""
    app.command("eval")(eval_command)
