"""Hand-made results for the events tests (not a test module).

Each builder returns the JSON form of a contract item, so tests read like the results the
extractor writes. Evidence offsets are made up but consistent (end = start + len(quote)).
"""

from __future__ import annotations

from typing import Any

META = {
    "provider": "test",
    "model": "m",
    "prompt_version": "1",
    "fingerprint": "f",
    "extracted_at": "2025-07-15T00:00:00Z",
    "warnings": [],
}


def actor(name: str, country: str | None = None, canonical: str | None = None, kind: str | None = None) -> dict:
    return {"name": name, "canonical_name": canonical, "country": country, "kind": kind}


def evidence(quote: str, start: int = 0) -> list[dict]:
    return [{"quote": quote, "start": start, "end": start + len(quote), "match": "exact"}]


US, JP, KR = (
    actor("U.S. Air Force", "USA", "United States Air Force"),
    actor("Japan", "JPN"),
    actor("South Korea", "KOR"),
)


def exercise(
    description: str,
    *,
    name: str | None = None,
    kind: str = "air",
    participants: list[dict] | None = None,
    start: str | None = None,
    end: str | None = None,
    date_text: str | None = None,
    location: str | None = None,
    status: str = "conducted",
    quote: str | None = None,
) -> dict:
    return {
        "name": name,
        "description": description,
        "kind": kind,
        "participants": [US, JP, KR] if participants is None else participants,
        "start_date": start,
        "end_date": end,
        "date_text": date_text,
        "location": location,
        "status": status,
        "aircraft": [],
        "evidence": evidence(quote or description),
    }


def aircraft(
    designation: str,
    operator: dict | None = US,
    *,
    deployed_to: str | None = None,
    home_base: str | None = None,
    count: int | None = None,
    role: str | None = "bomber",
    quote: str | None = None,
) -> dict:
    return {
        "designation": designation,
        "name": None,
        "mention": designation,
        "operator": operator,
        "count": count,
        "role": role,
        "home_base": home_base,
        "deployed_to": deployed_to,
        "nuclear_capable": None,
        "evidence": evidence(quote or f"{designation} bombers deployed"),
    }


def statement(
    speaker: dict,
    *,
    summary: str,
    quote: str | None = None,
    stance: str = "criticize",
    date: str | None = None,
    targets: list[dict] | None = None,
) -> dict:
    return {
        "speaker": speaker,
        "speaker_title": None,
        "on_behalf_of": None,
        "channel": None,
        "quote": quote,
        "summary": summary,
        "stance": stance,
        "targets": targets or [],
        "date": date,
        "evidence": evidence(quote or summary),
    }


def result(
    article_id: str,
    published: str | None,
    *,
    exercises: list[dict] = (),  # type: ignore[assignment]
    aircraft: list[dict] = (),  # type: ignore[assignment]
    statements: list[dict] = (),  # type: ignore[assignment]
    title: str | None = None,
) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "article": {
            "id": article_id,
            "title": title or f"Story {article_id}",
            "url": f"https://example.org/{article_id}",
            "published": published,
            "sha256": "0" * 64,
            "chars": 1000,
        },
        "exercises": list(exercises),
        "aircraft": list(aircraft),
        "statements": list(statements),
        "meta": META,
    }
