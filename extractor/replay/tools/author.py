"""Authored reference fixtures: what a capable model should answer for an article.

The request is rendered by the real Extractor with default settings (model gpt-4o-mini,
tools mode; plain tools, or with `strict` the strict structured outputs api.openai.com gets),
so `--provider replay` finds it; only the answer is written by hand, in
`fixtures/reference/<article id>.json` (an ExtractionDraft), and can be re-authored after
a prompt or schema change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...input.article import load_article
from ...input.reading import checked_file
from ...model_call.client import IN_PROCESS_BASE_URL
from ...schemas import ExtractionDraft
from ..context import Answerer, answered_by, article_scope
from ..keys import request_key
from ..store import store_for
from .answers import answering_transport, draft_quotes
from .render import RENDER_API_KEY

CHAT_PATH = "/v1/chat/completions"  # the path under IN_PROCESS_BASE_URL
AUTHORED_NOTE = "authored reference answer: written by hand from the article (and its gold file), not a model output"


def read_answer(answer_path: Path) -> str:
    """The answer file's JSON text, after checking it is a valid draft."""
    checked_file(answer_path)  # a FIFO or a device is refused before it is opened
    try:
        text = Path(answer_path).read_text(encoding="utf-8")
        ExtractionDraft.model_validate_json(text)
    except OSError as exc:
        raise InputError(f"{answer_path}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise InputError(f"{answer_path}: not a valid ExtractionDraft: {str(exc).splitlines()[0]}") from None
    # Compact, as a model would send it; the file itself stays pretty for review.
    return json.dumps(json.loads(text), ensure_ascii=False)


def unquoted_evidence(answer: str, article_text: str) -> list[str]:
    draft = ExtractionDraft.model_validate_json(answer)
    return [quote for quote in draft_quotes(draft) if quote not in article_text]


def author_fixture(
    article_path: Path, answer_path: Path, fixtures_dir: Path, *, note: str = AUTHORED_NOTE, strict: bool = False
) -> list[Path]:
    """Write the fixture(s) answering `article_path` with `answer_path`; returns their paths.

    `strict`: for the request as OpenAI strict structured outputs (`strict_schema="on"`), which
    `--provider replay --strict-schema on` replays; else for plain tools, the replay default.
    """
    from ...pipeline import Extractor

    article = load_article(article_path)
    answer = read_answer(answer_path)
    missing = unquoted_evidence(answer, article.text)
    if missing:
        raise InputError(f"{answer_path}: quotes not verbatim in {article_path}: {missing[0][:100]!r}")
    seen: list[dict[str, Any]] = []
    label = article.id or "authored"
    answerer = Answerer(
        lambda is_async: answering_transport(answer, completion_id=f"authored-{label}", seen=seen),
        provider="authored",
        origin="authored",
        note=note,
    )
    # No re-asks: an answer the extractor would reject must fail here, not become a chain.
    extractor = Extractor(
        provider="openai",
        api_key=RENDER_API_KEY,
        base_url=IN_PROCESS_BASE_URL,
        fixtures_mode="record",
        fixtures_dir=fixtures_dir,
        max_reasks=0,
        strict_schema="on" if strict else "off",
    )
    with answered_by(answerer), article_scope(article.id):
        extractor.extract_article(article)
    store = store_for(fixtures_dir)
    keys = [request_key("POST", CHAT_PATH, body) for body in seen]
    return [path for path in (store.path_of(key) for key in keys) if path is not None]
