"""The timeline page: one self-contained HTML file of events over time.

Everything is inline (CSS, script, data); no asset is fetched, so the page works offline and
from a file. All text goes through Jinja2 autoescaping, and a source's URL becomes a link only
when it is http(s): a result's `url` is untrusted input (`javascript:`, `data:` stay text). Filters by kind and by participant
(also settable from the URL: `#kind=statement&actor=USA`); each event opens to its sources,
their evidence quotes and the conflicts between them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from importlib import resources
from itertools import groupby
from urllib.parse import urlsplit

import jinja2

from .models import EventBase
from .store import actors, label, who

TEMPLATE = "timeline.html.j2"


def when(event: EventBase) -> dt.date | None:
    """The event's own date when a source states one, else when it was first reported."""
    return getattr(event, "start_date", None) or getattr(event, "date", None) or event.first_reported


LINKED_SCHEMES = {"http", "https"}
# Browsers drop these anywhere in a URL ("java\tscript:" runs as "javascript:").
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]")


def link(url: str | None) -> str | None:
    """The URL to link to, or None when it is not an absolute http(s) address."""
    if not url:
        return None
    cleaned = _URL_NOISE.sub("", url)
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    return cleaned if parts.scheme.lower() in LINKED_SCHEMES and parts.netloc else None


def _template() -> jinja2.Template:
    source = resources.files("extractor.events").joinpath(TEMPLATE).read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals.update(label=label, actors=actors, who=who, when=when, link=link)
    return env.from_string(source)


def _month(event: EventBase) -> str:
    day = when(event)
    return day.strftime("%B %Y") if day else "Undated"


def render_timeline(events: Sequence[EventBase], *, title: str = "Events across articles") -> str:
    """The page for these events, earliest first, grouped by month."""
    dated = sorted(events, key=lambda e: (when(e) or dt.date.max, e.id))
    months = [(month, list(group)) for month, group in groupby(dated, key=_month)]
    all_actors = sorted({name for event in events for name in actors(event)}, key=str.casefold)
    return _template().render(title=title, months=months, all_actors=all_actors, total=len(events))
