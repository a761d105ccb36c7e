"""The bundled model deciding only closed choices about the rules' candidates.

The rules find the candidates (with their evidence offsets); SmolLM2-135M is shown them by
id and answers, under a grammar that admits nothing else, one object per candidate id: keep
or drop, and for a statement its stance, for an exercise its kind and status. It never
writes free text, so whatever it answers, every kept item is the rules' own, grounded item.
"""

from __future__ import annotations

import json
from typing import Any

from ..rules.extract import RuleItems
from ..schemas import Aircraft, Exercise, PoliticalStatement
from .model import LocalModel

STANCES = ["support", "cooperate", "criticize", "threaten", "reject", "demand", "neutral"]
KINDS = ["air", "naval", "land", "missile_defense", "joint", "other"]
STATUSES = ["conducted", "ongoing", "planned", "cancelled"]

SYSTEM = (
    "You check items found in a defence news article. For each item id, answer keep=true if the item is real: "
    "an exercise is a military exercise, drill or joint flight that the article reports; an aircraft took part "
    "in the article's events; a statement was said by a government, official, military or state media. "
    "Choose a statement's stance toward its targets and an exercise's kind and status."
)


def _line(item_id: str, quote: str, label: str) -> str:
    return f'{item_id} ({label}): "{" ".join(quote.split())[:220]}"'


def candidate_lines(items: RuleItems) -> list[tuple[str, str]]:
    """(id, line describing it) for every candidate: E1.., A1.., S1.."""
    lines = []
    for n, exercise in enumerate(items.exercises, 1):
        lines.append((f"E{n}", _line(f"E{n}", exercise.evidence[0].quote, f"exercise: {exercise.description}")))
    for n, aircraft in enumerate(items.aircraft, 1):
        lines.append((f"A{n}", _line(f"A{n}", aircraft.evidence[0].quote, f"aircraft: {aircraft.designation}")))
    for n, statement in enumerate(items.statements, 1):
        quote = statement.quote or statement.evidence[0].quote
        lines.append((f"S{n}", _line(f"S{n}", quote, f"statement by {statement.speaker.name}")))
    return lines


def decision_schema(ids: list[str]) -> dict[str, Any]:
    """A JSON schema with exactly one required object per candidate id, every value a closed choice."""
    properties: dict[str, Any] = {}
    for item_id in ids:
        fields: dict[str, Any] = {"keep": {"type": "boolean"}}
        if item_id.startswith("S"):
            fields["stance"] = {"type": "string", "enum": STANCES}
        elif item_id.startswith("E"):
            fields["kind"] = {"type": "string", "enum": KINDS}
            fields["status"] = {"type": "string", "enum": STATUSES}
        properties[item_id] = {
            "type": "object",
            "properties": fields,
            "required": list(fields),
            "additionalProperties": False,
        }
    return {"type": "object", "properties": properties, "required": ids, "additionalProperties": False}


def decide(model: LocalModel, items: RuleItems, title: str | None = None) -> dict[str, dict[str, Any]]:
    """The model's decisions for every candidate, by id (empty when there is no candidate)."""
    lines = candidate_lines(items)
    if not lines:
        return {}
    ids = [item_id for item_id, _ in lines]
    user = (f"Article: {title}\n" if title else "") + "Items:\n" + "\n".join(line for _, line in lines)
    body = {
        "model": "hybrid",
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
        "temperature": 0.0,
        "max_tokens": 40 * len(ids) + 20,
        "seed": 0,
        "response_format": {"type": "json_object", "schema": decision_schema(ids)},
    }
    completion = model.complete(body)
    decided: dict[str, dict[str, Any]] = json.loads(completion["choices"][0]["message"]["content"])
    return decided


def apply(items: RuleItems, decided: dict[str, dict[str, Any]]) -> RuleItems:
    """The candidates the model kept, with its stance, kind and status."""
    exercises: list[Exercise] = []
    for n, exercise in enumerate(items.exercises, 1):
        choice = decided.get(f"E{n}", {})
        if choice.get("keep", True):
            exercises.append(exercise.model_copy(update={k: choice[k] for k in ("kind", "status") if k in choice}))
    aircraft: list[Aircraft] = [
        a for n, a in enumerate(items.aircraft, 1) if decided.get(f"A{n}", {}).get("keep", True)
    ]
    statements: list[PoliticalStatement] = []
    for n, statement in enumerate(items.statements, 1):
        choice = decided.get(f"S{n}", {})
        if choice.get("keep", True):
            statements.append(statement.model_copy(update={"stance": choice.get("stance", statement.stance)}))
    return RuleItems(exercises=exercises, aircraft=aircraft, statements=statements)
