"""Render one result (or a batch) as a single HTML file from the Jinja2 templates beside this module.

The article text is shown with every grounded evidence span highlighted and coloured by item
type; overlapping spans are split into segments, each `<mark data-items="...">` listing every
item it supports. The side list holds one entry per item; clicking one marks and scrolls to
its spans. Items with no grounded evidence and items dropped as ungrounded (`meta.notices`
with code `dropped_ungrounded`) are listed apart. Without the article text only the items and their quotes are shown.

This module only shapes the data; `templates/page.html.j2` writes the markup, with
autoescaping on, so no value reaches the page unescaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from typing import Any

import jinja2

from ..postprocess.notices import with_code
from ..schemas import NoticeCode

_KINDS = (
    ("exercises", "exercise"),
    ("aircraft", "aircraft"),
    ("statements", "statement"),
)
MISSING = "—"
"""Shown for a field the result leaves empty (a count nobody gave), instead of `None`."""

Span = tuple[int, int, str, str]
"""start, end, item id, item kind"""


@dataclass
class ItemView:
    """One item of the side list."""

    item_id: str
    kind: str
    label: str
    detail: str
    quotes: list[str]


@dataclass
class Segment:
    """A run of article text; `ids` lists the items whose evidence covers all of it."""

    text: str
    kind: str | None = None
    ids: list[str] = field(default_factory=list)


@dataclass
class SectionView:
    """One article: its highlighted text (None when not available) and its items."""

    anchor: str
    title: str
    segments: list[Segment] | None
    listed: list[ItemView] = field(default_factory=list)
    ungrounded: list[ItemView] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


@dataclass
class IndexEntry:
    """A batch page's link to one embedded article."""

    anchor: str
    title: str
    count: int


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("extractor.review", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _shown(value: Any) -> str:
    return MISSING if value is None or value == "" else str(value)


def _label(kind: str, item: dict[str, Any]) -> str:
    if kind == "aircraft":
        operator = item.get("operator") or {}
        name = operator.get("abbreviation") or operator.get("name")
        return f"{item.get('designation')} ({item.get('mention')})" + (f" — {name}" if name else "")
    if kind == "statement":
        return f"{(item.get('speaker') or {}).get('name')} [{item.get('stance')}]"
    return item.get("name") or item.get("description") or "exercise"


def _detail(kind: str, item: dict[str, Any]) -> str:
    if kind == "exercise":
        parties = ", ".join(a.get("abbreviation") or a.get("name", "") for a in item.get("participants", []))
        return f"{item.get('date_text') or item.get('start_date') or 'undated'} · {parties}"
    if kind == "statement":
        # When it was said, as the article words it; the resolved day beside it when known.
        when = item.get("date_text") or item.get("date")
        if item.get("date_text") and item.get("date"):
            when = f"{item['date_text']} ({item['date']})"
        summary = item.get("summary") or ""
        return f"{when} · {summary}" if when else summary
    return f"count {_shown(item.get('count'))} · role {_shown(item.get('role'))}"


def _grounded(item: dict[str, Any], text: str | None) -> list[tuple[int, int]]:
    spans = []
    for ev in item.get("evidence", []):
        start, end = ev.get("start"), ev.get("end")
        if (
            ev.get("match")
            and start is not None
            and end is not None
            and (text is None or 0 <= start < end <= len(text))
        ):
            spans.append((start, end))
    return spans


def _segments(text: str, spans: list[Span]) -> list[Segment]:
    """The text cut at every span boundary; a segment lists every item whose span covers it."""
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    innermost_first = sorted(spans, key=lambda span: span[1] - span[0])
    segments = []
    for a, b in pairwise(cuts):
        # Innermost span first: its colour shows (an aircraft inside an exercise's quote).
        covering = [(item_id, kind) for s, e, item_id, kind in innermost_first if s <= a and b <= e]
        ids = list(dict.fromkeys(item_id for item_id, _ in covering))
        segments.append(Segment(text[a:b], covering[0][1] if covering else None, ids))
    return segments


def _section(result: dict[str, Any], text: str | None, prefix: str) -> SectionView:
    article = result.get("article") or {}
    section = SectionView(
        anchor=prefix.rstrip("-") or "article",
        title=article.get("title") or article.get("id") or "article",
        segments=None,
    )
    spans: list[Span] = []
    for field_name, kind in _KINDS:
        for n, item in enumerate(result.get(field_name, [])):
            view = ItemView(
                item_id=f"{prefix}{kind[0]}{n}",
                kind=kind,
                label=_label(kind, item),
                detail=_detail(kind, item),
                quotes=[ev.get("quote", "") for ev in item.get("evidence", [])],
            )
            found = _grounded(item, text)
            spans += [(s, e, view.item_id, kind) for s, e in found]
            (section.listed if found else section.ungrounded).append(view)
    section.dropped = [notice.detail for notice in with_code(result.get("meta"), NoticeCode.DROPPED_UNGROUNDED)]
    if text is not None:
        section.segments = _segments(text, spans)
    return section


def _page(title: str, sections: list[SectionView], index: list[IndexEntry] | None = None) -> str:
    return _environment().get_template("page.html.j2").render(title=title, sections=sections, index=index)


def render_page(result: dict[str, Any], text: str | None) -> str:
    """One result as a page."""
    article = result.get("article") or {}
    title = f"Review: {article.get('title') or article.get('id') or 'article'}"
    return _page(title, [_section(result, text, "r0-")])


def render_batch(results: list[tuple[dict[str, Any], str | None]]) -> str:
    """Several results in one page: an index linking to each embedded article."""
    index = []
    sections = []
    for n, (result, text) in enumerate(results):
        article = result.get("article") or {}
        count = sum(len(result.get(name, [])) for name, _ in _KINDS)
        index.append(IndexEntry(f"r{n}", article.get("title") or article.get("id") or str(n), count))
        sections.append(_section(result, text, f"r{n}-"))
    return _page("Review: batch", sections, index)
