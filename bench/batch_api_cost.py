"""Live versus Batch API cost for N articles, from recorded usage and `prices.json`.

    .venv/bin/python bench/batch_api_cost.py                          # usage of the recorded fixtures/
    .venv/bin/python bench/batch_api_cost.py --fixtures my_fixtures/ --n 5000
    .venv/bin/python bench/batch_api_cost.py --summary summary.json   # a job's --json-summary

Tokens per article are the mean over the recorded exchanges (every recorded answer of an
article, re-asks included) or over a job summary; they are scaled to N articles and priced
at each model's live and batch prices. `--live-share` prices that share of the batch job's
tokens at live prices (what the batch left to the live path).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.jobs.summary import price_table  # noqa: E402 (after the path set-up above)


def usage_from_fixtures(folder: Path) -> tuple[float, float, int]:
    """Mean (prompt, completion) tokens an article over recorded fixtures, and how many articles."""
    per_article: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        body = (record.get("response") or {}).get("body")
        usage = body.get("usage") if isinstance(body, dict) else None
        if record.get("origin") != "recorded" or not usage or not usage.get("total_tokens"):
            continue
        article = ((record.get("meta") or {}).get("article") or {}).get("id") or path.name
        per_article[article][0] += int(usage.get("prompt_tokens") or 0)
        per_article[article][1] += int(usage.get("completion_tokens") or 0)
    if not per_article:
        raise SystemExit(f"{folder}: no recorded exchange with token usage")
    count = len(per_article)
    return sum(p for p, _ in per_article.values()) / count, sum(c for _, c in per_article.values()) / count, count


def usage_from_summary(path: Path) -> tuple[float, float, int]:
    summary = json.loads(path.read_text(encoding="utf-8"))
    articles = summary["articles"]["done"] + summary["articles"]["failed"] or 1
    tokens = summary["tokens"]
    return tokens["prompt_tokens"] / articles, tokens["completion_tokens"] / articles, articles


def table(prompt: float, completion: float, n: int, live_share: float) -> str:
    rows = [
        "| model | tokens in / out for N | live USD | batch API USD | saved |",
        "|---|---|---|---|---|",
    ]
    tokens_in, tokens_out = prompt * n, completion * n
    for model, prices in price_table().items():
        if "batch_input" not in prices:
            continue
        live = (tokens_in * prices["input"] + tokens_out * prices["output"]) / 1e6
        at_batch = (tokens_in * prices["batch_input"] + tokens_out * prices["batch_output"]) / 1e6
        batch = (1 - live_share) * at_batch + live_share * live
        saved = f"{(1 - batch / live):.0%}" if live else "-"
        rows.append(f"| {model} | {tokens_in:,.0f} / {tokens_out:,.0f} | {live:.4f} | {batch:.4f} | {saved} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="articles to price")
    parser.add_argument("--fixtures", type=Path, default=ROOT / "fixtures", help="recorded fixtures folder")
    parser.add_argument("--summary", type=Path, help="a batch job's --json-summary instead of fixtures")
    parser.add_argument("--live-share", type=float, default=0.0, help="share of tokens the live path answered")
    args = parser.parse_args()
    if args.summary:
        prompt, completion, count = usage_from_summary(args.summary)
        source = f"{args.summary} ({count} articles)"
    else:
        prompt, completion, count = usage_from_fixtures(args.fixtures)
        source = f"{args.fixtures} ({count} recorded articles)"
    print(f"usage from {source}: {prompt:,.0f} prompt + {completion:,.0f} completion tokens an article; N = {args.n:,}")
    print(table(prompt, completion, args.n, args.live_share))


if __name__ == "__main__":
    main()
