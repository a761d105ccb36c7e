"""Events across articles: one exercise, deployment or statement with all its sources.

    from extractor.events import merge
    events = merge(results)                      # ArticleExtraction objects or their dicts
    events = merge(new_results, existing=events)  # incremental: ids of unchanged events kept

See docs/events.md for the fields and the matching rules.
"""

from .inputs import read_results
from .merge import merge
from .models import (
    Conflict,
    ConflictValue,
    DeploymentEvent,
    Event,
    EventBase,
    ExerciseEvent,
    Source,
    StatementEvent,
)
from .store import read_events, to_csv, to_jsonl, write_events
from .timeline import render_timeline

__all__ = [
    "Conflict",
    "ConflictValue",
    "DeploymentEvent",
    "Event",
    "EventBase",
    "ExerciseEvent",
    "Source",
    "StatementEvent",
    "merge",
    "read_events",
    "read_results",
    "render_timeline",
    "to_csv",
    "to_jsonl",
    "write_events",
]
