"""The request the current prompts, schema and settings would send for an article."""

from __future__ import annotations

import json
from typing import Any

from ..context import Answerer, answered_by
from .answers import answering_transport

EMPTY_DRAFT = json.dumps({"exercises": [], "aircraft": [], "statements": []})
# Never sent anywhere: the answerer below stands in for the server.
RENDER_API_KEY = "render-no-key"


def first_request(text: str, *, article_id: str | None = None, **settings: Any) -> dict[str, Any]:
    """Run the real Extractor against a stand-in server and return the first body it sent."""
    from ...pipeline import Extractor

    seen: list[dict[str, Any]] = []
    answerer = Answerer(lambda is_async: answering_transport(EMPTY_DRAFT, completion_id="render", seen=seen), "render")
    options = {"provider": "openai", "api_key": RENDER_API_KEY, "grounding": "off", "max_reasks": 0, **settings}
    with answered_by(answerer):
        Extractor(fixtures_mode="off", **options).extract(text, article_id=article_id)
    return seen[0]
