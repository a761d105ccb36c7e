"""Resolve a `date_text` (an exercise's or a statement's) into start/end dates.

Explicit full dates ("Jul. 11, 2025", "11 July 2025", "2025-07-11", "July 8-12, 2025") are
parsed without any reference. Dates missing the year ("Jul. 11", "in January"), weekdays
("Monday") and "today"/"yesterday" are resolved only against the article's publication date;
with no publication date they stay as text. A bare month resolves to the month's first and
last day (the exercise falls within it). A bare year is too coarse and is left alone.
Past-tense items (conducted, cancelled, ongoing) resolve to the latest match on or before
publication; planned ones to the earliest on or after it. Words of a recurrence ("annual",
"every spring", "twice a year") without a day are no occurrence's date: `is_recurrence` says so,
and normalization leaves such an exercise undated (contract 1.2).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}

_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_DAY2 = r"(?:\s*[-–—]\s*(?P<day2>\d{1,2})(?:st|nd|rd|th)?)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"

_PATTERNS = [
    re.compile(r"(?P<iso>\d{4}-\d{2}-\d{2})"),
    re.compile(_MONTH + r"\s+" + _DAY + _DAY2 + _YEAR + r"\b", re.I),  # Jul. 11, 2025 / July 8-12
    re.compile(_DAY + _DAY2 + r"\s+" + _MONTH + _YEAR + r"\b", re.I),  # 11 July 2025
    re.compile(r"\b" + _MONTH + _YEAR + r"\b", re.I),  # January / January 2025
]

_RECURRENCE = re.compile(
    r"\b(?:(?:bi|semi)?-?annual(?:ly)?|yearly|biennial|every|each|twice|once an?|regular(?:ly)?|recurring|routine)\b",
    re.I,
)

DateRange = tuple[dt.date, dt.date]


def is_recurrence(text: str) -> bool:
    """Whether a date as written names a recurrence and no day of one occurrence."""
    return _RECURRENCE.search(text) is not None and not any(p.search(text) for p in _PATTERNS[:3])


def resolve_date_text(text: str, *, published: dt.date | None, planned: bool = False) -> DateRange | None:
    """The (start, end) a date as written stands for, or None when it cannot be known."""
    lowered = text.strip().lower()
    relative = _relative(lowered, published, planned)
    if relative is not None:
        return relative
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            return _from_match(match, published, planned)
    return None


def _relative(lowered: str, published: dt.date | None, planned: bool) -> DateRange | None:
    if published is None:
        return None
    words = set(re.findall(r"[a-z]+", lowered))
    if "today" in words or "tonight" in words:
        return published, published
    if "yesterday" in words:
        day = published - dt.timedelta(days=1)
        return day, day
    if "tomorrow" in words:
        day = published + dt.timedelta(days=1)
        return day, day
    weekdays = [_WEEKDAYS[w] for w in words if w in _WEEKDAYS]
    if len(weekdays) == 1 and not re.search(r"\d", lowered):
        delta = (published.weekday() - weekdays[0]) % 7
        day = published + dt.timedelta(days=(7 - delta) % 7) if planned else published - dt.timedelta(days=delta)
        return day, day
    return None


def _from_match(match: re.Match[str], published: dt.date | None, planned: bool) -> DateRange | None:
    groups = match.groupdict()
    if groups.get("iso"):
        try:
            day = dt.date.fromisoformat(groups["iso"])
        except ValueError:
            return None
        return day, day
    month = _MONTHS[groups["month"].lower()]
    year = int(groups["year"]) if groups.get("year") else None
    if year is None:
        if published is None:
            return None
        year = _nearest_year(month, published, planned)
    try:
        if groups.get("day") is None:
            return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
        start = dt.date(year, month, int(groups["day"]))
        end = dt.date(year, month, int(groups["day2"])) if groups.get("day2") else start
    except ValueError:  # "February 30"
        return None
    return (start, end) if end >= start else None


def _nearest_year(month: int, published: dt.date, planned: bool) -> int:
    if planned:
        return published.year + 1 if month < published.month else published.year
    return published.year - 1 if month > published.month else published.year
