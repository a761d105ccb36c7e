"""How fast `extractor events` merges many results, and how well, on synthetic data with known truth.

    .venv/bin/python bench/bench_events.py                       # 1,000 results
    .venv/bin/python bench/bench_events.py --n 5000 --runs 3     # timed three times: the range
    .venv/bin/python bench/bench_events.py --n 1000 --one-story  # every article on the same story

A seeded generator invents underlying events (exercises, deployments, utterances), as many
per year as a steady news flow has, and N articles that each report a few of them the way
different outlets do: the name sometimes dropped or given with its year, a participant left
out, a partial quote, a paraphrased summary, a speaker by surname only, dates off by a day.
`--one-story` instead has every article report the same exercise, deployment and two
utterances over five days (the worst case for merging: one event with N sources). The CLI is
timed end to end (reading and validating the JSONL, merging, writing events and the timeline
page), wall time and the CPU time it used, and the merge is scored against the truth with
pairwise precision/recall.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extractor.events import read_events
from extractor.events.scoring import event_clusters, pairwise_scores

COUNTRIES = [
    ("USA", "United States"),
    ("JPN", "Japan"),
    ("KOR", "South Korea"),
    ("AUS", "Australia"),
    ("PHL", "Philippines"),
    ("GBR", "United Kingdom"),
    ("FRA", "France"),
    ("IND", "India"),
    ("CHN", "China"),
    ("RUS", "Russia"),
    ("TUR", "Turkey"),
    ("POL", "Poland"),
]
ADJECTIVES = [
    "Freedom",
    "Iron",
    "Pacific",
    "Silver",
    "Northern",
    "Steadfast",
    "Vigilant",
    "Cobra",
    "Baltic",
    "Desert",
    "Golden",
    "Valiant",
]
NOUNS = [
    "Edge",
    "Shield",
    "Dragon",
    "Flag",
    "Lion",
    "Strike",
    "Storm",
    "Guardian",
    "Sabre",
    "Thunder",
    "Eagle",
    "Trident",
]
DESIGNATIONS = ["B-52H", "B-1B", "F-35A", "F-16C", "F-22", "KC-135", "E-3", "Su-35", "J-20", "Tu-95"]
PLACES = [
    "Guam",
    "Diego Garcia",
    "Okinawa",
    "Rzeszow",
    "Darwin",
    "Misawa",
    "Kunsan",
    "Fairford",
    "Incirlik",
    "Souda Bay",
]
WORDS = [
    "we",
    "will",
    "not",
    "accept",
    "any",
    "threat",
    "to",
    "our",
    "sovereignty",
    "and",
    "will",
    "respond",
    "firmly",
    "to",
    "every",
    "provocation",
    "while",
    "remaining",
    "open",
    "to",
    "dialogue",
    "with",
    "partners",
    "who",
    "respect",
    "international",
    "law",
    "and",
    "the",
    "security",
    "of",
    "the",
    "region",
    "today",
    "our",
    "forces",
    "demonstrated",
    "readiness",
    "deterrence",
    "cooperation",
    "stability",
    "commitment",
    "alliance",
]
FIRST = ["Ahmed", "Maria", "John", "Li", "Sergei", "Yuki", "Kim", "Fatima", "Omar", "Anna", "Pierre", "Raj"]
LAST = [
    "Tanaka",
    "Petrov",
    "Smith",
    "Wang",
    "Moon",
    "Haddad",
    "Dubois",
    "Sharma",
    "Kowalski",
    "Yilmaz",
    "Santos",
    "Novak",
    "Okafor",
    "Brown",
    "Ivanova",
]
START = dt.date(2025, 1, 1)


def actor(code: str, name: str) -> dict:
    return {"name": name, "canonical_name": None, "country": code, "kind": "state"}


def evidence(quote: str) -> list[dict]:
    return [{"quote": quote, "start": 0, "end": len(quote), "match": "exact"}]


def world(rng: random.Random, n: int) -> dict[str, list[dict]]:
    """Underlying events in proportion to the number of articles, over n/1000 years (so the
    density of look-alike events, hence the difficulty, does not grow with n)."""
    days = max(365, 365 * n // 1000)
    exercises = []
    for number in range(max(10, n // 5)):
        participants = rng.sample(COUNTRIES, rng.randint(2, 4))
        start = START + dt.timedelta(days=rng.randint(0, days - 1))
        exercises.append(
            {
                "name": f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {number}" if rng.random() < 0.5 else None,
                "kind": rng.choice(["air", "naval", "land"]),
                "participants": participants,
                "start": start,
                "end": start + dt.timedelta(days=rng.randint(0, 4)),
            }
        )
    deployments = [
        {
            "designation": rng.choice(DESIGNATIONS),
            "operator": rng.choice(COUNTRIES[:8]),
            "place": rng.choice(PLACES),
            "day": START + dt.timedelta(days=rng.randint(0, days - 1)),
            "count": rng.randint(2, 12),
        }
        for _ in range(max(5, n // 12))
    ]
    speakers = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(60)]
    statements = [
        {
            "speaker": rng.choice(speakers),
            "country": rng.choice(COUNTRIES)[0],
            "quote": " ".join(rng.choice(WORDS) for _ in range(rng.randint(14, 24))),
            "day": START + dt.timedelta(days=rng.randint(0, days - 1)),
        }
        for _ in range(max(20, n // 2))
    ]
    return {"exercise": exercises, "deployment": deployments, "statement": statements}


def one_story(rng: random.Random) -> dict[str, list[dict]]:
    """One exercise, one deployment and two utterances of one speaker, all within days."""
    day = START + dt.timedelta(days=30)
    truth = world(rng, 0)
    truth["exercise"] = truth["exercise"][:1]
    truth["exercise"][0].update(name="Freedom Edge 0", start=day, end=day + dt.timedelta(days=2))
    truth["deployment"] = truth["deployment"][:1]
    truth["deployment"][0]["day"] = day
    truth["statement"] = truth["statement"][:2]
    for said in truth["statement"]:
        said.update(speaker=truth["statement"][0]["speaker"], country=truth["statement"][0]["country"], day=day)
    return truth


class Reported:
    """The underlying events by day, for picking those an article of a given day may report."""

    def __init__(self, truth: dict[str, list[dict]], fields: dict[str, str]) -> None:
        self.truth = truth
        self.by_day: dict[str, dict[dt.date, list[int]]] = {}
        for kind, field in fields.items():
            days: dict[dt.date, list[int]] = defaultdict(list)
            for number, event in enumerate(truth[kind]):
                days[event[field]].append(number)
            self.by_day[kind] = days

    def near(self, kind: str, published: dt.date, before: int, after: int) -> list[int]:
        """Events from `after` days before the article to `before` days after it."""
        found: list[int] = []
        for offset in range(-after, before + 1):
            found.extend(self.by_day[kind].get(published + dt.timedelta(days=offset), ()))
        return found


def report(rng: random.Random, article: str, published: dt.date, reported: Reported, gold: dict) -> dict:
    """One article reporting a few underlying events, in its own wording."""
    result = {
        "schema_version": "1",
        "article": {
            "id": article,
            "title": f"Story {article}",
            "url": f"https://example.org/{article}",
            "published": published.isoformat(),
            "sha256": "0" * 64,
            "chars": 3000,
        },
        "exercises": [],
        "aircraft": [],
        "statements": [],
        "meta": {
            "provider": "bench",
            "model": "none",
            "prompt_version": "1",
            "fingerprint": "bench",
            "extracted_at": "2026-01-01T00:00:00Z",
            "warnings": [],
        },
    }

    # Articles report an exercise from a few days before it (announced) to a week after, a
    # deployment within a week either side, a statement up to a week after it was made.
    truth = reported.truth
    for index in rng.sample(candidates := reported.near("exercise", published, 3, 6), min(2, len(candidates))):
        e = truth["exercise"][index]
        participants = e["participants"] if rng.random() < 0.7 or len(e["participants"]) < 3 else e["participants"][:-1]
        name = e["name"] and rng.choice([e["name"], f"{e['name']} {e['start'].year}", None])
        shift = dt.timedelta(days=rng.choice([0, 0, 0, 1]))
        result["exercises"].append(
            {
                "name": name,
                "description": f"drill {rng.randint(0, 999)}",
                "kind": e["kind"],
                "participants": [actor(*p) for p in participants],
                "start_date": (e["start"] + shift).isoformat(),
                "end_date": (e["end"] + shift).isoformat() if rng.random() < 0.6 else None,
                "date_text": None,
                "location": None,
                "status": "conducted",
                "aircraft": [],
                "evidence": evidence("the drill"),
            }
        )
        gold.setdefault(f"exercise/{index}", set()).add(f"{article}/exercise/{len(result['exercises']) - 1}")
    for index in rng.sample(candidates := reported.near("deployment", published, 7, 7), min(1, len(candidates))):
        d = truth["deployment"][index]
        result["aircraft"].append(
            {
                "designation": d["designation"],
                "name": None,
                "mention": d["designation"],
                "operator": actor(*d["operator"]),
                "count": d["count"] if rng.random() < 0.8 else d["count"] + 2,
                "role": None,
                "home_base": None,
                "deployed_to": rng.choice([d["place"], f"{d['place']} air base"]),
                "nuclear_capable": None,
                "evidence": evidence("bombers deployed"),
            }
        )
        gold.setdefault(f"deployment/{index}", set()).add(f"{article}/deployment/{len(result['aircraft']) - 1}")
    for index in rng.sample(candidates := reported.near("statement", published, 0, 7), min(3, len(candidates))):
        s = truth["statement"][index]
        words = s["quote"].split()
        cut = rng.randint(0, 4) if rng.random() < 0.4 else 0
        speaker = s["speaker"] if rng.random() < 0.8 else s["speaker"].split()[-1]
        result["statements"].append(
            {
                "speaker": {"name": speaker, "canonical_name": None, "country": s["country"], "kind": "person"},
                "speaker_title": None,
                "on_behalf_of": None,
                "channel": None,
                "quote": " ".join(words[cut:]),
                "summary": f"{speaker} spoke",
                "stance": "neutral",
                "targets": [],
                "date": s["day"].isoformat() if rng.random() < 0.5 else None,
                "evidence": evidence(" ".join(words[cut:])),
            }
        )
        gold.setdefault(f"statement/{index}", set()).add(f"{article}/statement/{len(result['statements']) - 1}")
    return result


def write_results(path: Path, n: int, seed: int, story: bool) -> dict[str, set[str]]:
    """N synthetic results as JSONL; returns the true clusters (event key -> mention keys)."""
    rng = random.Random(seed)
    truth = one_story(rng) if story else world(rng, n)
    reported = Reported(truth, {"exercise": "start", "deployment": "day", "statement": "day"})
    gold: dict[str, set[str]] = {}
    days = 5 if story else max(365, 365 * n // 1000)
    first = START + dt.timedelta(days=30) if story else START
    with path.open("w", encoding="utf-8") as out:
        for number in range(n):
            published = first + dt.timedelta(days=rng.randint(0, days - 1))
            out.write(json.dumps(report(rng, f"syn-{number:05d}", published, reported, gold)) + "\n")
    return gold


def timed_run(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, its stderr) of one CLI run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(done.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="number of results")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--runs", type=int, default=1, help="time the CLI this many times")
    parser.add_argument("--one-story", action="store_true", help="every article reports the same events")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.jsonl"
        gold = write_results(results, args.n, args.seed, args.one_story)
        out, page = Path(tmp) / "events.jsonl", Path(tmp) / "timeline.html"
        command = [
            str(Path(sys.executable).with_name("extractor")),
            "events",
            str(results),
            "--out",
            str(out),
            "--html",
            str(page),
        ]
        runs = [timed_run(command) for _ in range(args.runs)]
        walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
        events = read_events(out)
        mentions = sum(len(e.sources) for e in events)
        with open("/proc/loadavg", encoding="ascii") as handle:
            load = handle.read().split()[0]
        print(
            f"{args.n} results{' (one story)' if args.one_story else ''}, {mentions} mentions -> {len(events)} events; "
            f"CLI wall {min(walls):.2f}-{max(walls):.2f} s, CPU {min(cpus):.2f}-{max(cpus):.2f} s over {args.runs} "
            f"run(s) (load average {load}; page {page.stat().st_size // 1024} KiB); {runs[-1][2]}"
        )
        for kind in ("exercise", "deployment", "statement"):
            predicted = event_clusters(e for e in events if e.type == kind)
            expected = [cluster for key, cluster in gold.items() if key.startswith(kind)]
            s = pairwise_scores(predicted, expected)
            print(
                f"  {kind:10} gold events {len(expected):4}  predicted {len(predicted):4}  "
                f"pairs tp {s['tp']:5} fp {s['fp']:4} fn {s['fn']:4}  "
                f"precision {s['precision'] or 0:.3f}  recall {s['recall'] or 0:.3f}"
            )


if __name__ == "__main__":
    main()
