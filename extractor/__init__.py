"""extractor: grounded, validated extraction of military exercises, aircraft and political
statements from news articles.

The public API is re-exported here and imported on first use, so `import extractor` (and the
CLI's `--version`, `--help` and `schema`) stays fast: openai and instructor load only when an
extraction is built.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    ConfigError,
    ExtractionFailed,
    ExtractorError,
    InputError,
    ProviderUnavailable,
    ReplayMiss,
)

if TYPE_CHECKING:
    from .engines.local import BatchOutcome
    from .input.article import ArticleInput, load_article, make_article
    from .input.web import read_inputs, read_url
    from .pipeline import Extractor, aextract, extract
    from .schemas import (
        Actor,
        Aircraft,
        Article,
        ArticleExtraction,
        Evidence,
        Exercise,
        ExtractionMeta,
        PoliticalStatement,
    )
    from .settings import Settings

_LAZY = {
    "Actor": ".schemas",
    "Aircraft": ".schemas",
    "Article": ".schemas",
    "ArticleExtraction": ".schemas",
    "Evidence": ".schemas",
    "Exercise": ".schemas",
    "ExtractionMeta": ".schemas",
    "PoliticalStatement": ".schemas",
    "ArticleInput": ".input.article",
    "BatchOutcome": ".engines.local",
    "load_article": ".input.article",
    "make_article": ".input.article",
    "read_inputs": ".input.web",
    "read_url": ".input.web",
    "Extractor": ".pipeline",
    "aextract": ".pipeline",
    "extract": ".pipeline",
    "Settings": ".settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'extractor' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "Actor",
    "Aircraft",
    "Article",
    "ArticleExtraction",
    "ArticleInput",
    "BatchOutcome",
    "ConfigError",
    "Evidence",
    "Exercise",
    "ExtractionFailed",
    "ExtractionMeta",
    "Extractor",
    "ExtractorError",
    "InputError",
    "PoliticalStatement",
    "ProviderUnavailable",
    "ReplayMiss",
    "Settings",
    "__version__",
    "aextract",
    "extract",
    "load_article",
    "make_article",
    "read_inputs",
    "read_url",
]
