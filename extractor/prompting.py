"""Render the prompt templates in `prompts/` and fingerprint everything that shapes an answer."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from .input.article import ArticleInput
from .input.block import encode_article, one_line
from .schemas import ExtractionDraft


@dataclass(frozen=True)
class PromptTemplates:
    system: str
    user: str
    version: str


@lru_cache(maxsize=1)
def load_templates() -> PromptTemplates:
    root = resources.files("extractor.prompts")
    return PromptTemplates(
        system=root.joinpath("system.txt").read_text(encoding="utf-8").strip(),
        user=root.joinpath("user.txt").read_text(encoding="utf-8").strip(),
        version=root.joinpath("VERSION").read_text(encoding="utf-8").strip(),
    )


def prompt_version() -> str:
    return load_templates().version


def render_messages(article: ArticleInput, text: str, *, part: int = 1, parts: int = 1) -> list[dict[str, str]]:
    """The system and user messages for one piece of an article.

    Title and text are encoded so that nothing in them can open or close the article block
    (see `input/block.py`): instructions inside an article stay part of the article. The title
    stays on its header line (`one_line`), even in an `ArticleInput` built by hand.
    """
    templates = load_templates()
    title = one_line(article.title) if article.title else ""
    user = templates.user.format(
        part=f"(part {part} of {parts})" if parts > 1 else "",
        title=encode_article(title) if title else "unknown",
        published=article.published.isoformat() if article.published else "unknown",
        text=encode_article(text),
    )
    return [
        {"role": "system", "content": templates.system},
        {"role": "user", "content": user},
    ]


@lru_cache(maxsize=1)
def _draft_schema_json() -> str:
    return json.dumps(ExtractionDraft.model_json_schema(), sort_keys=True)


def fingerprint(*, model: str, decoding: dict[str, Any]) -> str:
    """Equal fingerprints mean a stored result can be reused for the same text."""
    templates = load_templates()
    payload = {
        "system": templates.system,
        "user": templates.user,
        "prompt_version": templates.version,
        "schema": _draft_schema_json(),
        "model": model,
        "decoding": decoding,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
