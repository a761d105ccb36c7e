"""How many named officials and bodies normalization names right, and how many wrongly.

    .venv/bin/python bench/bench_gazetteer.py            # both sets
    .venv/bin/python bench/bench_gazetteer.py --verbose  # and every miss and error

Two annotated sets, each a list of the actor names a model writes for an article (as
written, with the kind and, for speakers, the title and country it gives) and the canonical
name the right answer is (`expected`; null where the name alone must stay unmatched, as
"Kim"):

- `bench/gazetteer/new.json`: twelve defence-news articles written for this benchmark
  (`bench/gazetteer/articles/`), never published;
- `bench/gazetteer/corpus.json`: the defence articles of `corpus/`.

Each name is normalized as the extractor does, in the context of its article (text and
publication date); an aircraft operator (`operator_of`) goes through an aircraft item.
Reported: coverage (right canonical name / named officials and bodies, local officials apart),
errors (a canonical name that is not the expected one, including one given where none is
expected), and QIDs (right / expected, where the source files give the entity a QID).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extractor.postprocess.gazetteer import load_gazetteer
from extractor.postprocess.keys import alias_key
from extractor.postprocess.normalize import normalize_actor, normalize_extraction
from extractor.postprocess.people import ArticleContext
from extractor.schemas import Actor, ArticleExtraction

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "gazetteer"


def sourced_qids() -> dict[str, str]:
    """Folded canonical name -> QID, for every entry the shipped gazetteer gives a sourced QID."""
    gaz = load_gazetteer()
    found = {alias_key(p.canonical_name): p.qid for p in gaz.people.people if p.qid}
    found.update({alias_key(e.canonical_name): e.qid for e in gaz.states.values() if e.qid})
    return {k: v for k, v in found.items() if v}


def normalized(item: dict[str, Any], context: ArticleContext) -> Actor:
    actor = Actor(name=item["name"], kind=item.get("kind"), country=item.get("country"))
    if "operator_of" not in item:
        return normalize_actor(actor, context=context, title=item.get("title"))
    extraction = ArticleExtraction.model_validate(
        {
            "article": {"id": "x", "sha256": "0" * 64, "chars": 1, "published": context.published},
            "aircraft": [
                {
                    "designation": item["operator_of"],
                    "mention": item["operator_of"],
                    "operator": actor.model_dump(),
                    "evidence": [{"quote": item["name"]}],
                }
            ],
            "meta": {
                "provider": "b",
                "model": "b",
                "prompt_version": "b",
                "fingerprint": "b",
                "extracted_at": dt.datetime.now(dt.UTC),
            },
        }
    )
    operator = normalize_extraction(extraction, text=context.text).aircraft[0].operator
    assert operator is not None
    return operator


def score(articles: list[dict[str, Any]], texts: dict[str, str], published: dict[str, str | None]) -> dict[str, Any]:
    qids = sourced_qids()
    counts = {"named": 0, "right": 0, "wrong": 0, "local": 0, "local_right": 0, "qid_expected": 0, "qid_right": 0}
    misses, errors = [], []
    for article in articles:
        day = article.get("published") or published.get(article["id"])
        context = ArticleContext(texts[article["id"]], dt.date.fromisoformat(day[:10]) if day else None)
        for item in article["actors"]:
            got = normalized(item, context)
            expected = item["expected"]
            if got.canonical_name is not None and got.canonical_name != expected:
                counts["wrong"] += 1
                errors.append((article["id"], item["name"], expected, got.canonical_name))
            if expected is None:
                continue
            if item.get("scope") == "local":
                counts["local"] += 1
                counts["local_right"] += got.canonical_name == expected
                continue
            counts["named"] += 1
            if got.canonical_name == expected:
                counts["right"] += 1
                qid = qids.get(alias_key(expected))
                if qid:
                    counts["qid_expected"] += 1
                    counts["qid_right"] += got.qid == qid
            elif got.canonical_name is None:
                misses.append((article["id"], item["name"], expected))
    return {"counts": counts, "misses": misses, "errors": errors}


def load_set(name: str) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, str | None]]:
    data = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    articles = data["articles"]
    if name == "new":
        texts = {a["id"]: (HERE / "articles" / f"{a['id']}.txt").read_text(encoding="utf-8") for a in articles}
        return articles, texts, {}
    texts = {a["id"]: (ROOT / "corpus" / f"{a['id']}.txt").read_text(encoding="utf-8") for a in articles}
    published: dict[str, str | None] = {}
    for line in (ROOT / "corpus" / "voa_stories.jsonl").read_text(encoding="utf-8").splitlines():
        story = json.loads(line)
        published[f"voa-{story['id']}"] = story.get("published")
    return articles, texts, published


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("new", "corpus", "all"), default="all")
    parser.add_argument("--verbose", action="store_true", help="list every miss and error")
    args = parser.parse_args()
    print(f"gazetteer {load_gazetteer().version}")
    for name in ("new", "corpus") if args.set == "all" else (args.set,):
        result = score(*load_set(name))
        c = result["counts"]
        coverage = c["right"] / c["named"] if c["named"] else 0.0
        print(
            f"{name:7} named officials and bodies {c['named']:3}: right {c['right']:3} ({coverage:.1%}), "
            f"missed {len(result['misses']):2}, wrong {c['wrong']}; sourced QIDs {c['qid_right']}/{c['qid_expected']}; "
            f"local officials {c['local_right']}/{c['local']}"
        )
        if args.verbose:
            for article, written, expected in result["misses"]:
                print(f"    miss   {article}: {written!r} (expected {expected!r})")
            for article, written, expected, got in result["errors"]:
                print(f"    WRONG  {article}: {written!r} -> {got!r} (expected {expected!r})")


if __name__ == "__main__":
    main()
