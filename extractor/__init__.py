"""extractor: grounded, validated extraction of military exercises, aircraft and political
statements from news articles."""

from schemas import (
    Actor,
    Aircraft,
    Article,
    ArticleExtraction,
    Evidence,
    Exercise,
    ExtractionMeta,
    PoliticalStatement,
)

from .article import ArticleInput, load_article, make_article
from .errors import (
    ConfigError,
    ExtractionFailed,
    ExtractorError,
    InputError,
    ProviderUnavailable,
    ReplayMiss,
)
from .extract import Extractor, aextract, extract
from .settings import Settings

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "Aircraft",
    "Article",
    "ArticleExtraction",
    "ArticleInput",
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
]
