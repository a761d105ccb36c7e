"""Pairwise precision and recall of a merge against gold clusters.

Every pair of mentions counts once: a true positive when both the merge and gold put the two
in one event, a false positive when only the merge does, a false negative when only gold
does. Mentions are named `article id/event type/item index`, as `Source` points at them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .models import EventBase


def mention_key(event: EventBase, index: int) -> str:
    source = event.sources[index]
    return f"{source.article_id}/{event.type}/{source.item_index}"  # type: ignore[attr-defined]


def event_clusters(events: Iterable[EventBase]) -> list[set[str]]:
    return [{mention_key(event, n) for n in range(len(event.sources))} for event in events]


def _pairs(size: int) -> int:
    return size * (size - 1) // 2


def pairwise_scores(predicted: Sequence[set[str]], gold: Sequence[set[str]]) -> dict[str, float | int | None]:
    """tp, fp, fn, precision, recall, f1 over mention pairs (None where undefined).

    Counted, not enumerated: the pairs two clusters share are those of their intersection, so
    an event with thousands of sources costs no more than one with two.
    """
    cluster_of = {mention: number for number, cluster in enumerate(gold) for mention in cluster}
    tp = 0
    for cluster in predicted:
        shared: dict[int, int] = {}
        for mention in cluster:
            if mention in cluster_of:
                shared[cluster_of[mention]] = shared.get(cluster_of[mention], 0) + 1
        tp += sum(_pairs(n) for n in shared.values())
    fp = sum(_pairs(len(c)) for c in predicted) - tp
    fn = sum(_pairs(len(c)) for c in gold) - tp
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}
