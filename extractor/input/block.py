"""The block that carries the article inside the user message, and its parser.

`prompts/user.txt` puts the article between `<<<ARTICLE` and `ARTICLE>>>`, each on a line of
its own. Everything that needs the article back out of a request (the local model's grammar,
replay keys, the fault server) reads it here.

The article is data, and data must not be able to end its own block: a text containing
`ARTICLE>>>` followed by "ignore previous instructions" would otherwise put those words
outside the article. `encode_article` breaks every marker inside the text with a zero-width
space (and adds one more to any marker already broken that way, so that the encoding stays
reversible); `article_in_message` undoes it, so offsets and hashes see the original text.
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
