"""The output contract (version 1.2) as Pydantic models."""

from .aircraft import Aircraft, AircraftDraft, AircraftRole
from .article import (
    DRAFT_CHECK,
    SCHEMA_VERSION,
    Article,
    ArticleExtraction,
    ExtractionDraft,
    ExtractionMeta,
    Notice,
    NoticeCode,
    Usage,
)
from .common import Actor, ActorDraft, ActorKind, Evidence, EvidenceDraft, MatchKind
from .exercise import Exercise, ExerciseDraft, ExerciseKind, ExerciseStatus
from .statement import PoliticalStatement, Stance, StatementDraft

__all__ = [
    "DRAFT_CHECK",
    "SCHEMA_VERSION",
    "Actor",
    "ActorDraft",
    "ActorKind",
    "Aircraft",
    "AircraftDraft",
    "AircraftRole",
    "Article",
    "ArticleExtraction",
    "Evidence",
    "EvidenceDraft",
    "Exercise",
    "ExerciseDraft",
    "ExerciseKind",
    "ExerciseStatus",
    "ExtractionDraft",
    "ExtractionMeta",
    "MatchKind",
    "Notice",
    "NoticeCode",
    "PoliticalStatement",
    "Stance",
    "StatementDraft",
    "Usage",
]
