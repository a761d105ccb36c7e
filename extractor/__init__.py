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
    BatchAborted,
    BatchHadFailures,
    Cause,
    ConfigError,
    ExtractionFailed,
    ExtractorError,
    InputError,
    JobStopped,
    LeaseLost,
    ProviderUnavailable,
    ReplayMiss,
    StoreBusy,
)

if TYPE_CHECKING:
    from .input.article import ArticleInput, load_article, make_article
    from .input.web import read_inputs, read_url
    from .jobs.outcome import BatchOutcome, Outcome
    from .model_call.fallback import InternalsFallbackWarning
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
    "BatchOutcome": ".jobs.outcome",
    "Outcome": ".jobs.outcome",
    "load_article": ".input.article",
    "make_article": ".input.article",
    "InternalsFallbackWarning": ".model_call.fallback",
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
    "BatchAborted",
    "BatchHadFailures",
    "BatchOutcome",
    "Cause",
    "ConfigError",
    "Evidence",
    "Exercise",
    "ExtractionFailed",
    "ExtractionMeta",
    "Extractor",
    "ExtractorError",
    "InputError",
    "InternalsFallbackWarning",
    "JobStopped",
    "LeaseLost",
    "Outcome",
    "PoliticalStatement",
    "ProviderUnavailable",
    "ReplayMiss",
    "Settings",
    "StoreBusy",
    "__version__",
    "aextract",
    "extract",
    "load_article",
    "make_article",
    "read_inputs",
    "read_url",
]
