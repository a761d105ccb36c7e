"""Blocking changes the cost of a merge, never its result: the same events as comparing everything.

`reference_cluster` is the plain quadratic merge (every mention against every event, every
member of it); `cluster` files events by block key and week and tests each distinct key of an
event once. Both must give the same groups on the VOA set and on seeded random sets.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from _eventkit import actor, aircraft, exercise, result, statement

from extractor.events import read_results
from extractor.events.cluster import cluster
from extractor.events.mentions import Mention, mentions_of
from extractor.events.rules import RULES, StatementRule
from extractor.events.speakers import same_speaker, speaker_of
from extractor.schemas import ArticleExtraction

DATA = Path(__file__).parent / "data" / "events" / "results"


def reference_cluster(mentions: list[Mention], rule) -> list[list[Mention]]:
    groups: list[list[Mention]] = []
    for mention in sorted(mentions, key=lambda m: m.order):
        for group in groups:
            if all(rule.compatible(mention, other) for other in group) and any(
                rule.similar(mention, other) for other in group
            ):
                group.append(mention)
                break
        else:
            groups.append([mention])
    return groups


def keys(groups: list[list[Mention]]) -> list[list[str]]:
    return [[m.key for m in group] for group in groups]


def assert_same_as_reference(results: list[ArticleExtraction]) -> int:
    mentions = [m for r in results for m in mentions_of(r)]
    merged = 0
    for kind, rule in RULES.items():
        of_kind = [m for m in mentions if m.type == kind]
        blocked = keys(cluster(of_kind, rule))
        assert blocked == keys(reference_cluster(of_kind, rule)), kind
        merged += sum(len(g) > 1 for g in blocked)
    return merged


def test_voa_set_merges_as_without_blocking():
    assert assert_same_as_reference(read_results([DATA])) >= 7


SPEAKERS = [
    actor("Hulusi Akar", "TUR", kind="person"),
    actor("Akar", "TUR", kind="person"),
    actor("Ahmed Sharif Chaudhry", "PAK", kind="person"),
    actor("Chaundry", "PAK", kind="person"),
    actor("Chaudry", "PAK", kind="person"),
    actor("Maria Zakharova", "RUS", kind="person"),
    actor("Zaharova", "RUS", kind="person"),
    actor("KCNA", "PRK", canonical="Korean Central News Agency"),
    actor("Korean Central News Agency", "PRK", canonical="Korean Central News Agency"),
]
QUOTES = [
    "We are not going to integrate this with the NATO systems in any way",
    "All should be aware that Turkey will have to look for alternatives",
    "the terrorists were in contact with their handlers in Afghanistan",
    "The drills are a rehearsal for invasion and will be met with force",
]
NAMES = ["Freedom Edge", "Freedom Edge 2025", "Vigilant Defense", "Talisman Sabre", None, None]
PARTIES = [actor("United States", "USA"), actor("Japan", "JPN"), actor("South Korea", "KOR"), actor("China", "CHN")]


def random_results(seed: int, n: int) -> list[ArticleExtraction]:
    rng = random.Random(seed)
    start = dt.date(2025, 7, 1)
    records = []
    for number in range(n):
        published = start + dt.timedelta(days=rng.randint(0, 20))

        def day(offset: int = 4, published: dt.date = published) -> str | None:
            return (published - dt.timedelta(days=rng.randint(0, offset))).isoformat() if rng.random() < 0.6 else None

        statements = [
            statement(
                rng.choice(SPEAKERS),
                summary=f"{rng.choice(['warned', 'said', 'denied'])} about {rng.choice(['Syria', 'NATO', 'the drill'])}",
                quote=rng.choice(QUOTES)[rng.randint(0, 10) :] if rng.random() < 0.7 else None,
                stance=rng.choice(["criticize", "threaten", "neutral"]),
                date=day(),
                targets=rng.sample(PARTIES, rng.randint(0, 2)),
            )
            for _ in range(rng.randint(0, 3))
        ]
        exercises = [
            exercise(
                f"drill {number}",
                name=rng.choice(NAMES),
                kind=rng.choice(["air", "naval", "joint"]),
                participants=rng.sample(PARTIES, rng.randint(0, 3)),
                start=day(6),
                date_text=rng.choice([None, "Friday", "in July"]),
            )
            for _ in range(rng.randint(0, 2))
        ]
        planes = [
            aircraft(
                rng.choice(["B-52H", "B-52", "B-1B", "F-16C"]),
                rng.choice([PARTIES[0], None]),
                deployed_to=rng.choice(["Guam", "Andersen Air Force Base, Guam", "Diego Garcia", None]),
                home_base=rng.choice(["Minot", None]),
            )
            for _ in range(rng.randint(0, 2))
        ]
        record = result(f"r{number:03d}", published.isoformat() if rng.random() < 0.95 else None)
        record.update(statements=statements, exercises=exercises, aircraft=planes)
        records.append(ArticleExtraction.model_validate(record))
    return records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sets_merge_as_without_blocking(seed):
    assert assert_same_as_reference(random_results(seed, 150)) > 20


def test_speakers_the_rule_accepts_always_share_a_block():
    rule = StatementRule()

    def mention(speaker: dict) -> Mention:
        record = ArticleExtraction.model_validate(
            result("x", "2025-07-01", statements=[statement(speaker, summary="s")])
        )
        return mentions_of(record)[0]

    rng = random.Random(5)
    letters = "abcdefghiklmnorstuy"
    surnames = ["chaudhry", "zakharova", "akar", "nebenzia", "mujahid", "esper"]
    for _ in range(3000):
        base = rng.choice(surnames)
        spelt = list(base)
        for _edit in range(rng.randint(0, 2)):
            at = rng.randrange(len(spelt) + 1)
            if rng.random() < 0.5 and at < len(spelt):
                del spelt[at]
            else:
                spelt.insert(at, rng.choice(letters))
        a = actor(rng.choice(["", "Ahmed ", "Maria "]) + base.title(), "PAK", kind="person")
        b = actor(rng.choice(["", "Ahmed ", "Maria "]) + "".join(spelt).title(), "PAK", kind="person")
        ma, mb = mention(a), mention(b)
        if same_speaker(speaker_of(ma.item.speaker), speaker_of(mb.item.speaker)):
            assert rule.blocks(ma) & rule.blocks(mb), (a["name"], b["name"])


class CountingRule:
    """A rule that counts how often the clusterer asks it about a pair."""

    def __init__(self, rule) -> None:
        self.rule, self.asked = rule, 0
        self.reach_days = rule.reach_days

    def __getattr__(self, name):
        return getattr(self.rule, name)

    def compatible_keys(self, a, b):
        self.asked += 1
        return self.rule.compatible_keys(a, b)

    def similar_keys(self, a, b):
        self.asked += 1
        return self.rule.similar_keys(a, b)

    def compatible(self, a, b):
        return a.article_id != b.article_id and self.compatible_keys(self.veto_key(a), self.veto_key(b))

    def similar(self, a, b):
        return self.similar_keys(self.like_key(a), self.like_key(b))


def test_one_story_in_many_articles_costs_pair_tests_linear_in_the_articles():
    """400 outlets quoting one minister over five days: not 400 x 400 comparisons."""
    rng = random.Random(9)
    quote = "We are not going to integrate this with the NATO systems in any way. It will operate independently"
    records = [
        ArticleExtraction.model_validate(
            result(
                f"o{number:03d}",
                (dt.date(2025, 7, 10) + dt.timedelta(days=rng.randint(0, 4))).isoformat(),
                statements=[
                    statement(
                        rng.choice(SPEAKERS[:2]),
                        quote=quote[rng.randint(0, 20) :],
                        summary=f"Akar on the S-400, outlet {number}",
                        date=rng.choice([None, "2025-07-10"]),
                    )
                ],
            )
        )
        for number in range(400)
    ]
    mentions = [m for r in records for m in mentions_of(r)]
    counting = CountingRule(RULES["statement"])
    groups = cluster(mentions, counting)
    assert [len(g) for g in groups] == [400]
    assert 0 < counting.asked < 4000
    quadratic = CountingRule(RULES["statement"])
    assert keys(reference_cluster(mentions, quadratic)) == keys(groups)
    assert quadratic.asked > 40000
