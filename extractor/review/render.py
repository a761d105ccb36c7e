"""Render one result (or a batch) as a single HTML file.

The article text is shown with every grounded evidence span highlighted and coloured by item
type; overlapping spans are split into segments, each `<mark data-items="...">` listing every
item it supports. The side list holds one entry per item; clicking one marks and scrolls to
its spans. Items with no grounded evidence and items dropped as ungrounded (meta.warnings)
are listed apart. Without the article text only the items and their quotes are shown.
"""

from __future__ import annotations

import html
from typing import Any

from ..grounding import is_drop_warning
from .assets import CSS, JS

_KINDS = (("exercises", "exercise"), ("aircraft", "aircraft"), ("statements", "statement"))


def _label(kind: str, item: dict[str, Any]) -> str:
    if kind == "aircraft":
        operator = (item.get("operator") or {}).get("abbreviation") or (item.get("operator") or {}).get("name")
        return f"{item.get('designation')} ({item.get('mention')})" + (f" — {operator}" if operator else "")
    if kind == "statement":
        return f"{(item.get('speaker') or {}).get('name')} [{item.get('stance')}]"
    return item.get("name") or item.get("description") or "exercise"


def _detail(kind: str, item: dict[str, Any]) -> str:
    if kind == "exercise":
        parties = ", ".join(a.get("abbreviation") or a.get("name", "") for a in item.get("participants", []))
        return f"{item.get('date_text') or item.get('start_date') or 'undated'} · {parties}"
    if kind == "statement":
        return item.get("summary") or ""
    return f"count {item.get('count')} · role {item.get('role')}"


def _grounded(item: dict[str, Any], text: str | None) -> list[tuple[int, int]]:
    spans = []
    for ev in item.get("evidence", []):
        start, end = ev.get("start"), ev.get("end")
        if ev.get("match") and start is not None and end is not None and (text is None or 0 <= start < end <= len(text)):
            spans.append((start, end))
    return spans


def _highlight(text: str, spans: list[tuple[int, int, str, str]]) -> str:
    """Text with `<mark>` segments; a segment lists every item whose span covers it."""
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    parts = []
    for a, b in zip(cuts, cuts[1:]):
        # Innermost span first: its colour shows (an aircraft inside an exercise's quote).
        covering = [(item_id, kind) for s, e, item_id, kind in sorted(spans, key=lambda x: x[1] - x[0]) if s <= a and b <= e]
        chunk = html.escape(text[a:b])
        if covering:
            ids = " ".join(dict.fromkeys(item_id for item_id, _ in covering))
            parts.append(f'<mark class="t-{covering[0][1]}" data-items="{ids}">{chunk}</mark>')
        else:
            parts.append(chunk)
    return "".join(parts)


def _section(result: dict[str, Any], text: str | None, prefix: str) -> str:
    article = result.get("article") or {}
    spans: list[tuple[int, int, str, str]] = []
    listed: list[str] = []
    ungrounded: list[str] = []
    for field, kind in _KINDS:
        for n, item in enumerate(result.get(field, [])):
            item_id = f"{prefix}{kind[0]}{n}"
            found = _grounded(item, text)
            spans += [(s, e, item_id, kind) for s, e in found]
            quotes = "".join(f"<small>“{html.escape(ev.get('quote', ''))}”</small>" for ev in item.get("evidence", []))
            body = f"<b>{html.escape(_label(kind, item))}</b><small>{html.escape(_detail(kind, item))}</small>{quotes}"
            if found:
                listed.append(f'<li class="item t-{kind}" data-item="{item_id}">{body}</li>')
            else:
                ungrounded.append(f'<li class="item ungrounded t-{kind}">{body}<small>no evidence found in the text</small></li>')
    dropped = [
        f'<li class="item dropped">{html.escape(w)}</li>' for w in (result.get("meta") or {}).get("warnings", []) if is_drop_warning(w)
    ]
    if text is not None:
        body_text = f'<div class="text">{_highlight(text, spans)}</div>'
    else:
        body_text = '<div class="text missing">Article text not available: pass --article (or --articles DIR).</div>'
    side = [f'<h3>Items ({len(listed)})</h3><ul class="items">{"".join(listed)}</ul>']
    if ungrounded:
        side.append(f'<h3>Ungrounded ({len(ungrounded)})</h3><ul class="items">{"".join(ungrounded)}</ul>')
    if dropped:
        side.append(f'<h3>Dropped as ungrounded ({len(dropped)})</h3><ul class="items">{"".join(dropped)}</ul>')
    title = html.escape(article.get("title") or article.get("id") or "article")
    anchor = html.escape(prefix.rstrip("-") or "article")
    return (
        f'<h2 id="{anchor}" style="margin:.5em 1em">{title}</h2>'
        f'<section class="article">{body_text}<div class="side">{"".join(side)}</div></section>'
    )


def _page(title: str, body: str) -> str:
    legend = '<span class="t-exercise">exercise</span><span class="t-aircraft">aircraft</span><span class="t-statement">statement</span>'
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f'<header><b>{html.escape(title)}</b> <span class="legend">{legend}</span></header>'
        f"{body}<script>{JS}</script></body></html>\n"
    )


def render_page(result: dict[str, Any], text: str | None) -> str:
    """One result as a page."""
    article = result.get("article") or {}
    return _page(f"Review: {article.get('title') or article.get('id') or 'article'}", _section(result, text, "r0-"))


def render_batch(results: list[tuple[dict[str, Any], str | None]]) -> str:
    """Several results in one page: an index linking to each embedded article."""
    links = []
    sections = []
    for n, (result, text) in enumerate(results):
        article = result.get("article") or {}
        count = sum(len(result.get(field, [])) for field, _ in _KINDS)
        links.append(f'<li><a href="#r{n}">{html.escape(article.get("title") or article.get("id") or str(n))}</a> ({count} items)</li>')
        sections.append(_section(result, text, f"r{n}-"))
    index = f'<nav style="margin:1em"><h2>Index ({len(results)} articles)</h2><ol>{"".join(links)}</ol></nav>'
    return _page("Review: batch", index + "".join(sections))
