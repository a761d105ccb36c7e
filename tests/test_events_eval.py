"""The events evaluation set: VOA stories, their results and gold clusters (tests/data/events).

The numbers asserted here are the ones docs/events.md reports; change both together.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest

from extractor.events import merge, read_results
from extractor.events.scoring import event_clusters, pairwise_scores

DATA = Path(__file__).parent / "data" / "events"
SEED = Path(__file__).parents[1] / "seeds"


@pytest.fixture(scope="module")
def results():
    return read_results([DATA / "results"])


@pytest.fixture(scope="module")
def gold():
    return json.loads((DATA / "gold_clusters.json").read_text(encoding="utf-8"))


def test_every_evidence_quote_is_in_its_article(results):
    for result in results:
        folder = SEED if result.article.id.startswith("000_") else DATA / "articles"
        text = (folder / f"{result.article.id}.txt").read_text(encoding="utf-8")
        for item in [*result.exercises, *result.aircraft, *result.statements]:
            for evidence in item.evidence:
                assert text[evidence.start : evidence.end] == evidence.quote


def test_gold_names_existing_items(results, gold):
    counts = {r.article.id: {"statement": len(r.statements), "exercise": len(r.exercises)} for r in results}
    for group in gold["clusters"] + gold["hard_negatives"]:
        for key in group["items"]:
            article, kind, index = key.split("/")
            assert int(index) < counts[article][kind], key


def test_pairwise_precision_and_recall_on_the_voa_set(results, gold):
    events = merge(results)
    scores = pairwise_scores(event_clusters(events), [set(c["items"]) for c in gold["clusters"]])
    assert (scores["tp"], scores["fp"], scores["fn"]) == (7, 0, 0)
    assert (round(scores["precision"], 3), round(scores["recall"], 3)) == (1.0, 1.0)
    # 65 statements, 6 exercises and 2 placed aircraft (of 10) in 14 results
    assert len(results) == 14 and sum(len(e.sources) for e in events) == 73 and len(events) == 66


def test_hard_negatives_stay_apart(results, gold):
    together = {frozenset(pair) for cluster in event_clusters(merge(results)) for pair in combinations(cluster, 2)}
    for group in gold["hard_negatives"]:
        assert frozenset(group["items"]) not in together, group["why"]


def test_scoring_counts_pairs():
    scores = pairwise_scores([{"a", "b", "c"}, {"d"}], [{"a", "b"}, {"c", "d"}])
    assert (scores["tp"], scores["fp"], scores["fn"]) == (1, 2, 1)
    assert scores["precision"] == pytest.approx(1 / 3) and scores["recall"] == pytest.approx(0.5)
    assert pairwise_scores([{"a"}], [{"a"}])["precision"] is None


def test_scoring_counts_as_enumerating_every_pair():
    import random

    rng = random.Random(3)
    mentions = [f"m{i}" for i in range(60)]

    def partition() -> list[set[str]]:
        groups: dict[int, set[str]] = {}
        for m in rng.sample(mentions, 50):
            groups.setdefault(rng.randrange(12), set()).add(m)
        return list(groups.values())

    def enumerated(predicted, gold):
        pairs = lambda clusters: {frozenset(p) for c in clusters for p in combinations(sorted(c), 2)}  # noqa: E731
        p, g = pairs(predicted), pairs(gold)
        return len(p & g), len(p - g), len(g - p)

    for _ in range(20):
        predicted, gold = partition(), partition()
        s = pairwise_scores(predicted, gold)
        assert (s["tp"], s["fp"], s["fn"]) == enumerated(predicted, gold)
