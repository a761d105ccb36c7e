"""A transport answering with a draft answer, and reading the answer back out of a completion.

The completions themselves are built by `extractor.testing.completions`. Used to author
reference fixtures, to render the request the current code would send, and by
`fixtures check` to re-validate stored answers.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2

from ...testing.completions import answer_for
from ..answer_check import answer_text, asked_answers, draft_quotes

__all__ = ["answer_text", "answering_transport", "asked_answers", "draft_quotes"]


def answering_transport(arguments: str, *, completion_id: str, seen: list[dict[str, Any]] | None = None) -> Any:
    """A sync-and-async transport that answers every chat request with `arguments`."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if seen is not None:
            seen.append(body)
        # Authored answers cost nothing; zero usage says so rather than inventing token counts.
        return httpx2.Response(200, json=answer_for(body, arguments, completion_id=completion_id))

    return httpx2.MockTransport(handle)
