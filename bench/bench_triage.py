"""Triage (`extractor batch --triage`), measured: recall, skip rate, CPU, and a triaged batch's summary.

    .venv/bin/python bench/bench_triage.py            # 5 CPU runs
    .venv/bin/python bench/bench_triage.py --runs 3 --json

1. Decisions of `extractor.rules.triage.triage` on the sets the tests use
   (tests/support/triage.py). Relevant: every article with a gold item (gold/), an authored
   reference item (fixtures/reference) or an item in a hand-made events result
   (tests/data/events). Off-topic: tests/data/offtopic (football, markets, a typhoon, a food
   festival) and the corpus stories whose reference answer is empty. Recall = relevant kept /
   relevant; skip rate = off-topic skipped / off-topic. Also the 89 stories of
   corpus/voa_stories.jsonl, which have no labels: how many triage would skip, listed by title
   so they can be judged by eye.
2. CPU: `time.process_time()` of one decision per corpus story, after a warm-up; mean, p95
   and max per run, and their range over the runs.
3. A batch: `extractor batch` in its own process, default settings, over the 89 corpus
   stories and the four off-topic articles, against the fault server (extractor/testing: a
   local OpenAI-compatible server; prompt tokens are its request characters / 4, its answers
   are shorter than a real model's), with `--triage` and without. Reported: requests sent,
   the summary's triage block (articles skipped, estimated tokens and cost saved), and the
   tokens the run without triage actually spent on the articles triage skips.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.rules.triage import triage  # noqa: E402
from extractor.testing.faultserver import FaultServer  # noqa: E402
from tests.support.triage import (  # noqa: E402 (the sets the tests measure)
    article_text,
    off_topic_records,
    stems_with_items,
)

CORPUS_STORIES = ROOT / "corpus" / "voa_stories.jsonl"


def _stories() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS_STORIES.read_text(encoding="utf-8").splitlines()]


def decisions() -> dict[str, Any]:
    relevant = stems_with_items()
    off_topic = off_topic_records()
    stories = _stories()
    relevant_skipped = [stem for stem in relevant if not triage(article_text(stem)).keep]
    off_topic_kept = [record["id"] for record in off_topic if triage(record["text"]).keep]
    stories_skipped = [f"{story['id']} {story['title']}" for story in stories if not triage(story["text"]).keep]
    return {
        "relevant": len(relevant),
        "relevant_skipped": relevant_skipped,
        "recall": (len(relevant) - len(relevant_skipped)) / len(relevant),
        "off_topic": len(off_topic),
        "off_topic_kept": off_topic_kept,
        "off_topic_skip_rate": (len(off_topic) - len(off_topic_kept)) / len(off_topic),
        "stories": len(stories),
        "stories_skipped": stories_skipped,
    }


def cpu(runs: int) -> dict[str, Any]:
    stories = _stories()
    triage(stories[0]["text"])  # imports and caches, once per process
    per_run = []
    for _ in range(runs):
        costs = []
        for story in stories:
            started = time.process_time()
            triage(story["text"])
            costs.append((time.process_time() - started) * 1000)
        costs.sort()
        per_run.append({"mean": statistics.mean(costs), "p95": costs[int(0.95 * (len(costs) - 1))], "max": costs[-1]})
    return {"articles": len(stories), "runs": per_run}


def _batch(inputs: Path, out: Path, server: FaultServer, *extra: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One `extractor batch` run to the end: its JSON summary and its result lines."""
    summary = out.with_suffix(".summary.json")
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-bench",
        "EXTRACTOR_PROVIDER": "openai",
        "EXTRACTOR_BASE_URL": server.base_url,
        "EXTRACTOR_FIXTURES_MODE": "off",
    }
    command = [str(ROOT / ".venv" / "bin" / "extractor"), "batch", str(inputs), "-o", str(out), "--quiet"]
    subprocess.run([*command, "--json-summary", str(summary), *extra], env=env, cwd=ROOT, check=True)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return json.loads(summary.read_text(encoding="utf-8")), lines


def batch() -> dict[str, Any]:
    records = [*_stories(), *off_topic_records()[:4]]
    skipped_ids = {str(record["id"]) for record in records if not triage(record["text"]).keep}
    with tempfile.TemporaryDirectory() as folder, FaultServer() as server:
        inputs = Path(folder) / "in.jsonl"
        inputs.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
        triaged, _ = _batch(inputs, Path(folder) / "triaged.jsonl", server, "--triage")
        sent_triaged = server.stats.requests
        plain, lines = _batch(inputs, Path(folder) / "plain.jsonl", server)
        sent_plain = server.stats.requests - sent_triaged
    spent = [line["meta"]["usage"]["total_tokens"] for line in lines if line["article"]["id"] in skipped_ids]
    return {
        "articles": len(records),
        "requests_with_triage": sent_triaged,
        "requests_without_triage": sent_plain,
        "summary_articles": triaged["articles"],
        "summary_triage": triaged["triage"],
        "cost_with_triage_usd": triaged["estimated_cost_usd"],
        "cost_without_triage_usd": plain["estimated_cost_usd"],
        "tokens_spent_on_skipped_without_triage": sum(spent),
    }


def _print(decided: dict[str, Any], cpu_report: dict[str, Any], run: dict[str, Any]) -> None:
    print("## Triage decisions\n")
    kept = decided["relevant"] - len(decided["relevant_skipped"])
    print(f"recall: {kept} of {decided['relevant']} articles with items kept ({decided['recall']:.0%})", end="")
    print(f"; skipped: {', '.join(decided['relevant_skipped'])}" if decided["relevant_skipped"] else "")
    skipped = decided["off_topic"] - len(decided["off_topic_kept"])
    print(f"off-topic skip rate: {skipped} of {decided['off_topic']} ({decided['off_topic_skip_rate']:.0%})", end="")
    print(f"; kept: {', '.join(decided['off_topic_kept'])}" if decided["off_topic_kept"] else "")
    print(f"corpus stories (unlabelled) skipped: {len(decided['stories_skipped'])} of {decided['stories']}")
    for story in decided["stories_skipped"]:
        print(f"  - {story}")
    print(f"\n## CPU per decision ({cpu_report['articles']} corpus stories, ms)\n")
    means = [one["mean"] for one in cpu_report["runs"]]
    p95s = [one["p95"] for one in cpu_report["runs"]]
    maxima = [one["max"] for one in cpu_report["runs"]]
    print(
        f"mean {min(means):.1f}–{max(means):.1f}, p95 {min(p95s):.1f}–{max(p95s):.1f}, "
        f"max {min(maxima):.1f}–{max(maxima):.1f} over {len(means)} runs"
    )
    print(f"\n## A batch of {run['articles']} articles (corpus stories and off-topic ones), fault server\n")
    counts = run["summary_articles"]
    print(f"with --triage: {counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed; ", end="")
    print(f"{run['requests_with_triage']} requests (without: {run['requests_without_triage']})")
    print(f"summary triage block: {json.dumps(run['summary_triage'])}")
    tokens = run["summary_triage"]["estimated_tokens_saved"]
    estimate = f"{tokens['total_tokens']:,}" if tokens else "none"
    spent = run["tokens_spent_on_skipped_without_triage"]
    print(f"estimated tokens saved: {estimate}; spent on those articles by the run without triage: {spent:,}")
    print(f"estimated cost: ${run['cost_with_triage_usd']} with triage, ${run['cost_without_triage_usd']} without")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="CPU measurement runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = (decisions(), cpu(args.runs), batch())
    if args.json:
        print(json.dumps(dict(zip(("decisions", "cpu", "batch"), results, strict=True)), indent=2))
    else:
        _print(*results)


if __name__ == "__main__":
    main()
