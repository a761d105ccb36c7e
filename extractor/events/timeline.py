"""The timeline page: one self-contained HTML file of events over time.

Everything is inline (CSS, script, data); no asset is fetched, so the page works offline and
from a file. All text goes through Jinja2 autoescaping. Filters by kind and by participant
(also settable from the URL: `#kind=statement&actor=USA`); each event opens to its sources,
their evidence quotes and the conflicts between them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from importlib import resources
from itertools import groupby

import jinja2

from .models import EventBase
from .store import actors, label

TEMPLATE = "timeline.html.j2"


def when(event: EventBase) -> dt.date | None:
    """The event's own date when a source states one, else when it was first reported."""
    return getattr(event, "start_date", None) or getattr(event, "date", None) or event.first_reported


def _environment() -> jinja2.Environment:
    source = resources.files("extractor.events").joinpath(TEMPLATE).read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals.update(label=label, actors=actors, when=when)
    return env.from_string(source)  # type: ignore[return-value]


def render_timeline(events: Sequence[EventBase], *, title: str = "Events across articles") -> str:
    """The page for these events, earliest first, grouped by month."""
    dated = sorted(events, key=lambda e: (when(e) or dt.date.max, e.id))
    months = [
        (month, list(group))
        for month, group in groupby(dated, key=lambda e: when(e).strftime("%B %Y") if when(e) else "Undated")
    ]
    all_actors = sorted({name for event in events for name in actors(event)}, key=str.casefold)
    template = _environment()
    return template.render(title=title, months=months, all_actors=all_actors, total=len(events))  # type: ignore[attr-defined]
