"""The block that carries the article inside the user message, and its parser.

`prompts/user.txt` puts the article between `<<<ARTICLE` and `ARTICLE>>>`, each on a line of
its own. Everything that needs the article back out of a request (the local model's grammar,
replay keys, the fault server) reads it here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ARTICLE_OPEN = "<<<ARTICLE"
ARTICLE_CLOSE = "ARTICLE>>>"


def article_in_message(content: str) -> str | None:
    """The article inside one message's text, without the template's own newlines."""
    start = content.find(ARTICLE_OPEN)
    end = content.rfind(ARTICLE_CLOSE)
    if start < 0 or end < start + len(ARTICLE_OPEN):
        return None
    text = content[start + len(ARTICLE_OPEN) : end]
    text = text[1:] if text.startswith("\n") else text
    return text[:-1] if text.endswith("\n") else text


def article_in_messages(messages: Iterable[Mapping[str, Any]]) -> str | None:
    """The article in the last user message that carries one."""
    for message in reversed(list(messages)):
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str):
            text = article_in_message(content)
            if text is not None:
                return text
    return None
