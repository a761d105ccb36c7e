"""The rules provider, measured: quality on the gold articles, CPU per article.

    .venv/bin/python bench/bench_rules.py            # both, 5 CPU runs
    .venv/bin/python bench/bench_rules.py --runs 3 --json

1. Quality: `extractor eval` (run_eval) of `--provider rules` on gold/ (five articles):
   precision, recall and F1 per type (micro, as `extractor eval` prints them) and the mean of
   the per-article F1; ungrounded items (no evidence found at its offsets) and duplicates
   (two items of one type with the same identity in one article). Also, apart, the
   statements of six VOA stories hand-made for the events evaluation (tests/data/events), a
   set the rules were not written against.
2. CPU: `time.process_time()` of one `Extractor(provider="rules").extract` (rules, grounding,
   normalization, validation) per article, over the 89 stories of corpus/voa_stories.jsonl
   and the seed, after one warm-up article; mean, p50, p95 and max per run, and their range
   over the runs.
Triage, which decides with the rules, is measured by bench/bench_triage.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor import Extractor  # noqa: E402
from extractor.evaluation import run_eval, score_article  # noqa: E402
from extractor.evaluation.score import ITEM_TYPES, ArticleScore  # noqa: E402

GOLD = ROOT / "gold"
CORPUS = ROOT / "corpus"
EVENTS = ROOT / "tests" / "data" / "events"
HAND_MADE = ["voa-8006503", "voa-8006651", "voa-8007760", "voa-8009314", "voa-8009976", "voa-8011076"]


def _duplicates(result: dict[str, Any]) -> int:
    keys = {
        "exercises": lambda e: (e["evidence"][0]["start"], e["evidence"][0]["end"]),
        "aircraft": lambda a: (a["designation"], (a["operator"] or {}).get("country"), a["deployed_to"]),
        "statements": lambda s: (s["speaker"]["name"], s["evidence"][0]["start"], s["quote"]),
    }
    return sum(len(result[kind]) - len({key(item) for item in result[kind]}) for kind, key in keys.items())


def _ungrounded(result: dict[str, Any], text: str) -> int:
    return sum(
        1
        for kind in ITEM_TYPES
        for item in result[kind]
        if not any(ev["match"] and text[ev["start"] : ev["end"]] == ev["quote"] for ev in item["evidence"])
    )


def quality() -> dict[str, Any]:
    report, per_article = run_eval(GOLD, extractor_factory=lambda: Extractor(provider="rules"))
    extractor = Extractor(provider="rules")
    ungrounded = duplicates = 0
    for stem, _ in per_article:
        path = (ROOT / "seeds" / f"{stem}.txt") if (ROOT / "seeds" / f"{stem}.txt").exists() else CORPUS / f"{stem}.txt"
        text = path.read_text(encoding="utf-8")
        result = extractor.extract(text, article_id=stem).model_dump(mode="json")
        ungrounded += _ungrounded(result, text)
        duplicates += _duplicates(result)
    mean_f1 = {kind: statistics.mean(score.types[kind].f1 for _, score in per_article) for kind in ITEM_TYPES}
    return {"eval": report["total"], "mean_article_f1": mean_f1, "ungrounded": ungrounded, "duplicates": duplicates}


def held_out() -> dict[str, Any]:
    meta = json.loads((EVENTS / "articles" / "metadata.json").read_text())
    extractor = Extractor(provider="rules")
    total = ArticleScore()
    for stem in HAND_MADE:
        text = (EVENTS / "articles" / f"{stem}.txt").read_text(encoding="utf-8")
        gold = json.loads((EVENTS / "results" / f"{stem}.json").read_text())
        predicted = extractor.extract(text, article_id=stem, published=meta[stem]["published"])
        total.add(score_article(gold, predicted.model_dump(mode="json"), text))
    return total.types["statements"].as_dict()


def _records() -> list[dict[str, Any]]:
    records = [json.loads(line) for line in (CORPUS / "voa_stories.jsonl").read_text(encoding="utf-8").splitlines()]
    seed = (ROOT / "seeds" / "000_dc08afd2001463f6.txt").read_text(encoding="utf-8")
    return [*records, {"id": "seed", "text": seed, "published": None}]


def cpu(runs: int) -> dict[str, Any]:
    records = _records()
    extractor = Extractor(provider="rules")
    extractor.extract(records[0]["text"])  # imports and caches, once per process
    per_run = []
    for _ in range(runs):
        costs = []
        for record in records:
            started = time.process_time()
            extractor.extract(record["text"], article_id=str(record["id"]), published=record.get("published"))
            costs.append((time.process_time() - started) * 1000)
        costs.sort()
        per_run.append(
            {
                "mean": statistics.mean(costs),
                "p50": costs[len(costs) // 2],
                "p95": costs[int(0.95 * (len(costs) - 1))],
                "max": costs[-1],
            }
        )
    return {"articles": len(records), "runs": per_run}


def _print(quality_report: dict[str, Any], held: dict[str, Any], cpu_report: dict[str, Any]) -> None:
    total = quality_report["eval"]
    print("## Rules on the five gold articles (`extractor eval gold --provider rules`)\n")
    print("| type | TP | FP | FN | precision | recall | F1 (micro) | mean F1 of the articles |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in ITEM_TYPES:
        s = total["types"][kind]
        print(
            f"| {kind} | {s['tp']} | {s['fp']} | {s['fn']} | {s['precision']:.3f} | {s['recall']:.3f} | "
            f"{s['f1']:.3f} | {quality_report['mean_article_f1'][kind]:.3f} |"
        )
    print(f"\nungrounded items: {quality_report['ungrounded']} · duplicates: {quality_report['duplicates']}")
    print(
        f"\nHeld out (statements of 6 stories hand-made for the events evaluation): precision {held['precision']:.3f}, "
        f"recall {held['recall']:.3f}, F1 {held['f1']:.3f} (TP {held['tp']}, FP {held['fp']}, FN {held['fn']})"
    )
    print(f"\n## CPU per article ({cpu_report['articles']} articles, ms)\n")
    print("| run | mean | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    for number, run in enumerate(cpu_report["runs"], 1):
        print(f"| {number} | {run['mean']:.1f} | {run['p50']:.1f} | {run['p95']:.1f} | {run['max']:.1f} |")
    means = [run["mean"] for run in cpu_report["runs"]]
    maxima = [run["max"] for run in cpu_report["runs"]]
    print(f"\nmean {min(means):.1f}–{max(means):.1f} ms, max {min(maxima):.1f}–{max(maxima):.1f} ms over the runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="CPU measurement runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = (quality(), held_out(), cpu(args.runs))
    if args.json:
        print(json.dumps(dict(zip(("quality", "held_out", "cpu"), results, strict=True)), indent=2))
    else:
        _print(*results)


if __name__ == "__main__":
    main()
