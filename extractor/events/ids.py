"""Event ids: derived from the mention that founded the event, inherited when it grows."""

from __future__ import annotations

import hashlib
from collections import Counter

from .mentions import Mention

PREFIXES = {"exercise": "ex", "deployment": "dep", "statement": "st"}
DIGEST_CHARS = 12


def founding_id(mention: Mention, salt: int = 0) -> str:
    """The id an event gets from its earliest mention: the same input gives the same id."""
    seed = f"{mention.type}|{mention.key}" + (f"|{salt}" if salt else "")
    return f"{PREFIXES[mention.type]}-{hashlib.sha256(seed.encode()).hexdigest()[:DIGEST_CHARS]}"


def assign_ids(groups: list[list[Mention]], previous: dict[str, str]) -> list[str]:
    """One id per group.

    `previous` maps a mention key to the id of the event that held it before (incremental
    merges). A group keeps the id most of its earlier mentions had, so an event that did not
    change, or only gained sources, keeps its id; the bigger group wins an id two groups
    could claim. Anything else gets the id of its founding mention.
    """
    ids: list[str | None] = [None] * len(groups)
    taken: set[str] = set()
    by_size = sorted(range(len(groups)), key=lambda n: (-len(groups[n]), groups[n][0].order))
    for number in by_size:
        votes = Counter(previous[m.key] for m in groups[number] if m.key in previous)
        for old_id, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])):
            if old_id not in taken:
                ids[number] = old_id
                taken.add(old_id)
                break
    for number, group in enumerate(groups):
        if ids[number] is None:
            salt = 0
            while (candidate := founding_id(group[0], salt)) in taken:
                salt += 1
            ids[number] = candidate
            taken.add(candidate)
    return [event_id for event_id in ids if event_id is not None]
