"""Metadata at the top of a plain-text article: header lines or simple YAML front matter.

Two forms are recognized, only at the very start of a `.txt` or `.md` file:

    Title: Allies fly bombers over the peninsula        ---
    Published: 2025-07-14                               title: Allies fly bombers ...
    URL: https://example.org/story                      published: 2025-07-14
                                                        ---
    The article text starts after a blank line.         The article text.

Header lines are `Title:`, `Published:` (or `Date:`) and `URL:`, case-insensitive, ending at
the first blank line; a block that is not made only of such lines is article text, not a
header, so an article whose first line merely contains a colon is left alone. Front matter
is `key: value` lines between two `---` lines; unknown keys are ignored, as a static-site
generator's front matter has many. The text handed on is what follows, so evidence offsets
index into the article body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HEADER_KEYS = {"title": "title", "published": "published", "date": "published", "url": "url"}
_HEADER_LINE = re.compile(r"^(?P<key>[A-Za-z]+):[ \t]*(?P<value>.*?)[ \t]*$")
_YAML_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*):(?:[ \t]+(?P<value>.*?))?[ \t]*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<body>.*?)^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_UNKNOWN = {"", "unknown", "n/a", "none", "null", "~"}


@dataclass(frozen=True)
class TextMetadata:
    """The header's fields (title, published, url: those it gave) and the article text after it."""

    text: str
    fields: dict[str, str] = field(default_factory=dict)


def _value(raw: str) -> str | None:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return None if value.lower() in _UNKNOWN else value


def _front_matter(raw: str) -> TextMetadata | None:
    match = _FRONT_MATTER.match(raw)
    if match is None:
        return None
    fields: dict[str, str] = {}
    for line in match.group("body").splitlines():
        if not line.strip() or line[0] in " \t-#":
            continue  # nested YAML, list items, comments: not ours to interpret
        parsed = _YAML_KEY.match(line.rstrip("\r"))
        if parsed is None:
            return None  # prose between two rules ("---") is text, not front matter
        name = HEADER_KEYS.get(parsed.group("key").lower())
        value = _value(parsed.group("value") or "")
        if name and value is not None:
            fields.setdefault(name, value)
    return TextMetadata(text=raw[match.end() :].lstrip("\r\n"), fields=fields)


def _header_lines(raw: str) -> TextMetadata | None:
    lines = raw.split("\n")
    fields: dict[str, str] = {}
    for number, line in enumerate(lines):
        if not line.strip():
            if number == 0 or number + 1 >= len(lines):
                return None
            return TextMetadata(text="\n".join(lines[number + 1 :]).lstrip("\r\n"), fields=fields)
        parsed = _HEADER_LINE.match(line.rstrip("\r"))
        name = HEADER_KEYS.get(parsed.group("key").lower()) if parsed else None
        if parsed is None or name is None:
            return None  # not a header block: the article starts here
        value = _value(parsed.group("value"))
        if value is not None:
            fields.setdefault(name, value)
    return None  # no blank line: a text of "Key: value" lines only is not a header


def split_metadata(raw: str) -> TextMetadata:
    """The header's fields and the article text; a text without a header comes back whole."""
    stripped = raw.lstrip("\ufeff")
    found = _front_matter(stripped) or _header_lines(stripped)
    return found if found is not None else TextMetadata(text=raw)
