"""Events files: JSONL (one event a line, readable again for incremental merges) and CSV.

CSV text cells that a spreadsheet would run as a formula are neutralized as `export` does.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from ..errors import InputError
from ..output.export import safe_cell
from ..output.files import write_atomically
from ..schemas import Actor
from .models import DeploymentEvent, Event, EventBase, ExerciseEvent, StatementEvent

_EVENT: TypeAdapter[EventBase] = TypeAdapter(Event)  # type: ignore[arg-type, unused-ignore]  # an Annotated union (older pydantic stubs)
CSV_COLUMNS = (
    "id",
    "type",
    "label",
    "first_reported",
    "last_reported",
    "start_date",
    "end_date",
    "participants",
    "sources",
    "articles",
    "conflicts",
)


def read_events(path: Path) -> list[EventBase]:
    """The events of an events JSONL file written by `write_jsonl`."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read events ({exc})") from None
    events = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(_EVENT.validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InputError(f"{path}:{number}: not an event ({first['msg']})") from None
    return events


def to_jsonl(events: Sequence[EventBase]) -> str:
    """One event a line: id and type first, the sources (the bulk) last, for readers of the raw file."""
    lines = []
    for event in events:
        data = event.model_dump(mode="json")
        head = {"id": data.pop("id"), "type": data.pop("type")}
        tail = {"conflicts": data.pop("conflicts"), "sources": data.pop("sources")}
        lines.append(json.dumps(head | data | tail, ensure_ascii=False) + "\n")
    return "".join(lines)


def label(event: EventBase) -> str:
    """A one-line title for tables and the timeline."""
    if isinstance(event, ExerciseEvent):
        return event.name or event.description
    if isinstance(event, DeploymentEvent):
        operator = event.operator and (event.operator.abbreviation or event.operator.name)
        place = event.deployed_to or event.home_base
        return " ".join(
            part for part in (event.designation, operator and f"({operator})", place and f"→ {place}") if part
        )
    assert isinstance(event, StatementEvent)
    return f"{_name(event.speaker)}: {event.quote or event.summary}"


def _name(actor: Actor) -> str:
    return actor.canonical_name or actor.name


def _names(actors: Sequence[Actor | None]) -> list[str]:
    return list(dict.fromkeys(_name(a) for a in actors if a))


def actors(event: EventBase) -> list[str]:
    """Who the event is about: participants, operator, or speaker and targets."""
    if isinstance(event, ExerciseEvent):
        return _names(event.participants)
    if isinstance(event, DeploymentEvent):
        return _names([event.operator])
    assert isinstance(event, StatementEvent)
    return _names([event.speaker, *event.targets])


def who(event: EventBase) -> str:
    """The actors as a reader takes them in: "Hulusi Akar on United States" for a statement."""
    if not isinstance(event, StatementEvent):
        return ", ".join(actors(event))
    speaker = _name(event.speaker)
    targets = [name for name in _names(event.targets) if name != speaker]
    return f"{speaker} on {', '.join(targets)}" if targets else speaker


def to_csv(events: Sequence[EventBase]) -> str:
    """One row per event, for spreadsheets (conflicts as JSON in one cell).

    `participants` holds an exercise's participants, a deployment's operator, or a
    statement's speaker "on" its targets.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        data = event.model_dump(mode="json")
        row = [
            event.id,
            data["type"],
            label(event),
            data["first_reported"],
            data["last_reported"],
            data.get("start_date") or data.get("date"),
            data.get("end_date"),
            who(event),
            len(event.sources),
            "; ".join(dict.fromkeys(s.article_id for s in event.sources)),
            json.dumps(data["conflicts"], ensure_ascii=False) if event.conflicts else "",
        ]
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


def write_events(path: Path, events: Sequence[EventBase], fmt: str = "jsonl") -> None:
    """Write the events as JSONL or CSV, atomically."""
    write_atomically(path, to_csv(events) if fmt == "csv" else to_jsonl(events))
