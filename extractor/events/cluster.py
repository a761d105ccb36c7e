"""Grouping mentions into events with a rule: deterministic, order-independent input."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from .mentions import Mention
from .rules import Rule


def cluster(mentions: Iterable[Mention], rule: Rule) -> list[list[Mention]]:
    """Mentions grouped into events, earliest reported first.

    Mentions are taken in (published, article id, position) order, whatever the input order,
    so the same results always give the same events. A mention joins the first candidate event
    it is compatible with in full and similar to in part (see `rules`), else starts its own.
    """
    groups: list[list[Mention]] = []
    filed: dict[str, list[int]] = defaultdict(list)
    for mention in sorted(mentions, key=lambda m: m.order):
        keys = rule.blocks(mention)
        candidates = sorted({number for key in keys for number in filed.get(key, ())})
        chosen = next(
            (
                number
                for number in candidates
                if all(rule.compatible(mention, other) for other in groups[number])
                and any(rule.similar(mention, other) for other in groups[number])
            ),
            None,
        )
        if chosen is None:
            chosen = len(groups)
            groups.append([])
        groups[chosen].append(mention)
        for key in keys:
            if chosen not in filed[key]:
                filed[key].append(chosen)
    return groups
