"""The block that carries the article inside the user message, and its parser.

`prompts/user.txt` puts the article between `<<<ARTICLE` and `ARTICLE>>>`, each on a line of
its own. Everything that needs the article back out of a request (the local model's grammar,
replay keys, the fault server) reads it here.

The article is data, and data must not be able to end its own block: a text containing
`ARTICLE>>>` followed by "ignore previous instructions" would otherwise put those words
outside the article. `encode_article` breaks every marker inside the text with a zero-width
space (and adds one more to any marker already broken that way, so that the encoding stays
reversible); `article_in_message` undoes it, so offsets and hashes see the original text.

The header lines above the block (`Title:`, `Published:`) hold one value each: `one_line`
turns the line breaks and control characters of a title into spaces, so a title can never
add a line of its own (a second `Published:`, or text outside the block).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

ARTICLE_OPEN = "<<<ARTICLE"
ARTICLE_CLOSE = "ARTICLE>>>"
# Invisible to readers and to most tokenizers' sense of the text, but it breaks the marker.
BREAK = "\u200b"

# (before, after): a marker is `before + after`; its encoded form has BREAKs in between.
_SPLITS = (("<<<", "ARTICLE"), ("ARTICLE", ">>>"))


def _grow(before: str, after: str) -> re.Pattern[str]:
    return re.compile(f"{re.escape(before)}({BREAK}*){re.escape(after)}")


def _shrink(before: str, after: str) -> re.Pattern[str]:
    return re.compile(f"{re.escape(before)}{BREAK}({BREAK}*){re.escape(after)}")


# C0 and C1 control characters (line feed, carriage return, tab, vertical tab, form feed, NEL,
# ...) and the Unicode line and paragraph separators: every character that may end a line.
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_ENCODE = [(_grow(b, a), f"{b}{BREAK}\\1{a}") for b, a in _SPLITS]
_DECODE = [(_shrink(b, a), f"{b}\\1{a}") for b, a in reversed(_SPLITS)]


def encode_article(text: str) -> str:
    """The text with no marker left in it; `decode_article` gives the original back exactly."""
    for pattern, replacement in _ENCODE:
        text = pattern.sub(replacement, text)
    return text


def decode_article(text: str) -> str:
    """The inverse of `encode_article`."""
    for pattern, replacement in _DECODE:
        text = pattern.sub(replacement, text)
    return text


def one_line(value: str) -> str:
    """`value` on one line: control characters and line breaks become spaces, runs of spaces one."""
    return " ".join(_LINE_BREAKING.sub(" ", value).split())


def has_control_characters(value: str) -> bool:
    """Whether `value` holds a character `one_line` would replace."""
    return _LINE_BREAKING.search(value) is not None


def article_in_message(content: str) -> str | None:
    """The original article inside one message's text, without the template's own newlines."""
    start = content.find(ARTICLE_OPEN)
    if start < 0:
        return None
    body_start = start + len(ARTICLE_OPEN)
    # The first close after the open ends the block: an encoded article cannot contain one.
    end = content.find(ARTICLE_CLOSE, body_start)
    if end < 0:
        return None
    text = content[body_start:end]
    text = text[1:] if text.startswith("\n") else text
    text = text[:-1] if text.endswith("\n") else text
    return decode_article(text)


def article_in_messages(messages: Iterable[Mapping[str, Any]]) -> str | None:
    """The article in the last user message that carries one."""
    for message in reversed(list(messages)):
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str):
            text = article_in_message(content)
            if text is not None:
                return text
    return None
